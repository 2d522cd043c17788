"""Reads of the reconciliation report (the city bureau's: ``Reconciliation`` and its items have no school path, so
only a scope that sees everything — the city bureau, a superuser — sees any of them)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from kehou.core.errors import NotFound
from kehou.core.scope import Scope
from kehou.ledger.models import LedgerTransaction, Posting
from kehou.ledger.services import ESCROW, clearing_code

from .models import Reconciliation, ReconciliationItem


def reconciliation_list(
    *, scope: Scope, channel: str = "", date_from: date | None = None, date_to: date | None = None
) -> QuerySet[Reconciliation]:
    qs = scope.filter(Reconciliation.objects.select_related("imported_by"))
    if channel:
        qs = qs.filter(channel=channel)
    if date_from:
        qs = qs.filter(bill_date__gte=date_from)
    if date_to:
        qs = qs.filter(bill_date__lte=date_to)
    return qs.annotate(
        missing=Count("items", filter=Q(items__kind=ReconciliationItem.Kind.MISSING)),
        extra=Count("items", filter=Q(items__kind=ReconciliationItem.Kind.EXTRA)),
        amount_mismatch=Count("items", filter=Q(items__kind=ReconciliationItem.Kind.AMOUNT)),
        status_mismatch=Count("items", filter=Q(items__kind=ReconciliationItem.Kind.STATUS)),
    ).order_by("-bill_date", "channel")


def reconciliation_detail(*, scope: Scope, pk: Any) -> Reconciliation:
    """One reconciliation in scope; missing and out of scope are the same NotFound."""
    try:
        return scope.filter(Reconciliation.objects.select_related("imported_by")).get(pk=pk)
    except (Reconciliation.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Not found.")) from None


def reconciliation_items(
    *, scope: Scope, reconciliation: Reconciliation, kind: str = "", trade_kind: str = ""
) -> QuerySet[ReconciliationItem]:
    qs = scope.filter(ReconciliationItem.objects.filter(reconciliation=reconciliation))
    if kind:
        qs = qs.filter(kind=kind)
    if trade_kind:
        qs = qs.filter(trade_kind=trade_kind)
    return qs.order_by("kind", "trade_kind", "reference")


def settlement_transactions(channel: str, bill_date: date) -> QuerySet[LedgerTransaction]:
    """The settlement transactions of a channel's day: ``settlement:<channel>:<date>`` and, when a later import of
    that day's bill settled more, ``settlement:<channel>:<date>:<n>``. (Not scoped: the service and the report's
    own figures use it after the report was read through the scope.)"""
    base = f"settlement:{channel}:{bill_date.isoformat()}"
    return LedgerTransaction.objects.filter(
        Q(key=base) | Q(key__startswith=base + ":"), kind=LedgerTransaction.Kind.SETTLEMENT
    )


def settled_fen(channel: str, bill_date: date) -> int:
    """What has been moved from the channel's clearing account into escrow for that day."""
    txns = settlement_transactions(channel, bill_date)
    into = Posting.objects.filter(transaction__in=txns, debit__code=ESCROW, credit__code=clearing_code(channel))
    back = Posting.objects.filter(transaction__in=txns, credit__code=ESCROW, debit__code=clearing_code(channel))
    return int((into.aggregate(s=Sum("amount_fen"))["s"] or 0) - (back.aggregate(s=Sum("amount_fen"))["s"] or 0))


def reconciliation_summary(reconciliation: Reconciliation) -> dict[str, Any]:
    """The figures of one reconciliation (for the command's JSON line, the report's header and its export)."""
    by_kind = dict(
        ReconciliationItem.objects.filter(reconciliation=reconciliation)
        .values_list("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    return {
        "channel": reconciliation.channel,
        "date": reconciliation.bill_date.isoformat(),
        "rows": reconciliation.rows,
        "matched": reconciliation.matched,
        "differences": reconciliation.differences,
        "missing": by_kind.get(ReconciliationItem.Kind.MISSING, 0),
        "extra": by_kind.get(ReconciliationItem.Kind.EXTRA, 0),
        "amount": by_kind.get(ReconciliationItem.Kind.AMOUNT, 0),
        "status": by_kind.get(ReconciliationItem.Kind.STATUS, 0),
        "bill_total_fen": reconciliation.bill_total_fen,
        "our_total_fen": reconciliation.our_total_fen,
        "settled_fen": settled_fen(reconciliation.channel, reconciliation.bill_date),
    }
