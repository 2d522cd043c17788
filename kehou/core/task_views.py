"""The failed-tasks page: background tasks that failed past their retries, for the city's operators."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehou.core.pages import ScopedListPage

from . import clock
from .models import FailedTask
from .scope import Scope
from .selectors_tasks import failed_task_list, failed_task_paths, queue_state


def _arguments(failure: FailedTask) -> str:
    args = failure.arguments or {}
    if not args.get("args") and not args.get("kwargs"):
        return ""
    return json.dumps(args, ensure_ascii=False)


class FailedTaskListPage(ScopedListPage):
    """Scoped like every page: rows reach no district or school, so only the city bureau and superusers see any."""

    title = _("Failed background tasks")
    export_name = "failed-tasks"
    search_placeholder = _("Task or error")
    template_name = "core/failed_tasks.html"
    columns = (
        (_("Failed at"), lambda t: timezone.localtime(t.failed_at).strftime("%Y-%m-%d %H:%M:%S")),
        (_("Task"), lambda t: t.task_path),
        (_("Attempts"), lambda t: t.attempts),
        (_("Error"), lambda t: f"{t.error_class.rsplit('.', 1)[-1]}: {t.error}"),
        (_("Arguments"), _arguments),
        (_("Alert not sent"), lambda t: t.hook_error),
        (_("Task result"), lambda t: t.result_id),
    )

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        return failed_task_list(scope=scope, q=g.get("q", ""), task=g.get("task", ""))

    def filters(self) -> list[dict[str, Any]]:
        paths = failed_task_paths(scope=self.scope)
        return [
            {
                "name": "task",
                "label": _("Task"),
                "choices": [(p, p.rsplit(".", 1)[-1]) for p in paths],
                "value": self.request.GET.get("task", ""),
            }
        ]

    def extra_context(self) -> dict[str, Any]:
        if not self.scope.everything:
            return {"queue": None}
        state = queue_state(now=clock.now())
        return {
            "queue": [
                (_("Due, waiting for a worker"), state["due"]),
                (_("Waiting to be retried"), state["later"]),
                (_("Running"), state["running"]),
                (_("Running for over 15 minutes"), state["stuck"]),
                (_("Failed attempts, last 24 hours"), state["failed_attempts_24h"]),
            ]
        }
