"""Pages of classes, windows, selection and waivers (added to the portal namespace in portal/urls.py)."""

from django.urls import path

from . import views_parent as parent
from . import views_school as school

urlpatterns: list = [
    # Parents (phone first)
    path("parent/", parent.ParentHomePage.as_view(), name="parent-home"),
    path("parent/children/<int:pupil_id>/classes/", parent.ChildClassesPage.as_view(), name="child-classes"),
    path("parent/children/<int:pupil_id>/select", parent.SelectAction.as_view(), name="child-select"),
    path("parent/enrolments/", parent.PlacesPage.as_view(), name="parent-places"),
    path("parent/enrolments/<int:pk>/", parent.PlacePage.as_view(), name="parent-place"),
    path("parent/enrolments/<int:pk>/cancel", parent.CancelAction.as_view(), name="enrolment-cancel"),
    path("parent/notifications/", parent.NotificationsPage.as_view(), name="parent-notifications"),
    # Schools and bureaus
    path("classes/", school.ClassListPage.as_view(), name="classes"),
    path("classes/new/", school.ClassNewPage.as_view(), name="class-new"),
    path("classes/<int:pk>/", school.ClassDetailPage.as_view(), name="class"),
    path("classes/<int:pk>/change", school.ClassChangeAction.as_view(), name="class-change"),
    path("classes/<int:pk>/cancel", school.ClassCancelAction.as_view(), name="class-cancel"),
    path("places/", school.EnrolmentListPage.as_view(), name="places"),
    path("windows/", school.WindowListPage.as_view(), name="windows"),
    path("windows/new/", school.WindowNewPage.as_view(), name="window-new"),
    path("windows/stagger/", school.StaggerPage.as_view(), name="windows-stagger"),
    path("windows/<int:pk>/publish", school.WindowPublishAction.as_view(), name="window-publish"),
    path("windows/<int:pk>/cancel", school.WindowCancelAction.as_view(), name="window-cancel"),
    path("windows/<int:pk>/draw", school.WindowDrawAction.as_view(), name="window-draw"),
    path("waivers/", school.WaiverListPage.as_view(), name="waivers"),
    path("waivers/new/", school.WaiverNewPage.as_view(), name="waiver-new"),
    path("waivers/<int:pk>/decide", school.WaiverDecideAction.as_view(), name="waiver-decide"),
    path("waivers/<int:pk>/revoke", school.WaiverRevokeAction.as_view(), name="waiver-revoke"),
    path("lottery-draws/", school.DrawListPage.as_view(), name="lottery-draws"),
    path("lottery-draws/<int:pk>/", school.DrawDetailPage.as_view(), name="lottery-draw"),
]
