"""/api/v1/ routes of supervision."""

from django.urls import path

from . import api

urlpatterns: list = [
    path("dashboard/", api.DashboardView.as_view(), name="dashboard"),
]
