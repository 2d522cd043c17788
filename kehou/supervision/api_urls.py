"""/api/v1/ routes of supervision."""

from django.urls import path

from . import api

urlpatterns: list = [
    path("dashboard/", api.DashboardView.as_view(), name="dashboard"),
    path("progress-reports/", api.ReportListView.as_view(), name="progress-reports"),
    path("progress-reports/<int:pk>/pdf", api.ReportFileView.as_view(), name="progress-report-pdf"),
    path("progress-reports/<int:pk>/xlsx", api.ReportXlsxView.as_view(), name="progress-report-xlsx"),
]
