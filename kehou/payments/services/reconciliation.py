"""Reconciliation: a channel's daily bill matched against our payments and refunds, and the day's settlement into
escrow.

``reconcile`` reads the bill (the channel's download, or a file the city bureau uploads), matches its rows by
``out_trade_no`` (payments) and ``out_refund_no`` (refunds) against

* our payments of the day: attempts through the channel that were paid (or paid twice: ``stray``, refunded on their
  own), finished that day in Asia/Shanghai;
* our refunds of the day: refunds through the channel that succeeded that day;

and records every difference as a :class:`ReconciliationItem`:

* ``missing`` — ours, not in the bill;
* ``extra``   — in the bill, unknown to us (or ours through another channel, or listed twice);
* ``status``  — both know it, the states differ (e.g. the bill says paid, our attempt is still open: a lost
  notification); a bill row is looked up beyond the day, so a payment we recorded just after midnight is a match,
  not an extra;
* ``amount``  — same reference and state, different amounts.

A reconciliation is one row per channel and day; importing the day again replaces its items (they are a report, not
a record: the ledger is the record).

The settlement: the channel pays the day's net (matched payments − matched refunds) into the escrow account,
posted once as ``settlement:<channel>:<date>`` (kind ``settlement``: Dr escrow, Cr clearing:<channel>). Importing
the same bill again posts nothing. A later import that matches more (a corrected bill) posts only the increase, as
``settlement:<channel>:<date>:<n>``. Money never leaves escrow this way: a negative net (the day's refunds exceed
its payments; the channel nets them against a later settlement) or a net below what was already settled is
recorded as an ``amount`` difference of ``trade_kind`` ``settlement`` for a person to correct.

``bill_total_fen`` and ``our_total_fen`` are nets too: paid payments − succeeded refunds, on each side.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehou.core import audit, permissions
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError
from kehou.core.excel import workbook_bytes
from kehou.ledger.models import LedgerTransaction
from kehou.ledger.services import ESCROW, Leg, clearing_code, post

from ..channels import enabled_channels, gateway
from ..channels.base import ChannelUnavailable
from ..channels.bills import PAID, PAYMENT, REFUND, SUCCEEDED, BillRow, BillUnreadable, parse_bill
from ..models import Channel, PaymentAttempt, Reconciliation, ReconciliationItem, Refund
from ..selectors_reconciliation import reconciliation_summary, settled_fen, settlement_transactions

SHANGHAI = ZoneInfo("Asia/Shanghai")
Kind = ReconciliationItem.Kind

OUR_PAYMENT_STATE: dict[str, str] = {
    PaymentAttempt.Status.PAID: "paid",
    PaymentAttempt.Status.STRAY: "paid",
    PaymentAttempt.Status.CREATED: "created",
    PaymentAttempt.Status.FAILED: "failed",
    PaymentAttempt.Status.CLOSED: "closed",
}
OUR_REFUND_STATE: dict[str, str] = {
    Refund.Status.SUCCEEDED: "succeeded",
    Refund.Status.PROCESSING: "processing",
    Refund.Status.PENDING_APPROVAL: "processing",
    Refund.Status.FAILED: "failed",
    Refund.Status.REJECTED: "failed",
}


@dataclass
class _Item:
    kind: str
    trade_kind: str
    reference: str
    bill_amount_fen: int | None
    our_amount_fen: int | None
    note: str = ""


def day_bounds(bill_date: date) -> tuple[datetime, datetime]:
    start = datetime.combine(bill_date, time.min, tzinfo=SHANGHAI)
    return start, start + timedelta(days=1)


def _unreadable(reason: str) -> KehouError:
    return KehouError(
        _("The bill could not be read: %(reason)s") % {"reason": reason},
        code=ErrorCode.BILL_UNREADABLE,
        fields={"reason": reason},
    )


def _check_channel(channel: str) -> None:
    if channel not in Channel.values or channel == Channel.WAIVER:
        raise KehouError(_("Unknown payment channel."), code=ErrorCode.CHANNEL_UNKNOWN, fields={"channel": channel})


def _fetch(channel: str, bill_date: date) -> bytes:
    try:
        return gateway(channel).download_bill(bill_date=bill_date)
    except (ChannelUnavailable, ImproperlyConfigured) as exc:
        raise KehouError(
            _("The channel's bill could not be downloaded; try again later or upload the file."),
            code=ErrorCode.BILL_UNAVAILABLE,
            fields={"channel": channel, "detail": str(exc)[:200]},
        ) from None


def _merchant_of(channel: str) -> str:
    """The merchant number the channel's gateway is configured with ("" when the channel is not enabled here)."""
    if channel not in enabled_channels():
        return ""
    try:
        return str(getattr(gateway(channel), "merchant_id", "") or "")
    except (KehouError, ImportError, ImproperlyConfigured):
        return ""


