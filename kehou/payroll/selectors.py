"""Reading pay: lines, payouts and batches in a scope, and a month's totals by school and teacher."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from kehou.core.scope import Scope

from .models import PayLine, Payout, PayoutBatch


def pay_line_list(
    *,
    scope: Scope,
    period: str = "",
    school_id: int | None = None,
    teacher_id: int | None = None,
    status: str = "",
    disputed: bool | None = None,
) -> QuerySet[PayLine]:
    qs = scope.filter(PayLine.objects.select_related("session__course_class", "school", "teacher__user")).order_by(
        "-period", "school_id", "session__date", "session__starts_at", "pk"
    )
    if period:
        qs = qs.filter(period=period)
    if school_id is not None:
        qs = qs.filter(school_id=school_id)
    if teacher_id is not None:
        qs = qs.filter(teacher_id=teacher_id)
    if status:
        qs = qs.filter(status=status)
    if disputed is True:
        qs = qs.filter(disputed_at__isnull=False, dispute_answered_at__isnull=True)
    elif disputed is False:
        qs = qs.exclude(disputed_at__isnull=False, dispute_answered_at__isnull=True)
    return qs


def payout_list(*, scope: Scope, period: str = "", status: str = "", batch_id: int | None = None) -> QuerySet[Payout]:
    qs = scope.filter(Payout.objects.select_related("teacher__user", "batch")).order_by("-created_at", "pk")
    if period:
        qs = qs.filter(period=period)
    if status:
        qs = qs.filter(status=status)
    if batch_id is not None:
        qs = qs.filter(batch_id=batch_id)
    return qs.annotate(line_count=Count("lines"))


def batch_list(*, scope: Scope) -> QuerySet[PayoutBatch]:
    return (
        scope.filter(PayoutBatch.objects.select_related("operator"))
        .annotate(
            payout_count=Count("payouts", distinct=True),
            gross_total=Coalesce(Sum("payouts__gross_fen"), 0),
            tax_total=Coalesce(Sum("payouts__tax_fen"), 0),
            net_total=Coalesce(Sum("payouts__net_fen"), 0),
        )
        .order_by("-created_at", "-pk")
    )


def batch_with_totals(batch: PayoutBatch) -> PayoutBatch:
    totals = Payout.objects.filter(batch=batch).aggregate(
        n=Count("pk"), g=Coalesce(Sum("gross_fen"), 0), t=Coalesce(Sum("tax_fen"), 0), s=Coalesce(Sum("net_fen"), 0)
    )
    batch.payout_count, batch.gross_total, batch.tax_total, batch.net_total = (  # type: ignore[attr-defined]
        totals["n"],
        totals["g"],
        totals["t"],
        totals["s"],
    )
    return batch


def month_summary(lines: QuerySet[PayLine]) -> list[dict[str, Any]]:
    """Per school and teacher: class hours and amount by status, for the approval pages."""
    rows = (
        lines.order_by()
        .values("school_id", "school__name", "teacher_id", "teacher__user__full_name", "teacher__user__username")
        .annotate(
            hours=Coalesce(Sum("class_hours"), 0),
            amount=Coalesce(Sum("amount_fen"), 0),
            waiting_school=Count("pk", filter=Q(status="computed")),
            waiting_operator=Count("pk", filter=Q(status="school_approved")),
            approved=Count("pk", filter=Q(status__in=["approved", "paying", "paid"])),
            rejected=Count("pk", filter=Q(status="rejected")),
            disputed=Count("pk", filter=Q(disputed_at__isnull=False, dispute_answered_at__isnull=True)),
        )
        .order_by("school__name", "teacher__user__full_name")
    )
    return list(rows)
