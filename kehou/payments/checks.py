"""The payments' part of ``ledger_verify``: every order has exactly its postings, and its counters agree."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Sum

from kehou.ledger.models import LedgerTransaction, Posting

from .models import Order, PaymentAttempt, Refund

PAID_ATTEMPT = (PaymentAttempt.Status.PAID, PaymentAttempt.Status.STRAY)
RESERVED = (Refund.Status.PENDING_APPROVAL, Refund.Status.PROCESSING, Refund.Status.SUCCEEDED)


def orders_have_their_postings() -> list[str]:
    breaches: list[str] = []
    amounts = dict(
        Posting.objects.values_list("transaction__key")
        .annotate(s=Sum("amount_fen"))
        .values_list("transaction__key", "s")
    )
    keys = set(LedgerTransaction.objects.filter(key__startswith="payment:").values_list("key", flat=True))
    expected_payment_keys = set()
    for out_trade_no, amount, status in PaymentAttempt.objects.values_list("out_trade_no", "amount_fen", "status"):
        key = f"payment:{out_trade_no}"
        if status in PAID_ATTEMPT:
            expected_payment_keys.add(key)
            if amounts.get(key) != amount:
                breaches.append(f"{key}: posted {amounts.get(key)} for a payment of {amount}")
    for key in keys - expected_payment_keys:
        breaches.append(f"{key}: posted for a payment that is not paid")
    for refund_no, amount, status in Refund.objects.values_list("refund_no", "amount_fen", "status"):
        reserve, paid, undo = (amounts.get(f"refund:{refund_no}:{part}") for part in ("reserve", "paid", "undo"))
        if reserve != amount:
            breaches.append(f"refund {refund_no}: reserved {reserve} of {amount}")
        if (paid is not None) != (status == Refund.Status.SUCCEEDED) or (paid is not None and paid != amount):
            breaches.append(f"refund {refund_no} ({status}): paid posting {paid}")
        if (undo is not None) != (status in (Refund.Status.FAILED, Refund.Status.REJECTED)):
            breaches.append(f"refund {refund_no} ({status}): undo posting {undo}")
    paid_by_order: dict[int, int] = defaultdict(int)
    for order_id, amount in PaymentAttempt.objects.filter(status=PaymentAttempt.Status.PAID).values_list(
        "order_id", "amount_fen"
    ):
        paid_by_order[order_id] += amount
    refunded_by_order: dict[int, int] = defaultdict(int)
    for order_id, amount in Refund.objects.filter(stray=False, status__in=RESERVED).values_list(
        "order_id", "amount_fen"
    ):
        refunded_by_order[order_id] += amount
    for order in Order.objects.only("pk", "order_no", "paid_fen", "refunded_fen", "channel"):
        if order.channel != "waiver" and order.paid_fen != paid_by_order.get(order.pk, 0):
            breaches.append(
                f"order {order.order_no}: paid {order.paid_fen} ≠ payments {paid_by_order.get(order.pk, 0)}"
            )
        if order.refunded_fen != refunded_by_order.get(order.pk, 0):
            breaches.append(
                f"order {order.order_no}: refunded {order.refunded_fen} ≠ refunds {refunded_by_order.get(order.pk, 0)}"
            )
    return breaches


def releases_add_up() -> list[str]:
    """Released never exceeds paid for any place: each line's ``released_fen`` is the sum of its releases, and with
    what was refunded stays within what was charged; the ledger's release postings are exactly the releases."""
    from .models import OrderLine, Release

    breaches: list[str] = []
    by_line = dict(Release.objects.values_list("line_id").annotate(s=Sum("amount_fen")).values_list("line_id", "s"))
    for pk, amount, refunded, released in OrderLine.objects.filter(released_fen__gt=0).values_list(
        "pk", "amount_fen", "refunded_fen", "released_fen"
    ):
        if by_line.get(pk, 0) != released:
            breaches.append(f"order line {pk}: released {released} ≠ releases {by_line.get(pk, 0)}")
        if refunded + released > amount:
            breaches.append(f"order line {pk}: refunded {refunded} + released {released} > charged {amount}")
    for pk in set(by_line) - set(OrderLine.objects.filter(released_fen__gt=0).values_list("pk", flat=True)):
        breaches.append(f"order line {pk}: releases {by_line[pk]} but released 0")
    by_session = dict(
        Release.objects.values_list("session_id").annotate(s=Sum("amount_fen")).values_list("session_id", "s")
    )
    posted = dict(
        Posting.objects.filter(
            transaction__kind=LedgerTransaction.Kind.RELEASE, transaction__key__startswith="release:session:"
        )
        .values_list("transaction__key")
        .annotate(s=Sum("amount_fen"))
        .values_list("transaction__key", "s")
    )
    for session_id, amount in by_session.items():
        if posted.get(f"release:session:{session_id}") != amount:
            breaches.append(
                f"session {session_id}: released {amount}, posted {posted.get(f'release:session:{session_id}')}"
            )
    for key in set(posted) - {f"release:session:{s}" for s in by_session}:
        breaches.append(f"{key}: posted without releases")
    return breaches