def read_bill(*, channel: str, bill_date: date, content: bytes) -> list[BillRow]:
    """Parse and check a bill: readable, of our merchant, of that day (a file of another day or merchant is
    refused rather than reported as hundreds of differences)."""
    try:
        rows = parse_bill(channel, content)
    except BillUnreadable as exc:
        raise _unreadable(exc.reason) from None
    merchant = _merchant_of(channel)
    strangers = sorted({r.merchant_id for r in rows if r.merchant_id and merchant and r.merchant_id != merchant})
    if strangers:
        raise KehouError(
            _("The bill is of another merchant."),
            code=ErrorCode.BILL_WRONG_MERCHANT,
            fields={"merchant_id": strangers[0][:32], "expected": merchant},
        )
    dates = {timezone.localtime(r.at, SHANGHAI).date() for r in rows if r.at}
    if dates and bill_date not in dates:
        raise KehouError(
            _("The bill is of another day."),
            code=ErrorCode.BILL_WRONG_DATE,
            fields={"bill_date": bill_date.isoformat(), "found": min(dates).isoformat()},
        )
    return rows


def _match(*, channel: str, bill_date: date, rows: Iterable[BillRow]) -> tuple[list[_Item], int, int, int, int, int]:
    """(items, matched rows, bill rows, bill net, our net, settlement net)."""
    start, end = day_bounds(bill_date)
    day_payments = {
        a.out_trade_no: a
        for a in PaymentAttempt.objects.filter(
            channel=channel,
            status__in=[PaymentAttempt.Status.PAID, PaymentAttempt.Status.STRAY],
            finished_at__gte=start,
            finished_at__lt=end,
        )
    }
    day_refunds = {
        r.refund_no: r
        for r in Refund.objects.filter(
            channel=channel, status=Refund.Status.SUCCEEDED, finished_at__gte=start, finished_at__lt=end
        )
    }
    our_net = sum(a.amount_fen for a in day_payments.values()) - sum(r.amount_fen for r in day_refunds.values())
    rows = list(rows)
    # Bill rows beyond our day's sets: look them up whatever their day or state, in one query per kind.
    other_payments = {
        a.out_trade_no: a
        for a in PaymentAttempt.objects.filter(
            out_trade_no__in={r.out_trade_no for r in rows if r.kind == PAYMENT} - day_payments.keys()
        )
    }
    other_refunds = {
        r.refund_no: r
        for r in Refund.objects.filter(
            refund_no__in={r.out_refund_no for r in rows if r.kind == REFUND} - day_refunds.keys()
        )
    }
    items: list[_Item] = []
    seen: set[tuple[str, str]] = set()
    matched = bill_net = settle_net = 0
    for row in rows:
        sign = 1 if row.kind == PAYMENT else -1
        moved = row.status == (PAID if row.kind == PAYMENT else SUCCEEDED)
        if moved:
            bill_net += sign * row.amount_fen
        ref = row.reference[:64]
        if (row.kind, ref) in seen:
            items.append(_Item(Kind.EXTRA, row.kind, ref, row.amount_fen, None, "listed twice in the bill"))
            continue
        seen.add((row.kind, ref))
        ours: PaymentAttempt | Refund | None
        if row.kind == PAYMENT:
            ours = day_payments.pop(row.out_trade_no, None) or other_payments.get(row.out_trade_no)
            state = OUR_PAYMENT_STATE.get(ours.status, ours.status) if ours else ""
        else:
            ours = day_refunds.pop(row.out_refund_no, None) or other_refunds.get(row.out_refund_no)
            state = OUR_REFUND_STATE.get(ours.status, ours.status) if ours else ""
        if ours is None:
            items.append(_Item(Kind.EXTRA, row.kind, ref, row.amount_fen, None, f"bill: {row.status}"))
        elif ours.channel != channel:
            note = f"ours is through {ours.channel}"
            items.append(_Item(Kind.EXTRA, row.kind, ref, row.amount_fen, ours.amount_fen, note))
        elif state != row.status:
            note = f"bill: {row.status} · ours: {state}"
            items.append(_Item(Kind.STATUS, row.kind, ref, row.amount_fen, ours.amount_fen, note))
        elif ours.amount_fen != row.amount_fen:
            items.append(_Item(Kind.AMOUNT, row.kind, ref, row.amount_fen, ours.amount_fen, f"bill: {row.status}"))
        else:
            matched += 1
            if moved:
                settle_net += sign * row.amount_fen
    for attempt in day_payments.values():
        note = f"ours: paid {timezone.localtime(attempt.finished_at, SHANGHAI):%H:%M:%S}" if attempt.finished_at else ""
        items.append(_Item(Kind.MISSING, PAYMENT, attempt.out_trade_no, None, attempt.amount_fen, note))
    for refund in day_refunds.values():
        note = (
            f"ours: refunded {timezone.localtime(refund.finished_at, SHANGHAI):%H:%M:%S}" if refund.finished_at else ""
        )
        items.append(_Item(Kind.MISSING, REFUND, refund.refund_no, None, refund.amount_fen, note))
    return items, matched, len(rows), bill_net, our_net, settle_net


