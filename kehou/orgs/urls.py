"""Pages of the organisations: the schools list."""

from django.urls import path

from .views import SchoolListPage

urlpatterns: list = [
    path("schools/", SchoolListPage.as_view(), name="schools"),
]
