"""Base classes for server-rendered pages. Scoped reads go through :class:`ScopeGuard` exactly as in the API.

A list page declares ``select(scope)`` (a selector call), ``columns`` (header, value function) and gets: search
and filters from the query string, pagination, and ``?format=xlsx`` Excel export of the whole filtered list.
A detail page declares ``select(scope)``; an object outside the scope is the same 404 as a missing one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views import View

from kehou.core.api import ScopeGuard
from kehou.core.excel import xlsx_response

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
    template_name = "portal/list.html"

    def filters(self) -> list[dict[str, Any]]:
        """Filter controls shown above the list: [{name, label, choices: [(value, label)], value}].

        A control without ``choices`` is a text field. Query parameters that no control shows (e.g. a class
        reached from a link) are kept as hidden fields, so filtering again does not silently drop them.
        """
        return []

    def row_link(self, obj: Any) -> str | None:
        return None

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        qs = self.get_queryset()
        columns = list(self.columns)  # once per request: a subclass may build its columns in a property
        if request.GET.get("format") == "xlsx":
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
            return xlsx_response(
                filename=f"{self.export_name}-{stamp}.xlsx",
                title=str(self.title),
                headers=[str(h) for h, _fn in columns],
                rows=([fn(obj) for _h, fn in columns] for obj in qs.iterator(chunk_size=2000)),
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
