"""Class-hour pay (课时费), one page for every role, composed from payroll's selectors: a month's lines of the
caller's scope with their evidence and status, the month per school and teacher, the payouts; and the actions each
role takes there: the school approves its month, rejects a line with a reason and answers disputes; the operator
approves what the school approved and pays the month out; a teacher disputes a line. Excel export of both lists."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.handlers.asgi import ASGIRequest
from django.db.models import Count, QuerySet, Sum
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.core import clock
from kehou.core.api import parse_id
from kehou.core.excel import xlsx_response
from kehou.core.pages import ActionPage, ScopedPage, local, yuan
from kehou.core.scope import Scope
from kehou.orgs.models import OperatorCompany, School
from kehou.payroll import selectors
from kehou.payroll.models import PayLine, Payout
from kehou.payroll.services import lines, payouts
from kehou.payroll.services.lines import period_label, period_of

STATUS_CSS = {
    "computed": "state-open",
    "school_approved": "state-open",
    "approved": "ok",
    "paying": "state-upcoming",
    "paid": "ok",
    "rejected": "bad",
}
PAYOUT_CSS = {"pending": "state-upcoming", "sent": "state-open", "paid": "ok", "failed": "bad"}
BASIS = {
    "operator_rate": gettext_lazy("the operator's rate"),
    "district_standard": gettext_lazy("the district's standard"),
    "city_standard": gettext_lazy("the city's standard"),
    "district_fee_standard": gettext_lazy("the district's fee standard"),
    "city_fee_standard": gettext_lazy("the city's fee standard"),
}


def _evidence(line: PayLine) -> str:
    ev = line.evidence or {}
    parts = []
    check_in = ev.get("check_in") or {}
    if check_in.get("makeup") == "approved":
        parts.append(_("make-up approved"))
    elif check_in.get("outcome") == "inside":
        parts.append(_("checked in at school") if check_in.get("timing") == "on_time" else _("checked in late"))
    roll = ev.get("roll_call") or {}
    if roll:
        parts.append(_("%(p)d of %(e)d present") % {"p": roll.get("present", 0), "e": roll.get("expected", 0)})
    return " · ".join(str(p) for p in parts)


class PayPage(ScopedPage):
    title = gettext_lazy("Class-hour pay")
    template_name = "portal/pay.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return PayLine.objects.all()

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        scope = self.scope
        now = clock.now()
        in_scope = selectors.pay_line_list(scope=scope)
        periods = sorted(set(in_scope.order_by().values_list("period", flat=True).distinct()), reverse=True)
        period = (request.GET.get("period") or "").strip()[:7]
        if period not in periods:
            period = periods[0] if periods else period_of(timezone.localdate(now))
        school_id = parse_id(request.GET.get("school", ""))
        teacher_id = parse_id(request.GET.get("teacher", ""))
        status = request.GET.get("status", "")
        status = status if status in PayLine.Status.values else ""
        disputed = request.GET.get("disputed") in ("1", "on")
        month = selectors.pay_line_list(scope=scope, period=period, school_id=school_id, teacher_id=teacher_id)
        shown = month.filter(status=status) if status else month
        if disputed:
            shown = shown.filter(disputed_at__isnull=False, dispute_answered_at__isnull=True)
        pay_outs = selectors.payout_list(scope=scope, period=period)
        if request.GET.get("format") == "xlsx":
            return self.export(request, shown, pay_outs, period)
        totals = month.aggregate(hours=Sum("class_hours"), amount=Sum("amount_fen"), n=Count("pk"))
        counts = dict(month.order_by().values_list("status").annotate(n=Count("pk")))
        open_disputes = month.filter(disputed_at__isnull=False, dispute_answered_at__isnull=True).count()
        own_teacher = next(iter(scope.teacher_ids), None) if len(scope.teacher_ids) == 1 else None
        summary = selectors.month_summary(month)
        for row in summary:
            row["amount_yuan"] = yuan(row["amount"])
            row["school_may_approve"] = row["school_id"] in scope.school_ids or scope.everything
            row["operator_may_approve"] = row["school_id"] in scope.operator_school_ids
        schools: dict[int, dict[str, Any]] = {}
        for row in summary:
            s = schools.setdefault(
                row["school_id"],
                {
                    "id": row["school_id"],
                    "name": row["school__name"],
                    "rows": [],
                    "waiting_school": 0,
                    "waiting_operator": 0,
                    "amount": 0,
                    "school_may_approve": row["school_may_approve"],
                    "operator_may_approve": row["operator_may_approve"],
                },
            )
            s["rows"].append(row)
            s["waiting_school"] += row["waiting_school"]
            s["waiting_operator"] += row["waiting_operator"]
            s["amount"] += row["amount"]
        for s in schools.values():
            s["amount_yuan"] = yuan(s["amount"])
        rows = []
        for line in shown[:500]:
            rows.append(
                {
                    "line": line,
                    "css": STATUS_CSS.get(line.status, ""),
                    "amount": yuan(line.amount_fen),
                    "rate": yuan(line.rate_fen),
                    "basis": BASIS.get(line.rate_basis, line.rate_basis),
                    "evidence": _evidence(line),
                    "may_reject": (line.school_id in scope.school_ids or scope.everything)
                    and line.status in ("computed", "school_approved"),
                    "may_answer": (line.school_id in scope.school_ids or scope.everything) and line.dispute_open,
                    "may_dispute": own_teacher == line.teacher_id
                    and line.status not in ("paying", "paid")
                    and not line.dispute_open,
                }
            )
        operators = list(OperatorCompany.objects.filter(pk__in=scope.operator_ids).order_by("name"))
        payable = (
            selectors.pay_line_list(scope=scope, period=period, status="approved")
            .filter(school_id__in=scope.operator_school_ids, payout__isnull=True)
            .aggregate(n=Count("pk"), s=Sum("amount_fen"))
        )
        payout_rows = [
            {
                "payout": p,
                "css": PAYOUT_CSS.get(p.status, ""),
                "gross": yuan(p.gross_fen),
                "tax": yuan(p.tax_fen),
                "net": yuan(p.net_fen),
                "finished": local(p.finished_at),
            }
            for p in pay_outs[:300]
        ]
        query = request.GET.copy()
        query["format"] = "xlsx"
        query["period"] = period
        ctx = self.base_context() | {
            "wide": True,
            "period": period,
            "period_shown": period_label(period),
            "periods": [(p, period_label(p)) for p in periods],
            "school_id": school_id,
            "teacher_id": teacher_id,
            "status": status,
            "disputed": disputed,
            "statuses": PayLine.Status.choices,
            "totals": {
                "lines": totals["n"] or 0,
                "hours": totals["hours"] or 0,
                "amount": yuan(totals["amount"] or 0),
                "computed": counts.get("computed", 0),
                "school_approved": counts.get("school_approved", 0),
                "approved": counts.get("approved", 0) + counts.get("paying", 0),
                "paid": counts.get("paid", 0),
                "rejected": counts.get("rejected", 0),
                "disputed": open_disputes,
            },
            "schools": list(schools.values()),
            "rows": rows,
            "more": shown.count() > 500,
            "payouts": payout_rows,
            "operators": operators,
            "payable_lines": payable["n"] or 0,
            "payable": yuan(payable["s"] or 0),
            "request_key": uuid.uuid4().hex,
            "is_teacher": own_teacher is not None and not (scope.school_ids or scope.operator_school_ids),
            "export_lines": f"?{query.urlencode()}&list=lines",
            "export_payouts": f"?{query.urlencode()}&list=payouts",
            "next": request.get_full_path(),
        }
        return render(request, self.template_name, ctx)

    def export(
        self, request: HttpRequest, shown: QuerySet[PayLine], pay_outs: QuerySet[Payout], period: str
    ) -> HttpResponseBase:
        asynchronous = isinstance(request, ASGIRequest)
        if request.GET.get("list") == "payouts":
            return xlsx_response(
                filename=f"payouts-{period}.xlsx",
                title=_("Payouts"),
                headers=[
                    str(h)
                    for h in (
                        _("Period"),
                        _("Teacher"),
                        _("Lines"),
                        _("Gross (yuan)"),
                        _("Tax withheld (yuan)"),
                        _("Sent (yuan)"),
                        _("Bill number"),
                        _("Status"),
                        _("Failure"),
                        _("Finished"),
                    )
                ],
                rows=(
                    [
                        p.period,
                        str(p.teacher.user),
                        p.line_count,  # type: ignore[attr-defined]
                        p.gross_fen / 100,
                        p.tax_fen / 100,
                        p.net_fen / 100,
                        p.out_bill_no,
                        str(p.get_status_display()),
                        p.failure,
                        local(p.finished_at),
                    ]
                    for p in pay_outs
                ),
                asynchronous=asynchronous,
            )
        return xlsx_response(
            filename=f"pay-lines-{period}.xlsx",
            title=_("Class-hour pay"),
            headers=[
                str(h)
                for h in (
                    _("Date"),
                    _("Time"),
                    _("School"),
                    _("Class"),
                    _("Teacher"),
                    _("Class hours"),
                    _("Rate (yuan)"),
                    _("Amount (yuan)"),
                    _("Status"),
                    _("Reason"),
                    _("Dispute"),
                )
            ],
            rows=(
                [
                    line.session.date.isoformat(),
                    f"{line.session.starts_at:%H:%M}",
                    line.school.name,
                    line.session.course_class.name,
                    str(line.teacher.user),
                    line.class_hours,
                    line.rate_fen / 100,
                    line.amount_fen / 100,
                    str(line.get_status_display()),
                    line.reject_reason,
                    line.dispute_reason,
                ]
                for line in shown
            ),
            asynchronous=asynchronous,
        )


def _back(period: str, school: int | None = None) -> str:
    url = reverse("portal:pay") + f"?period={period}"
    return url + (f"&school={school}" if school else "")


class SchoolApproveAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return School.objects.all()

    def fallback(self, obj: Any) -> str:
        return reverse("portal:pay")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        period = request.POST.get("period", "")
        n = lines.pay_school_approve(actor=request.user, school=obj, period=period, now=clock.now())
        return _("%(n)d lines of %(period)s approved; they now await the operator.") % {"n": n, "period": period}, None


class OperatorApproveAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return School.objects.all()

    def fallback(self, obj: Any) -> str:
        return reverse("portal:pay")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        period = request.POST.get("period", "")
        n = lines.pay_operator_approve(actor=request.user, school=obj, period=period, now=clock.now())
        return _("%(n)d lines of %(period)s approved and locked.") % {"n": n, "period": period}, None


class _LineAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return PayLine.objects.select_related("school", "teacher__user", "session")

    def fallback(self, obj: Any) -> str:
        return _back(obj.period)


class LineRejectAction(_LineAction):
    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        lines.pay_line_reject(actor=request.user, line=obj, reason=request.POST.get("reason", ""), now=clock.now())
        return _("The line was rejected; the teacher is told."), None


class LineDisputeAction(_LineAction):
    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        lines.pay_line_dispute(actor=request.user, line=obj, reason=request.POST.get("reason", ""), now=clock.now())
        return _("Your dispute was sent to the school."), None


class LineAnswerAction(_LineAction):
    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        reinstate = request.POST.get("reinstate") == "1"
        lines.pay_dispute_answer(
            actor=request.user, line=obj, reinstate=reinstate, answer=request.POST.get("answer", ""), now=clock.now()
        )
        if reinstate:
            return _("The line awaits approval again; the teacher is told."), None
        return _("The decision stands; the teacher is told."), None


class PayoutBatchAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return OperatorCompany.objects.all()

    def fallback(self, obj: Any) -> str:
        return reverse("portal:pay")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        period = request.POST.get("period", "")
        batch, skipped = payouts.payout_batch_start(
            actor=request.user,
            operator=obj,
            period=period,
            request_key=request.POST.get("request_key", ""),
            now=clock.now(),
        )
        n = batch.payouts.count()
        message = _("%(n)d payouts of %(period)s are on their way.") % {"n": n, "period": period}
        if skipped:
            message += " " + _("%(k)d teachers have no payout account yet; their lines wait.") % {"k": len(skipped)}
        return message, None
