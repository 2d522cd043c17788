"""The notification centre's page: one's own notifications, newest first."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.core import clock
from kehou.core.api import parse_id
from kehou.core.pages import ScopedPage, safe_next
from kehou.core.scope import Scope

from .models import Notification
from .services import mark_read


class NotificationsPage(ScopedPage):
    """One's own notifications; mark one or all read."""

    title = gettext_lazy("Notifications")
    template_name = "notify/notifications.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return Notification.objects.filter(user=self.request.user)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        rows = list(self.get_queryset().order_by("-created_at", "-pk")[:200])
        ctx = self.base_context() | {"notifications": rows, "unread": sum(1 for n in rows if n.read_at is None)}
        return render(request, self.template_name, ctx)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        action = request.POST.get("action", "")
        if action == "read-all":
            n = mark_read(user=request.user, ids=None, now=clock.now())
            messages.success(request, _("%(n)s notifications marked as read.") % {"n": n})
        elif action == "read":
            pk = parse_id(request.POST.get("id", ""))
            if pk is not None:
                mark_read(user=request.user, ids=[pk], now=clock.now())
        else:
            messages.error(request, _("Choose what to mark as read."))
        return HttpResponseRedirect(safe_next(request) or reverse("portal:parent-notifications"))