def _settle(*, channel: str, bill_date: date, net: int, now: datetime, reconciliation: Reconciliation) -> _Item | None:
    """Post what the day's net adds to what is already settled; a shortfall is returned as a difference."""
    already = settled_fen(channel, bill_date)
    target = max(net, 0)
    base = f"settlement:{channel}:{bill_date.isoformat()}"
    reference = f"reconciliation:{reconciliation.pk}"
    if target > already:
        existing = settlement_transactions(channel, bill_date).count()
        post(
            key=base if existing == 0 else f"{base}:{existing + 1}",
            kind=LedgerTransaction.Kind.SETTLEMENT,
            legs=[Leg(ESCROW, clearing_code(channel), target - already)],
            now=now,
            reference=reference,
            memo=f"{channel} {bill_date.isoformat()}",
        )
    if net < 0:
        note = "refunds exceed payments: not taken out of escrow; netted by the channel later"
        return _Item(Kind.AMOUNT, "settlement", base, net, already, note)
    if net < already:
        note = "already settled more than this bill's net: not taken back out of escrow; correct by hand"
        return _Item(Kind.AMOUNT, "settlement", base, net, already, note)
    return None


def reconcile(*, channel: str, bill_date: date, content: bytes | None, actor: Any, now: datetime) -> Reconciliation:
    """Import a channel's bill of a day (downloaded through the channel when ``content`` is None), record its
    differences from our payments and refunds, and post the day's settlement into escrow. An unreadable bill
    (``bill_unreadable``), one of another merchant or day, writes nothing. A person running it must be the city
    bureau (``actor`` None is the system: the reconcile command)."""
    if actor is not None:
        permissions.require_city_admin(actor, message=_("Only the city bureau reconciles the channels' bills."))
    _check_channel(channel)
    source = "file" if content is not None else "download"
    if content is None:
        content = _fetch(channel, bill_date)
    rows = read_bill(channel=channel, bill_date=bill_date, content=content)
    with transaction.atomic():
        recon, _created = Reconciliation.objects.get_or_create(
            channel=channel, bill_date=bill_date, defaults={"imported_at": now, "imported_by": _user(actor)}
        )
        # One import of a channel's day at a time: the second waits and then sees the first's settlement.
        recon = Reconciliation.objects.select_for_update().get(pk=recon.pk)
        items, matched, count, bill_net, our_net, settle_net = _match(channel=channel, bill_date=bill_date, rows=rows)
        shortfall = _settle(channel=channel, bill_date=bill_date, net=settle_net, now=now, reconciliation=recon)
        if shortfall is not None:
            items.append(shortfall)
        ReconciliationItem.objects.filter(reconciliation=recon).delete()
        ReconciliationItem.objects.bulk_create(
            ReconciliationItem(
                reconciliation=recon,
                kind=i.kind,
                trade_kind=i.trade_kind,
                reference=i.reference[:64],
                bill_amount_fen=i.bill_amount_fen,
                our_amount_fen=i.our_amount_fen,
                note=i.note[:200],
            )
            for i in items
        )
        recon.imported_at = now
        recon.imported_by = _user(actor)
        recon.rows = count
        recon.matched = matched
        recon.differences = len(items)
        recon.bill_total_fen = bill_net
        recon.our_total_fen = our_net
        recon.save()
        summary = reconciliation_summary(recon)
        audit.record(
            actor=actor,
            action=AuditAction.RECONCILIATION_IMPORT,
            obj=recon,
            after=summary | {"source": source, "settlement_net_fen": settle_net},
            now=now,
        )
    return recon


