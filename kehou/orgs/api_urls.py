"""/api/v1/ routes of the organisations: schools and districts."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from .api import DistrictViewSet, SchoolViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("schools", SchoolViewSet, basename="school")
router.register("districts", DistrictViewSet, basename="district")

urlpatterns: list = [path("", include(router.urls))]
