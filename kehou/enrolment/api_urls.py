"""/api/v1/ routes of classes, windows, selection and waivers (included from kehou/api_urls.py)."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import api

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("classes", api.CourseClassViewSet, basename="course-class")
router.register("windows", api.WindowViewSet, basename="window")
router.register("enrolments", api.EnrolmentViewSet, basename="enrolment")
router.register("waivers", api.WaiverViewSet, basename="waiver")
router.register("lottery-draws", api.LotteryDrawViewSet, basename="lottery-draw")

urlpatterns: list = [
    # Classes (school admins write; everyone in scope reads)
    path("classes/<int:pk>/update", api.ClassUpdateView.as_view(), name="course-class-update"),
    path("classes/<int:pk>/cancel", api.ClassCancelView.as_view(), name="course-class-cancel"),
    path("classes/<int:pk>/waitlist", api.ClassWaitlistView.as_view(), name="course-class-waitlist"),
    # Selection windows
    path("windows/<int:pk>/update", api.WindowUpdateView.as_view(), name="window-update"),
    path("windows/<int:pk>/publish", api.WindowPublishView.as_view(), name="window-publish"),
    path("windows/<int:pk>/cancel", api.WindowCancelView.as_view(), name="window-cancel"),
    path("windows/<int:pk>/draw", api.WindowDrawView.as_view(), name="window-draw"),
    path("districts/<int:pk>/windows/stagger", api.DistrictStaggerView.as_view(), name="district-windows-stagger"),
    # The parent's flow
    path("children/", api.ChildListView.as_view(), name="children"),
    path("children/<int:pupil_id>/classes", api.ChildClassesView.as_view(), name="child-classes"),
    path("enrolments/<int:pk>/cancel", api.EnrolmentCancelView.as_view(), name="enrolment-cancel"),
    # Waivers
    path("waivers/<int:pk>/decide", api.WaiverDecideView.as_view(), name="waiver-decide"),
    path("waivers/<int:pk>/revoke", api.WaiverRevokeView.as_view(), name="waiver-revoke"),
    # Notifications and the care fee standards
    path("notifications/", api.NotificationListView.as_view(), name="notifications"),
    path("notifications/read", api.NotificationReadView.as_view(), name="notifications-read"),
    path("care-standards/", api.CareStandardListView.as_view(), name="care-standards"),
    path("", include(router.urls)),
]