def _user(actor: Any) -> Any:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


# --- the Excel export ------------------------------------------------------------------------------------------
def _yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else Decimal(fen).scaleb(-2)


def reconciliation_workbook(reconciliation: Reconciliation) -> bytes:
    """The report as a workbook: one row per difference, then the day's figures. (The caller has read the
    reconciliation through the scope; its items belong to it.)"""
    kinds = dict(ReconciliationItem.Kind.choices)
    items = ReconciliationItem.objects.filter(reconciliation=reconciliation).order_by("kind", "trade_kind", "reference")
    rows: list[list[Any]] = []
    for item in items:
        difference = (
            None
            if item.bill_amount_fen is None or item.our_amount_fen is None
            else item.bill_amount_fen - item.our_amount_fen
        )
        trade_kind = {PAYMENT: _("Payment"), REFUND: _("Refund"), "settlement": _("Settlement")}.get(
            item.trade_kind, item.trade_kind
        )
        rows.append(
            [
                str(kinds.get(item.kind, item.kind)),
                str(trade_kind),
                item.reference,
                _yuan(item.bill_amount_fen),
                _yuan(item.our_amount_fen),
                _yuan(difference),
                item.note,
            ]
        )
    figures = reconciliation_summary(reconciliation)
    rows.append([])
    rows += [
        [_("Channel"), str(Channel(reconciliation.channel).label), "", None, None, None, ""],
        [_("Bill date"), reconciliation.bill_date.isoformat(), "", None, None, None, ""],
        [_("Rows in the bill"), str(reconciliation.rows), "", None, None, None, ""],
        [_("Matched"), str(reconciliation.matched), "", None, None, None, ""],
        [_("Differences"), str(reconciliation.differences), "", None, None, None, ""],
        [_("Net (payments − refunds)"), "", "", _yuan(figures["bill_total_fen"]), _yuan(figures["our_total_fen"])],
        [_("Settled into escrow"), "", "", None, _yuan(figures["settled_fen"]), None, ""],
        [_("Imported at"), timezone.localtime(reconciliation.imported_at).strftime("%Y-%m-%d %H:%M:%S")],
    ]
    headers = [
        _("Difference"),
        _("Kind"),
        _("Reference"),
        _("Bill (yuan)"),
        _("Ours (yuan)"),
        _("Bill − ours (yuan)"),
        _("Note"),
    ]
    title = f"{reconciliation.channel} {reconciliation.bill_date.isoformat()}"
    return workbook_bytes(title=title, headers=[str(h) for h in headers], rows=rows)
