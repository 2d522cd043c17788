"""Pages of the core: the audit log, the failed background tasks."""

from django.urls import path

from .audit_views import AuditListPage
from .task_views import FailedTaskListPage

urlpatterns: list = [
    path("audit/", AuditListPage.as_view(), name="audit"),
    path("tasks/failed/", FailedTaskListPage.as_view(), name="failed-tasks"),
]
