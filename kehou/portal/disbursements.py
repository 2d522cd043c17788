"""Disbursements from escrow (支出划付) and the teacher's payout account (收款账户), composed from payroll's services.

The operator asks to pay out its waiting costs (per district) or a period's withheld tax (with the tax office's
certificate); the district's bureau (costs) or the city bureau (tax) approves or refuses. A teacher binds the WeChat
account their pay goes to through WeChat's web authorisation (the demo's simulator page stands in for WeChat)."""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Count, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from kehou.core import clock
from kehou.core.errors import KehouError
from kehou.core.pages import ActionPage, ScopedPage, local, yuan
from kehou.core.scope import Scope
from kehou.orgs.models import OperatorCompany, Region
from kehou.payroll.channels.wechat_oauth import SimulatorOAuth, provider
from kehou.payroll.models import Disbursement, Payee, Payout
from kehou.payroll.services import disbursements, payees

STATUS_CSS = {"requested": "state-open", "approved": "ok", "refused": "bad"}
OAUTH_SECONDS = 600


def _int(value: Any) -> int:
    try:
        return int(str(value or "0"))
    except ValueError:
        return 0


class DisbursementPage(ScopedPage):
    title = gettext_lazy("Disbursements from escrow")
    template_name = "portal/disbursements.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return Disbursement.objects.select_related("operator", "district", "requested_by", "decided_by")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        scope = self.scope
        operators = list(OperatorCompany.objects.filter(pk__in=scope.operator_ids).order_by("name"))
        waiting = []
        for op in operators:
            costs = (
                disbursements.waiting_costs(op)
                .order_by()
                .values_list("school__district", "school__district__name")
                .annotate(n=Count("pk"), s=Sum("amount_fen"))
            )
            tax = (
                disbursements.waiting_tax(op)
                .order_by()
                .values_list("period")
                .annotate(n=Count("pk"), s=Sum("tax_fen"))
                .order_by("-period")
            )
            waiting.append(
                {
                    "operator": op,
                    "costs": [
                        {"district": d, "district_name": name, "n": n, "amount": yuan(s)} for d, name, n, s in costs
                    ],
                    "tax": [{"period": p, "n": n, "amount": yuan(s)} for p, n, s in tax],
                }
            )
        rows = []
        for d in self.get_queryset().annotate(n_costs=Count("costs", distinct=True))[:200]:
            rows.append(
                {
                    "d": d,
                    "css": STATUS_CSS.get(d.status, ""),
                    "amount": yuan(d.amount_fen),
                    "requested": local(d.requested_at),
                    "decided": local(d.decided_at),
                    "may_decide": d.status == "requested" and disbursements.decides(scope, d),
                }
            )
        ctx = self.base_context() | {
            "wide": True,
            "waiting": waiting,
            "rows": rows,
            "request_key": uuid.uuid4().hex,
            "to_decide": sum(1 for r in rows if r["may_decide"]),
        }
        return render(request, self.template_name, ctx)


class VoucherDownload(ScopedPage):
    """The tax office's certificate of a remittance, as an attachment, to whoever sees the disbursement (the
    operator, the city bureau); never rendered in the platform's origin."""

    def select(self, scope: Scope) -> QuerySet[Any]:
        return Disbursement.objects.exclude(voucher="")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        from django.http import FileResponse

        d = self.get_queryset().filter(pk=kwargs["pk"]).first()
        if d is None:
            raise Http404
        try:
            handle = d.voucher.open("rb")
        except (FileNotFoundError, OSError) as exc:
            raise Http404 from exc
        response = FileResponse(
            handle, as_attachment=True, filename=d.voucher_name or "voucher", content_type=d.voucher_type
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


class DisbursementRequestAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return OperatorCompany.objects.all()

    def fallback(self, obj: Any) -> str:
        return reverse("portal:disbursements")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        district = Region.objects.filter(pk=_int(request.POST.get("district")), kind=Region.Kind.DISTRICT).first()
        d, created = disbursements.disbursement_request(
            actor=request.user,
            operator=obj,
            kind=request.POST.get("kind", ""),
            district=district,
            period=request.POST.get("period", ""),
            voucher=request.FILES.get("voucher"),
            note=request.POST.get("note", ""),
            request_key=request.POST.get("request_key", ""),
            now=clock.now(),
        )
        if not created:
            return _("This request was already sent."), None
        return _("Asked to pay out %(amount)s; the bureau decides (instruction %(no)s).") % {
            "amount": yuan(d.amount_fen),
            "no": d.instruction_no,
        }, None


class _DecideAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return Disbursement.objects.select_related("operator")

    def fallback(self, obj: Any) -> str:
        return reverse("portal:disbursements")


class DisbursementApproveAction(_DecideAction):
    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        d = disbursements.disbursement_approve(actor=request.user, disbursement=obj, now=clock.now())
        return _("Approved: %(amount)s paid out of escrow (instruction %(no)s).") % {
            "amount": yuan(d.amount_fen),
            "no": d.instruction_no,
        }, None


class DisbursementRefuseAction(_DecideAction):
    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        disbursements.disbursement_refuse(
            actor=request.user, disbursement=obj, reason=request.POST.get("reason", ""), now=clock.now()
        )
        return _("Refused; the operator is told why."), None


def _callback_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("portal:payee-callback"))


