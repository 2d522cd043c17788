"""Base classes for server-rendered pages. Scoped reads go through :class:`ScopeGuard` exactly as in the API.

A list page declares ``select(scope)`` (a selector call), ``columns`` (header, value function) and gets: search
and filters from the query string, pagination, and ``?format=xlsx`` Excel export of the whole filtered list.
A detail page declares ``select(scope)``; an object outside the scope is the same 404 as a missing one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from itertools import groupby
from typing import Any, ClassVar

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.handlers.asgi import ASGIRequest
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View

from kehou.core.api import ScopeGuard
from kehou.core.errors import KehouError
from kehou.core.excel import xlsx_response
from kehou.core.money import fen_to_yuan_str

Column = tuple[str | Promise, Callable[[Any], Any]]


class ScopedPage(LoginRequiredMixin, ScopeGuard, View):
    template_name: ClassVar[str] = ""
    title: ClassVar[str | Promise] = ""

    def base_context(self) -> dict[str, Any]:
        return {"title": self.title, "scope": self.scope}


class ScopedListPage(ScopedPage):
    columns: ClassVar[Sequence[Column]] = ()
    paginate_by: ClassVar[int] = 50
    export_name: ClassVar[str] = "export"
    search_placeholder: ClassVar[str | Promise] = _("Search")
    template_name = "core/list.html"

    def filters(self) -> list[dict[str, Any]]:
        """Filter controls shown above the list: [{name, label, choices: [(value, label)], value}].

        A control without ``choices`` is a text field. Query parameters that no control shows (e.g. a class
        reached from a link) are kept as hidden fields, so filtering again does not silently drop them.
        """
        return []

    def row_link(self, obj: Any) -> str | None:
        return None

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        qs = self.get_queryset()
        columns = list(self.columns)  # once per request: a subclass may build its columns in a property
        if request.GET.get("format") == "xlsx":
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
            return xlsx_response(
                filename=f"{self.export_name}-{stamp}.xlsx",
                title=str(self.title),
                headers=[str(h) for h, _fn in columns],
                rows=([fn(obj) for _h, fn in columns] for obj in qs.iterator(chunk_size=2000)),
                asynchronous=isinstance(request, ASGIRequest),
            )
        page = Paginator(qs, self.paginate_by).get_page(request.GET.get("page"))
        rows = [{"cells": [fn(obj) for _h, fn in columns], "link": self.row_link(obj)} for obj in page.object_list]
        query = request.GET.copy()
        query.pop("page", None)
        filters = self.filters()
        shown = {"q", "page", "format"} | {f["name"] for f in filters}
        hidden = [(k, v) for k, v in request.GET.items() if k not in shown and v]
        ctx = self.base_context() | {
            "headers": [h for h, _fn in columns],
            "rows": rows,
            "page_obj": page,
            "filters": filters,
            "hidden_filters": hidden,
            "filtered": any(v for k, v in request.GET.items() if k not in {"page", "format"}),
            "search": request.GET.get("q", ""),
            "search_placeholder": self.search_placeholder,
            "query": query.urlencode(),
        }
        ctx.update(self.extra_context())
        return render(request, self.template_name, ctx)

    def extra_context(self) -> dict[str, Any]:
        return {}


class ScopedDetailPage(ScopedPage):
    pk_url_kwarg: ClassVar[str] = "pk"

    def get_object(self) -> Model:
        try:
            return self.get_queryset().get(pk=self.kwargs[self.pk_url_kwarg])  # type: ignore[no-any-return]
        except (self.get_queryset().model.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404 from exc

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        ctx = self.base_context() | {"object": obj}
        ctx.update(self.extra_context(obj))
        return render(request, self.template_name, ctx)

    def extra_context(self, obj: Any) -> dict[str, Any]:
        return {}


def grades_of(classes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group a school's class summary (rows of grade, class_name, pupils) by grade, with a pupil count per grade."""
    grades = []
    for grade, rows in groupby(classes, key=lambda c: c["grade"]):
        members = list(rows)
        grades.append({"grade": grade, "classes": members, "pupils": sum(c["pupils"] for c in members)})
    return grades


def query_day(request: HttpRequest) -> date:
    """The day a page shows (``?date=YYYY-MM-DD``): today when missing or unreadable (a page never errs on it)."""
    from kehou.core import clock

    try:
        return date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return timezone.localdate(clock.now())


def safe_next(request: HttpRequest) -> str | None:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return None


# --- display helpers and the action page every app's pages use ----------------------------------------------
def yuan(fen: int | None) -> str:
    return "" if fen is None else f"¥{fen_to_yuan_str(fen)}"


def local(dt: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return timezone.localtime(dt).strftime(fmt) if dt else ""


def duration(seconds: int) -> str:
    """Seconds as the countdown shows them before its script runs: "1 d 02:03:04" or "02:03:04"."""
    seconds = max(int(seconds), 0)
    days, rest = divmod(seconds, 86400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days} {gettext('d')} {text}" if days else text


def post_button(
    request: HttpRequest,
    url: str,
    label: str,
    *,
    extra: dict[str, Any] | None = None,
    confirm: str = "",
    css: str = "small",
) -> SafeString:
    hidden = {"csrfmiddlewaretoken": get_token(request), "next": request.get_full_path(), **(extra or {})}
    inputs = format_html_join("", '<input type="hidden" name="{}" value="{}">', hidden.items())
    confirm_attr = format_html(' data-confirm="{}"', confirm) if confirm else ""
    return format_html(
        '<form method="post" action="{}" class="inline-action"{}>{}<button type="submit" class="{}">{}</button></form>',
        url,
        confirm_attr,
        inputs,
        css,
        label,
    )


def cells(parts: list[SafeString]) -> SafeString:
    return format_html_join("", "{}", ((p,) for p in parts))


def exporting(request: HttpRequest) -> bool:
    return request.GET.get("format") == "xlsx"


class ActionPage(ScopedPage):
    """A POST-only action on one scoped row: the row is read through the scope first (404 when out of scope), then
    one service call, then back with a message. A service refusal is shown as its message, never a 500."""

    http_method_names: ClassVar[list[str]] = ["post"]  # type: ignore[misc]
    pk_url_kwarg: ClassVar[str] = "pk"

    def get_object(self) -> Model:
        try:
            return self.get_queryset().get(pk=self.kwargs[self.pk_url_kwarg])  # type: ignore[no-any-return]
        except (self.get_queryset().model.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404 from exc

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        raise NotImplementedError

    def fallback(self, obj: Any) -> str:
        return reverse("portal:home")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        target: str | None = None
        try:
            message, target = self.act(request, obj)
        except KehouError as exc:
            if exc.status == 404:
                raise Http404 from exc
            messages.error(request, exc.message)
        else:
            messages.success(request, message)
        return HttpResponseRedirect(target or safe_next(request) or self.fallback(obj))
