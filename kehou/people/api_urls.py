"""/api/v1/ routes of people: tokens, the caller, pupils, teachers, roster import."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from .api import MeView, StudentViewSet, TeacherViewSet, TokenView
from .roster_views import RosterImportView, RosterTemplateView

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("students", StudentViewSet, basename="student")
router.register("teachers", TeacherViewSet, basename="teacher")

urlpatterns: list = [
    path("auth/token", TokenView.as_view(), name="token"),
    path("me/", MeView.as_view(), name="me"),
    path("schools/<int:pk>/roster", RosterImportView.as_view(), name="school-roster"),
    path("schools/<int:pk>/roster/template", RosterTemplateView.as_view(), name="school-roster-template"),
    path("", include(router.urls)),
]
