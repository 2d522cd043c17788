"""/api/v1/ routes of the core: the audit log."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from .audit_api import AuditEntryViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("audit", AuditEntryViewSet, basename="audit")

urlpatterns: list = [path("", include(router.urls))]
