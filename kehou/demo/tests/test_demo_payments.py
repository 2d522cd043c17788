"""The demo payments: the classes' places paid through the simulator, full, pro-rata and tiered refunds, one awaiting
the school, a late payment refunded automatically, a duplicated and a forged notification, yesterday's bill
reconciled and settled into escrow; the ledger balances; loading again adds nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import transaction
from django.db.models import F
from django.test import override_settings

from kehou.core import clock
from kehou.core.models import AuditEntry
from kehou.demo.common import TZ, DemoError, load_base
from kehou.demo.stages import catalog, enrolment, payments
from kehou.demo.stages.attendance import build_attendance
from kehou.demo.stages.city import build_city
from kehou.enrolment.models import Enrolment
from kehou.ledger.models import LedgerTransaction
from kehou.ledger.selectors import verify
from kehou.payments.models import ChannelNotification, Order, Reconciliation, Refund, RefundPolicy

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=TZ)
BASE = load_base(NOW)
SCALE = 0.25


def _row_counts() -> dict[str, int]:
    models = [*apps.get_app_config("payments").get_models(), *apps.get_app_config("ledger").get_models()]
    return {m.__name__: m._default_manager.count() for m in models} | {"AuditEntry": AuditEntry.objects.count()}


@dataclass
class Demo:
    counts: dict[str, int]
    unpaid_digest: str  # the places of the classes loaded without payments (rolled back)
    unpaid_state: str  # what the payments stage says to classes loaded without payments
    paid_digest: str  # the places of the classes loaded with payments, before the payments stage's own story


@pytest.fixture(scope="class")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The city, the catalog, then the classes twice: without payments (fingerprinted, rolled back), and with them,
    followed by the payments stage; shared by the checks of the class and rolled back afterwards."""
    settings = override_settings(VAR_DIR=tmp_path_factory.mktemp("var"), KEHOU_PAYMENT_CHANNELS=["simulator"])
    with settings, django_db_blocker.unblock(), transaction.atomic():
        assert build_city(scale=SCALE, now=NOW).loaded
        assert catalog.build_catalog(now=NOW).loaded
        with transaction.atomic():
            assert enrolment.build_enrolment(now=NOW).loaded
            unpaid_digest = enrolment.enrolment_digest(BASE)
            unpaid = payments.build_payments(now=NOW)
            assert not unpaid.loaded and not Order.objects.exists()
            transaction.set_rollback(True)
        assert enrolment.build_enrolment(now=NOW, places=payments.DemoPayer()).loaded
        paid_digest = enrolment.enrolment_digest(BASE)
        result = payments.build_payments(now=NOW)
        assert result.loaded
        yield Demo(result.counts, unpaid_digest, unpaid.state, paid_digest)
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_the_payments_need_the_classes():
    with pytest.raises(DemoError, match="classes first"):
        payments.build_payments(now=NOW)


@pytest.mark.django_db
@pytest.mark.usefixtures("demo")
class TestTheLoadedPayments:
    def test_the_places_are_those_of_the_classes_demo_paid(self, demo):
        assert demo.paid_digest == demo.unpaid_digest
        assert demo.unpaid_state == "unpaid"
        confirmed = Enrolment.objects.filter(status="confirmed")
        assert confirmed.exists()
        unpaid = confirmed.filter(waived=False).exclude(order__status="paid")  # a waived place needs no order
        assert not unpaid.exists()
        paid = Order.objects.filter(status="paid", channel="simulator")
        assert paid.count() >= 0.9 * Order.objects.filter(status="paid").count()
        assert paid.values("school").distinct().count() >= 10
        assert Order.objects.filter(lines__kind="materials", status="paid").exists()
        assert not Order.objects.filter(pupil__guardians__user__username="parent").exists()

    def test_policies_city_pro_rata_and_a_tiered_district(self):
        city = RefundPolicy.objects.get(region__code="360100")
        tiered = RefundPolicy.objects.get(region__code=payments.TIERED_DISTRICT)
        assert city.after_start == "pro_rata" and not city.approval_after_start
        assert tiered.after_start == "tiered" and tiered.approval_after_start and tiered.no_refund_after < 1

    def test_full_partial_pending_and_automatic_refunds(self, demo):
        refunds = Refund.objects.select_related("order")
        full = [r for r in refunds if r.basis.get("rule") == "before_start"]
        assert full and all(r.course_fen == r.order.lines.get(kind="course").amount_fen for r in full)
        assert all(r.status == "succeeded" for r in full if r.requested_at < BASE - payments.SETTLE_AFTER)
        partial = Order.objects.filter(refunded_fen__gt=0, refunded_fen__lt=F("paid_fen"))
        assert partial.filter(refunds__basis__rule="pro_rata", refunds__status="succeeded").exists()
        assert partial.filter(refunds__basis__rule="tiered", refunds__status="succeeded").exists()
        for refund in refunds.filter(basis__rule__in=["pro_rata", "tiered"]):
            assert 0 < refund.basis["sessions_held"] < refund.basis["sessions_total"]
            assert 0 < refund.course_fen < refund.order.lines.get(kind="course").amount_fen
        waiting = refunds.get(status="pending_approval")
        assert waiting.order.school.district.code == payments.TIERED_DISTRICT and waiting.order.enrolment.status == (
            "cancelled"
        )
        late = refunds.get(basis__rule="automatic")
        assert late.status == "succeeded" and late.amount_fen == late.order.total_fen
        assert late.order.status == "paid" and late.order.refunded_fen == late.order.paid_fen
        assert late.order.enrolment.status == "expired"
        assert demo.counts["refunds_pending_approval"] == 1

    def test_duplicate_and_forged_notifications(self):
        assert ChannelNotification.objects.filter(outcome="duplicate").count() == 1
        assert ChannelNotification.objects.filter(outcome="late_refunded").count() == 1
        forged = ChannelNotification.objects.get(outcome="rejected")
        assert forged.alert and not forged.verified and forged.order_id is None
        assert AuditEntry.objects.filter(action="payment.applied").count() == (
            ChannelNotification.objects.filter(outcome="applied", out_refund_no="").count()
        )

    def test_yesterdays_bill_is_reconciled_and_settled(self):
        recon = Reconciliation.objects.get()
        assert recon.channel == "simulator" and recon.bill_date == BASE.date() - timedelta(days=1)
        assert recon.rows > 0 and recon.matched == recon.rows and recon.differences == 0
        settlement = LedgerTransaction.objects.get(kind="settlement")
        assert settlement.postings.get().amount_fen == recon.bill_total_fen > 0

    def test_the_ledger_balances(self, demo):
        result = verify()
        assert result.balanced, result.breaches
        assert demo.counts["ledger_balanced"] == 1 and result.transactions == demo.counts["ledger_transactions"]
        assert demo.counts == payments.payments_counts()

    def test_loading_again_adds_nothing(self):
        build_attendance(
            now=clock.now()
        )  # the session in progress now, as load_demo arranges it (see the classes test)
        from kehou.demo.stages.payroll import build_payroll

        build_payroll(now=clock.now())  # and the class-hour pay
        from kehou.demo.stages.teaching import build_teaching

        build_teaching(now=clock.now())  # and the course outlines
        from kehou.demo.stages.supervision import build_supervision

        build_supervision(now=clock.now())  # and the dashboards' rollups and reports
        before = _row_counts()
        assert not payments.build_payments(now=NOW).loaded
        out = StringIO()
        call_command("load_demo", stdout=out)
        assert "payments and refunds are already loaded" in out.getvalue()
        assert _row_counts() == before
