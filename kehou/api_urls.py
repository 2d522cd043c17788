"""/api/v1/ — every router and view registered here is walked by the scope test."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from kehou.core.audit_api import AuditEntryViewSet
from kehou.orgs.api import DistrictViewSet, SchoolViewSet
from kehou.people.api import MeView, StudentViewSet, TeacherViewSet, TokenView
from kehou.people.roster_views import RosterImportView, RosterTemplateView

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("schools", SchoolViewSet, basename="school")
router.register("districts", DistrictViewSet, basename="district")
router.register("students", StudentViewSet, basename="student")
router.register("teachers", TeacherViewSet, basename="teacher")
router.register("audit", AuditEntryViewSet, basename="audit")

app_name = "api"
urlpatterns = [
    path("auth/token", TokenView.as_view(), name="token"),
    path("me/", MeView.as_view(), name="me"),
    path("schools/<int:pk>/roster", RosterImportView.as_view(), name="school-roster"),
    path("schools/<int:pk>/roster/template", RosterTemplateView.as_view(), name="school-roster-template"),
    path("", include(router.urls)),
]