class PayeePage(LoginRequiredMixin, View):
    """The teacher's payout account: where it is bound, and binding it (again)."""

    template_name = "portal/payee.html"
    dangerously_unscoped = True  # the caller's own payout account only

    def get(self, request: HttpRequest) -> HttpResponse:
        profile = getattr(request.user, "teacher_profile", None)
        payee = Payee.objects.filter(teacher=profile).first() if profile is not None else None
        busy = profile is not None and Payout.objects.filter(teacher=profile, status__in=("pending", "sent")).exists()
        return render(
            request,
            self.template_name,
            {
                "title": _("Payout account"),
                "is_teacher": profile is not None,
                "payee": payee,
                "openid": (payee.openid[:6] + "…") if payee else "",
                "bound": local(payee.bound_at) if payee else "",
                "busy": busy,
                "real_name": payee.real_name if payee else getattr(request.user, "full_name", ""),
                "simulated": provider().name == "simulator",
            },
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        """Start the authorisation: keep a one-time state with the real name, and send the phone to WeChat."""
        profile = getattr(request.user, "teacher_profile", None)
        if profile is None:
            raise Http404
        try:
            real_name = payees.check_real_name(request.POST.get("real_name", ""))
        except KehouError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("portal:payee"))
        state = secrets.token_urlsafe(16)
        request.session["payee_oauth"] = {"state": state, "real_name": real_name, "at": time.time()}
        return HttpResponseRedirect(provider().authorize_url(redirect_uri=_callback_url(request), state=state))


class PayeeCallback(LoginRequiredMixin, View):
    """WeChat sends the phone back here with ``code`` and ``state``; the state must be the one this session began.
    Bound: back to the account page; refused: the account page with the reason (nothing bound)."""

    dangerously_unscoped = True  # binds the caller's own payout account only

    def get(self, request: HttpRequest) -> HttpResponse:
        pending = request.session.pop("payee_oauth", None)
        state = request.GET.get("state", "")
        code = request.GET.get("code", "")
        if (
            not isinstance(pending, dict)
            or not state
            or not secrets.compare_digest(str(pending.get("state", "")), state)
            or time.time() - float(pending.get("at", 0)) > OAUTH_SECONDS
        ):
            messages.error(request, _("This authorisation was not started here or has expired. Start again."))
            return PayeePage().get(request)
        if not code:
            messages.error(request, _("WeChat did not authorise the account."))
            return PayeePage().get(request)
        try:
            payees.payee_bind(actor=request.user, code=code, real_name=pending["real_name"], now=clock.now())
        except KehouError as exc:
            messages.error(request, exc.message)
            return PayeePage().get(request)
        messages.success(request, _("Your WeChat account is bound: your pay will be sent there."))
        return HttpResponseRedirect(reverse("portal:payee"))


class PayeeSimulator(LoginRequiredMixin, View):
    """The demo's stand-in for WeChat's authorisation page (only with the simulator): the phone's WeChat user is
    the signed-in account; agreeing sends it back with a code, declining without one."""

    dangerously_unscoped = True  # issues a code for the caller's own account only

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if provider().name != "simulator":
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    @staticmethod
    def _target(request: HttpRequest, data: Any) -> str:
        """Where to send the phone back: only this site's callback (WeChat checks the registered domain)."""
        target = str(data.get("redirect_uri", ""))
        if not target or not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            return ""
        return target

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request,
            "portal/payee_simulator.html",
            {
                "title": _("WeChat authorisation (simulated)"),
                "valid": bool(self._target(request, request.GET)),
                "redirect_uri": request.GET.get("redirect_uri", ""),
                "state": request.GET.get("state", "")[:64],
            },
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        target = self._target(request, request.POST)
        if not target:
            return HttpResponse(_("This authorisation request is not valid."), status=400, content_type="text/plain")
        query: dict[str, str] = {"state": request.POST.get("state", "")[:64]}
        if request.POST.get("agree") == "1":
            query["code"] = SimulatorOAuth().issue(int(request.user.pk or 0))
        joiner = "&" if "?" in target else "?"
        return HttpResponseRedirect(f"{target}{joiner}{urlencode(query)}")
