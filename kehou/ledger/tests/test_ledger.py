"""The escrow ledger: balanced lines, idempotent keys, accounts that must not go negative, append-only, verify."""

from __future__ import annotations

import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from kehou.core.errors import Conflict, KehouError
from kehou.ledger import services
from kehou.ledger.models import LedgerTransaction, Posting
from kehou.ledger.selectors import balances, verify
from kehou.ledger.services import ESCROW, REFUNDS_PAYABLE, Leg, clearing_code, post, prepaid_code
from kehou.testing import factories as f

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 9, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
WECHAT = clearing_code("wechat")


@pytest.fixture
def school():
    return f.SchoolFactory()


def pay(school, amount: int, key: str = "pay-1"):
    return post(
        key=key,
        kind="payment",
        legs=[Leg(WECHAT, prepaid_code(school.pk), amount)],
        now=NOW,
        school_id=school.pk,
        reference="order:1",
    )


def test_a_payment_is_one_balanced_line_and_moves_two_balances(school):
    txn, created = pay(school, 120_00)
    assert created and txn.postings.count() == 1
    assert balances() == {WECHAT: 120_00, prepaid_code(school.pk): 120_00}
    result = verify()
    assert result.balanced and result.transactions == 1 and result.escrow_fen == 120_00


def test_the_same_key_twice_is_one_transaction_and_another_body_is_refused(school):
    first, _ = pay(school, 120_00)
    again, created = pay(school, 120_00)
    assert again.pk == first.pk and not created
    with pytest.raises(Conflict) as err:
        pay(school, 99_00)
    assert err.value.code == "ledger_key_reused"
    assert LedgerTransaction.objects.count() == 1 and Posting.objects.count() == 1


@pytest.mark.parametrize(
    "legs",
    [[], [Leg(WECHAT, WECHAT, 100)], [Leg(WECHAT, "prepaid:school:0", 0)], [Leg(WECHAT, ESCROW, -5)]],
)
def test_bad_legs_are_refused_and_nothing_written(legs):
    with pytest.raises(KehouError) as err:
        post(key="bad", kind="payment", legs=legs, now=NOW)
    assert err.value.code == "ledger_leg_invalid"
    assert LedgerTransaction.objects.count() == 0


def test_an_unknown_account_is_refused(school):
    with pytest.raises(KehouError) as err:
        post(key="x1", kind="payment", legs=[Leg("petty_cash", ESCROW, 100)], now=NOW)
    assert err.value.code == "unknown_account"
    assert LedgerTransaction.objects.count() == 0


def test_a_refund_beyond_the_prepayment_is_refused(school):
    pay(school, 100_00)
    with pytest.raises(Conflict) as err:
        post(key="r1", kind="refund", legs=[Leg(prepaid_code(school.pk), REFUNDS_PAYABLE, 100_01)], now=NOW)
    assert err.value.code == "ledger_insufficient"
    post(key="r2", kind="refund", legs=[Leg(prepaid_code(school.pk), REFUNDS_PAYABLE, 100_00)], now=NOW)
    post(key="r3", kind="refund", legs=[Leg(REFUNDS_PAYABLE, WECHAT, 100_00)], now=NOW)
    assert verify().balanced and verify().escrow_fen == 0


def test_the_ledger_is_append_only_in_the_database(school):
    txn, _ = pay(school, 100)
    posting = txn.postings.get()
    for statement in (
        lambda: Posting.objects.filter(pk=posting.pk).update(amount_fen=1),
        lambda: Posting.objects.filter(pk=posting.pk).delete(),
        lambda: LedgerTransaction.objects.filter(pk=txn.pk).update(memo="edited"),
    ):
        with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
            statement()
    assert Posting.objects.get().amount_fen == 100


def test_ledger_verify_prints_one_line_and_fails_on_a_breach(school):
    pay(school, 50_00)
    out = io.StringIO()
    call_command("ledger_verify", stdout=out)
    assert json.loads(out.getvalue()) == {"balanced": True, "transactions": 1, "escrow_fen": 50_00, "breaches": []}
    # A line written around the service takes a prepayment account below zero.
    rogue = LedgerTransaction.objects.create(key="rogue", kind="refund", at=NOW)
    Posting.objects.create(
        transaction=rogue,
        debit=services.account(prepaid_code(school.pk)),
        credit=services.account(REFUNDS_PAYABLE),
        amount_fen=60_00,
    )
    with pytest.raises(SystemExit) as exit_:
        call_command("ledger_verify", stdout=io.StringIO())
    assert exit_.value.code == 1
    assert any("is negative" in b for b in verify().breaches)


OPS = st.lists(
    st.tuples(st.sampled_from(["pay", "settle", "refund", "refunded", "release", "payout"]), st.integers(1, 50_000)),
    max_size=30,
)


@settings(max_examples=40, deadline=None)
@given(ops=OPS, repeat=st.booleans())
def test_any_sequence_keeps_the_ledger_balanced_and_custody_exact(ops, repeat):
    with transaction.atomic():
        school = f.SchoolFactory()
        pre = prepaid_code(school.pk)
        legs = {
            "pay": ("payment", WECHAT, pre),
            "settle": ("settlement", ESCROW, WECHAT),
            "refund": ("refund", pre, REFUNDS_PAYABLE),
            "refunded": ("refund", REFUNDS_PAYABLE, WECHAT),
            "release": ("release", pre, services.TEACHER_PAY_PAYABLE),
            "payout": ("payout", services.TEACHER_PAY_PAYABLE, ESCROW),
        }
        expected = 0
        for i, (op, amount) in enumerate(ops):
            kind, debit, credit = legs[op]
            for _attempt in range(2 if repeat else 1):
                try:
                    _txn, created = post(key=f"k{i}", kind=kind, legs=[Leg(debit, credit, amount)], now=NOW)
                except Conflict as refusal:
                    assert refusal.code == "ledger_insufficient"
                    break
                if created:
                    expected += {"pay": amount, "refunded": -amount}.get(op, 0)
                    expected -= amount if op == "payout" else 0
        result = verify()
        assert result.balanced, result.breaches
        assert result.escrow_fen == expected
        assert all(v >= 0 for code, v in balances().items() if not code.startswith("clearing:"))
        transaction.set_rollback(True)


def test_a_correction_posts_the_opposite_lines_once_and_keeps_the_original(school):
    txn, _ = pay(school, 70_00, key="pay-wrong")
    city = f.UserFactory()
    from kehou.people.models import Role

    f.grant(city, Role.CITY_ADMIN)
    with transaction.atomic():
        fix = services.correct(actor=city, original=txn, reason="重复入账", now=NOW)
        again = services.correct(actor=city, original=txn, reason="重复入账", now=NOW)
    assert fix.pk == again.pk and fix.kind == "correction" and fix.corrects == txn
    assert balances()[WECHAT] == 0 and LedgerTransaction.objects.count() == 2
    result = verify()
    assert result.balanced and result.escrow_fen == 0
    school_admin = f.UserFactory()
    f.grant(school_admin, Role.SCHOOL_ADMIN, school=school)
    with pytest.raises(KehouError) as err, transaction.atomic():
        services.correct(actor=school_admin, original=txn, reason="x", now=NOW)
    assert err.value.code == "not_city_admin"


def test_ledger_correct_command(school):
    pay(school, 10_00, key="pay-cmd")
    out = io.StringIO()
    call_command("ledger_correct", "pay-cmd", "--reason", "测试", stdout=out)
    assert json.loads(out.getvalue()) == {"corrected": "pay-cmd", "correction": "correction:pay-cmd", "lines": 1}
    assert verify().balanced
