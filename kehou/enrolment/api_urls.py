"""/api/v1/ routes of classes, windows, selection and waivers (composed in kehou/api_urls.py)."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from .api import care, classes, draws, selection, waivers, windows

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("classes", classes.CourseClassViewSet, basename="course-class")
router.register("windows", windows.WindowViewSet, basename="window")
router.register("enrolments", selection.EnrolmentViewSet, basename="enrolment")
router.register("waivers", waivers.WaiverViewSet, basename="waiver")
router.register("lottery-draws", draws.LotteryDrawViewSet, basename="lottery-draw")

urlpatterns: list = [
    # Classes (school admins write; everyone in scope reads)
    path("classes/<int:pk>/update", classes.ClassUpdateView.as_view(), name="course-class-update"),
    path("classes/<int:pk>/cancel", classes.ClassCancelView.as_view(), name="course-class-cancel"),
    path("classes/<int:pk>/waitlist", classes.ClassWaitlistView.as_view(), name="course-class-waitlist"),
    # Selection windows
    path("windows/<int:pk>/update", windows.WindowUpdateView.as_view(), name="window-update"),
    path("windows/<int:pk>/publish", windows.WindowPublishView.as_view(), name="window-publish"),
    path("windows/<int:pk>/cancel", windows.WindowCancelView.as_view(), name="window-cancel"),
    path("windows/<int:pk>/draw", windows.WindowDrawView.as_view(), name="window-draw"),
    path("districts/<int:pk>/windows/stagger", windows.DistrictStaggerView.as_view(), name="district-windows-stagger"),
    # The parent's flow
    path("children/", selection.ChildListView.as_view(), name="children"),
    path("children/<int:pupil_id>/classes", selection.ChildClassesView.as_view(), name="child-classes"),
    path("enrolments/<int:pk>/cancel", selection.EnrolmentCancelView.as_view(), name="enrolment-cancel"),
    # Waivers
    path("waivers/<int:pk>/decide", waivers.WaiverDecideView.as_view(), name="waiver-decide"),
    path("waivers/<int:pk>/revoke", waivers.WaiverRevokeView.as_view(), name="waiver-revoke"),
    # Notifications and the care fee standards
    path("care-standards/", care.CareStandardListView.as_view(), name="care-standards"),
    path("", include(router.urls)),
]
