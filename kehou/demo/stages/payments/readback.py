"""Reading the payments stage back: :func:`payments_counts`."""

from __future__ import annotations

from collections import Counter


# --- reading back ------------------------------------------------------------------------------------------
def payments_counts() -> dict[str, int]:
    from django.db.models import F

    from kehou.ledger.models import LedgerTransaction
    from kehou.ledger.selectors import verify
    from kehou.payments.models import (
        ChannelNotification,
        Order,
        OrderLine,
        PaymentAttempt,
        Reconciliation,
        Refund,
        RefundPolicy,
    )

    counts = {
        "refund_policies": RefundPolicy.objects.count(),
        "orders": Order.objects.count(),
        "schools_with_orders": Order.objects.values("school").distinct().count(),
    }
    for status, n in sorted(Counter(Order.objects.values_list("status", flat=True)).items()):
        counts[f"orders_{status}"] = n
    counts["orders_waived"] = Order.objects.filter(channel="waiver").count()
    counts["orders_with_materials"] = OrderLine.objects.filter(kind="materials").count()
    counts["orders_refunded_whole"] = Order.objects.filter(paid_fen__gt=0, refunded_fen=F("paid_fen")).count()
    counts["payment_attempts"] = PaymentAttempt.objects.count()
    counts["refunds"] = Refund.objects.count()
    for status, n in sorted(Counter(Refund.objects.values_list("status", flat=True)).items()):
        counts[f"refunds_{status}"] = n
    rules = Counter(str(r.get("rule", "")) for r in Refund.objects.values_list("basis", flat=True))
    for rule, n in sorted(rules.items()):
        counts[f"refunds_rule_{rule}"] = n
    counts["notifications_received"] = ChannelNotification.objects.count()
    for outcome, n in sorted(Counter(ChannelNotification.objects.values_list("outcome", flat=True)).items()):
        counts[f"notifications_{outcome}"] = n
    counts["notification_alerts"] = ChannelNotification.objects.filter(alert=True).count()
    counts["reconciliations"] = Reconciliation.objects.count()
    counts["reconciled_rows"] = sum(Reconciliation.objects.values_list("rows", flat=True))
    counts["reconciliation_differences"] = sum(Reconciliation.objects.values_list("differences", flat=True))
    counts["settlements"] = LedgerTransaction.objects.filter(kind="settlement").count()
    counts["ledger_transactions"] = LedgerTransaction.objects.count()
    counts["ledger_balanced"] = int(verify().balanced)
    return counts
