"""The standards page: categories, fee standards, the 20 quality standards, review policies."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.core import clock
from kehou.core.api import parse_id
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError
from kehou.core.money import yuan_str_to_fen
from kehou.core.pages import (
    ScopedListPage,
    local,
    yuan,
)
from kehou.core.scope import Scope
from kehou.orgs.models import Region

from ..models import (
    Category,
    FeeStandard,
    ReviewPolicy,
)
from ..selectors import (
    standards_in_view,
)
from ..services import standards
from .common import _category_choices, points


class StandardsPage(ScopedListPage):
    """Fee standards (the city's, and a district's own for its schools) and the review policies, with forms for the
    bureaus to set them. Amounts are typed in yuan and kept in fen."""

    title = gettext_lazy("Fee standards and review rules")
    export_name = "fee-standards"
    search_placeholder = gettext_lazy("Category")
    template_name = "catalog/admin_standards.html"

    columns = (
        (gettext_lazy("Applies to"), lambda s: _("City standard") if s.region.is_city else s.region.name),
        (gettext_lazy("Category"), lambda s: s.category.name),
        (gettext_lazy("Lowest fee per class hour"), lambda s: yuan(s.min_fee_fen)),
        (gettext_lazy("Highest fee per class hour"), lambda s: yuan(s.max_fee_fen)),
        (gettext_lazy("Teacher pay per class hour"), lambda s: yuan(s.teacher_pay_fen)),
        (gettext_lazy("Set at"), lambda s: local(s.set_at)),
    )

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        qs = FeeStandard.objects.select_related("region", "category").filter(standards_in_view(scope))
        if g.get("region"):
            qs = qs.filter(region__code=g["region"])
        if search := g.get("q", "").strip():
            qs = qs.filter(category__name__icontains=search)
        if g.get("category"):
            qs = qs.filter(category__code=g["category"])
        return qs.order_by("region__code", "category__order")

    def _regions(self) -> list[Region]:
        """Regions whose standards the viewer sets: the city and every district (city bureau), or its districts."""
        scope = self.scope
        if scope.everything:
            return list(Region.objects.order_by("code"))
        return list(Region.objects.filter(pk__in=scope.district_ids).order_by("code"))

    def filters(self) -> list[dict[str, Any]]:
        g = self.request.GET
        scope = self.scope
        in_view = FeeStandard.objects.filter(standards_in_view(scope)).values("region_id")
        regions = Region.objects.filter(pk__in=in_view)
        choices = [(r.code, _("City standard") if r.is_city else r.name) for r in regions.order_by("code")]
        return [
            {"name": "region", "label": _("Applies to"), "choices": choices, "value": g.get("region", "")},
            {
                "name": "category",
                "label": _("Category"),
                "choices": _category_choices(),
                "value": g.get("category", ""),
            },
        ]

    def extra_context(self) -> dict[str, Any]:
        regions = self._regions()
        policies = (
            ReviewPolicy.objects.select_related("region").filter(standards_in_view(self.scope)).order_by("region__code")
        )
        return {
            "regions": [(r.code, _("City standard") if r.is_city else r.name) for r in regions],
            "districts": [(r.code, r.name) for r in regions if not r.is_city],
            "categories": _category_choices(),
            "policies": [
                {
                    "region": _("City") if p.region.is_city else p.region.name,
                    "panel_size": p.panel_size,
                    "admit": points(p.admit_threshold_bp),
                    "back": points(p.return_threshold_bp),
                }
                for p in policies
            ],
            "may_set": bool(regions),
        }

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        action = request.POST.get("action", "")
        try:
            message = self._act(request, action)
        except KehouError as exc:
            if exc.status == 404:
                raise Http404 from exc
            messages.error(request, exc.message)
        else:
            messages.success(request, message)
        return HttpResponseRedirect(reverse("portal:standards"))

    def _act(self, request: HttpRequest, action: str) -> str:
        p = request.POST
        if action not in ("fee", "clear", "policy"):
            raise KehouError(_("Choose what to change."), code=ErrorCode.INVALID_ACTION)
        region = Region.objects.filter(code=p.get("region", "")).first()
        if region is None:
            raise KehouError(_("Choose where the standard applies."), code=ErrorCode.REGION_REQUIRED)
        if action == "policy":
            values = {k: parse_id(p.get(k, "").strip()) for k in ("panel_size",)}
            admit, back = _points_to_bp(p.get("admit", "")), _points_to_bp(p.get("back", ""))
            if values["panel_size"] is None or admit is None or back is None:
                raise KehouError(_("Fill in the panel size and both thresholds."), code=ErrorCode.INVALID_REVIEW_POLICY)
            standards.review_policy_set(
                actor=request.user,
                region=region,
                panel_size=values["panel_size"],
                admit_threshold_bp=admit,
                return_threshold_bp=back,
                now=clock.now(),
            )
            return _("The review rules of %(r)s were saved.") % {"r": region.name}
        category = Category.objects.filter(code=p.get("category", "")).first()
        if category is None:
            raise KehouError(_("Choose a category."), code=ErrorCode.CATEGORY_REQUIRED)
        if action == "clear":
            standards.fee_standard_clear(actor=request.user, region=region, category=category, now=clock.now())
            return _("%(r)s now follows the city's standard for %(c)s.") % {"r": region.name, "c": category.name}
        try:
            amounts = {k: yuan_str_to_fen(p.get(k, "")) for k in ("min_fee", "max_fee", "teacher_pay")}
        except ValueError as exc:
            raise KehouError(_("Amounts are in yuan, e.g. 30 or 30.50."), code=ErrorCode.INVALID_AMOUNT) from exc
        standards.fee_standard_set(
            actor=request.user,
            region=region,
            category=category,
            min_fee_fen=amounts["min_fee"],
            max_fee_fen=amounts["max_fee"],
            teacher_pay_fen=amounts["teacher_pay"],
            now=clock.now(),
        )
        return _("The fee standard for %(c)s in %(r)s was saved.") % {"c": category.name, "r": region.name}


def _points_to_bp(text: str) -> int | None:
    """A score out of 100 as typed ("75" or "75.5") to basis points."""
    try:
        return yuan_str_to_fen(text)  # same shape: up to two decimals, no float
    except ValueError:
        return None
