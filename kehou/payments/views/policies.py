"""The refund policies: the city's default and the districts' overrides."""

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
from kehou.core.errors import KehouError
from kehou.core.pages import (
    ScopedPage,
    local,
)
from kehou.core.scope import Scope
from kehou.orgs.models import Region

from .. import selectors_pages
from ..forms import PolicyForm
from ..models import RefundPolicy
from ..services import refunds as refund_services
from .parent import RULE_LABELS


class PolicyPage(ScopedPage):
    """The refund policies: the city's default and the districts' overrides; the city bureau sets the city's (and
    may set a district's), a district bureau its own."""

    title = gettext_lazy("Refund policies")
    template_name = "payments/policies.html"
    http_method_names = ["get", "post", "head", "options"]

    def select(self, scope: Scope) -> QuerySet[Any]:
        return RefundPolicy.objects.select_related("region")

    def show(self, request: HttpRequest, form: PolicyForm | None = None, status: int = 200) -> HttpResponse:
        scope = self.scope
        policies = []
        for p in selectors_pages.policies_shown(scope=scope):
            tiers = ", ".join(f"{t['held_upto']}:{t['percent']}%" for t in p.tiers)
            policies.append(
                {
                    "p": p,
                    "rule": str(RULE_LABELS.get(p.after_start, p.after_start)),
                    "tiers": tiers,
                    "set_at": local(p.set_at),
                }
            )
        regions = selectors_pages.policy_regions(scope=scope)
        ctx = self.base_context() | {
            "policies": policies,
            "regions": regions,
            "form": form
            or (PolicyForm(initial={"after_start": "pro_rata", "no_refund_after": 1}) if regions else None),
        }
        return render(request, self.template_name, ctx, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.show(request)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = PolicyForm(request.POST)
        if not form.is_valid():
            return self.show(request, form, status=400)
        d = form.cleaned_data
        region = Region.objects.filter(code=d["region"]).first()
        if region is None:
            form.add_error("region", _("No such region."))
            return self.show(request, form, status=400)
        try:
            refund_services.policy_set(
                actor=request.user,
                region=region,
                after_start=d["after_start"],
                tiers=d["tiers"],
                no_refund_after=d["no_refund_after"],
                approval_after_start=d["approval_after_start"],
                now=clock.now(),
            )
        except KehouError as exc:
            form.add_error(None, exc.message)
            return self.show(request, form, status=exc.status if exc.status < 500 else 400)
        messages.success(request, _("The refund policy of %(region)s is set.") % {"region": region.name})
        return HttpResponseRedirect(reverse("portal:refund-policies"))
