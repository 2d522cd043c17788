"""Pages of classes, windows, selection and waivers (composed into the page namespace in kehou/page_urls.py)."""

from django.urls import path

from .views import classes, draws, parent, waivers, windows

urlpatterns: list = [
    # Parents (phone first)
    path("parent/", parent.ParentHomePage.as_view(), name="parent-home"),
    path("parent/children/<int:pupil_id>/classes/", parent.ChildClassesPage.as_view(), name="child-classes"),
    path("parent/children/<int:pupil_id>/select", parent.SelectAction.as_view(), name="child-select"),
    path("parent/enrolments/", parent.PlacesPage.as_view(), name="parent-places"),
    path("parent/enrolments/<int:pk>/", parent.PlacePage.as_view(), name="parent-place"),
    path("parent/enrolments/<int:pk>/cancel", parent.CancelAction.as_view(), name="enrolment-cancel"),
    # Schools and bureaus
    path("classes/", classes.ClassListPage.as_view(), name="classes"),
    path("classes/new/", classes.ClassNewPage.as_view(), name="class-new"),
    path("classes/<int:pk>/", classes.ClassDetailPage.as_view(), name="class"),
    path("classes/<int:pk>/change", classes.ClassChangeAction.as_view(), name="class-change"),
    path("classes/<int:pk>/cancel", classes.ClassCancelAction.as_view(), name="class-cancel"),
    path("places/", classes.EnrolmentListPage.as_view(), name="places"),
    path("windows/", windows.WindowListPage.as_view(), name="windows"),
    path("windows/new/", windows.WindowNewPage.as_view(), name="window-new"),
    path("windows/stagger/", windows.StaggerPage.as_view(), name="windows-stagger"),
    path("windows/<int:pk>/publish", windows.WindowPublishAction.as_view(), name="window-publish"),
    path("windows/<int:pk>/cancel", windows.WindowCancelAction.as_view(), name="window-cancel"),
    path("windows/<int:pk>/draw", windows.WindowDrawAction.as_view(), name="window-draw"),
    path("waivers/", waivers.WaiverListPage.as_view(), name="waivers"),
    path("waivers/new/", waivers.WaiverNewPage.as_view(), name="waiver-new"),
    path("waivers/<int:pk>/decide", waivers.WaiverDecideAction.as_view(), name="waiver-decide"),
    path("waivers/<int:pk>/revoke", waivers.WaiverRevokeAction.as_view(), name="waiver-revoke"),
    path("lottery-draws/", draws.DrawListPage.as_view(), name="lottery-draws"),
    path("lottery-draws/<int:pk>/", draws.DrawDetailPage.as_view(), name="lottery-draw"),
]
