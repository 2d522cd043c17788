"""Reconciliation: the simulator's daily bill (WeChat Pay v3's trade-bill layout) matched against our payments and
refunds; an edited bill's differences; Alipay's GBK zip; unreadable bills write nothing; re-running a day settles
once; the export; the report's scope."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, replace
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from openpyxl import load_workbook

from kehou.catalog.tests.test_concurrency import Race
from kehou.core.errors import KehouError, NotFound
from kehou.core.models import AuditEntry
from kehou.core.scope import scope_for
from kehou.enrolment.tests.factories import NOW, key, school_admin
from kehou.ledger.models import LedgerTransaction
from kehou.ledger.selectors import balances, verify
from kehou.ledger.services import ESCROW, clearing_code
from kehou.people.models import Role
from kehou.testing import factories as f

from ..channels.bills import (
    WECHAT_COLUMNS,
    BillRow,
    alipay_bill_zip,
    parse_alipay_bill,
    parse_bill,
    parse_wechat_bill,
    wechat_bill_bytes,
)
from ..channels.simulator import MERCHANT_ID, SimulatorGateway
from ..models import Order, PaymentAttempt, Reconciliation, ReconciliationItem, Refund
from ..selectors_reconciliation import reconciliation_detail, reconciliation_items, reconciliation_list
from ..services.reconciliation import reconcile, reconciliation_workbook
from ..services.refunds import refund_request
from ..services.ticker import simulator_deliver
from .factories import held_seat, ordered, pay_with_simulator

pytestmark = pytest.mark.django_db

DAY = NOW.date()  # 2026-08-24, Beijing time
LATER = NOW + timedelta(hours=20)  # the next morning's import


@dataclass
class Day:
    a: PaymentAttempt
    b: PaymentAttempt
    c: PaymentAttempt
    refund: Refund  # C's order refunded whole

    @property
    def fee(self) -> int:
        return self.a.amount_fen


def a_day_of_payments() -> Day:
    """Three orders paid through the simulator on DAY; the third cancelled before the first session and refunded
    (the channel settles the refund and notifies)."""
    first = held_seat()
    seats = [first, held_seat(school=first.school), held_seat(school=first.school)]
    attempts = []
    for minute, seat in enumerate(seats):
        attempt, _delivered = pay_with_simulator(seat, ordered(seat), now=NOW + timedelta(minutes=minute))
        attempts.append(attempt)
    order_c = Order.objects.get(pk=attempts[2].order_id)
    refund, _created = refund_request(
        actor=seats[2].parent, order=order_c, request_key=key(), now=NOW + timedelta(minutes=5)
    )
    assert refund is not None and refund.status == "processing"
    SimulatorGateway().settle_refund(out_refund_no=refund.refund_no, now=NOW + timedelta(minutes=6))
    simulator_deliver(now=NOW + timedelta(minutes=6, seconds=5))
    refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.amount_fen == attempts[2].amount_fen
    assert all(a.status == "paid" for a in attempts)
    return Day(a=attempts[0], b=attempts[1], c=attempts[2], refund=refund)


def items_of(recon: Reconciliation) -> set[tuple[str, str, str]]:
    return set(ReconciliationItem.objects.filter(reconciliation=recon).values_list("kind", "trade_kind", "reference"))


def settlements() -> list[LedgerTransaction]:
    return list(LedgerTransaction.objects.filter(kind="settlement").order_by("pk"))


# --- the simulator's bill ------------------------------------------------------------------------------------
def test_the_simulators_bill_is_wechats_trade_bill_layout(simulator):
    day = a_day_of_payments()
    content = SimulatorGateway().download_bill(bill_date=DAY)
    lines = content.decode("utf-8").splitlines()
    assert lines[0] == ",".join(WECHAT_COLUMNS)
    assert all(line.startswith("`") for line in lines[1:5])
    assert all(cell.startswith("`") for cell in lines[1].split(","))
    assert lines[5].startswith("总交易单数,应结订单总金额,退款总金额")
    count, settle, refunded = (cell.lstrip("`") for cell in lines[6].split(",")[:3])
    assert (count, settle, refunded) == ("4", f"{3 * day.fee // 100}.00", f"{day.fee // 100}.00")
    rows = parse_wechat_bill(content)
    assert [(r.kind, r.reference, r.amount_fen, r.status) for r in rows] == [
        ("payment", day.a.out_trade_no, day.fee, "paid"),
        ("payment", day.b.out_trade_no, day.fee, "paid"),
        ("payment", day.c.out_trade_no, day.fee, "paid"),
        ("refund", day.refund.refund_no, day.fee, "succeeded"),
    ]
    assert rows[3].out_trade_no == day.c.out_trade_no and rows[3].channel_no == day.refund.channel_refund_id
    assert rows[0].channel_no == day.a.channel_trade_no and rows[0].merchant_id == MERCHANT_ID
    assert rows[0].at is not None and rows[0].at.date() == DAY
    # The next day's bill is empty: a header and a zero summary.
    assert parse_wechat_bill(SimulatorGateway().download_bill(bill_date=DAY + timedelta(days=1))) == []


def test_the_simulators_bill_of_a_day_matches_exactly_and_settles_the_net_into_escrow(simulator):
    day = a_day_of_payments()
    recon = reconcile(channel="simulator", bill_date=DAY, content=None, actor=None, now=LATER)

    assert (recon.rows, recon.matched, recon.differences) == (4, 4, 0)
    assert recon.bill_total_fen == recon.our_total_fen == 2 * day.fee
    assert items_of(recon) == set()
    [settlement] = settlements()
    assert settlement.key == f"settlement:simulator:{DAY.isoformat()}"
    assert [(p.debit.code, p.credit.code, p.amount_fen) for p in settlement.postings.all()] == [
        (ESCROW, clearing_code("simulator"), 2 * day.fee)
    ]
    assert balances()[ESCROW] == 2 * day.fee and balances()[clearing_code("simulator")] == 0
    result = verify()
    assert result.balanced, result.breaches
    assert result.escrow_fen == 2 * day.fee
    entry = AuditEntry.objects.get(action="reconciliation.import")
    assert entry.after["matched"] == 4 and entry.after["settled_fen"] == 2 * day.fee


def test_an_edited_bill_gives_exactly_its_four_differences(simulator):
    day = a_day_of_payments()
    rows = parse_wechat_bill(SimulatorGateway().download_bill(bill_date=DAY))
    by_ref = {r.reference: r for r in rows}
    stranger = replace(by_ref[day.a.out_trade_no], out_trade_no="KP260824NOTOURS01", channel_no="SIMFOREIGN01")
    edited = [
        # A's payment is missing; B's amount changed; the refund failed at the channel; a stranger's payment added.
        replace(by_ref[day.b.out_trade_no], amount_fen=day.fee + 100),
        by_ref[day.c.out_trade_no],
        replace(by_ref[day.refund.refund_no], status="failed"),
        stranger,
    ]
    content = wechat_bill_bytes(edited, merchant_id=MERCHANT_ID)
    recon = reconcile(channel="simulator", bill_date=DAY, content=content, actor=None, now=LATER)

    assert items_of(recon) == {
        ("missing", "payment", day.a.out_trade_no),
        ("amount", "payment", day.b.out_trade_no),
        ("status", "refund", day.refund.refund_no),
        ("extra", "payment", "KP260824NOTOURS01"),
    }
    assert (recon.rows, recon.matched, recon.differences) == (4, 1, 4)
    amount = ReconciliationItem.objects.get(reconciliation=recon, kind="amount")
    assert (amount.bill_amount_fen, amount.our_amount_fen) == (day.fee + 100, day.fee)
    status = ReconciliationItem.objects.get(reconciliation=recon, kind="status")
    assert status.note == "bill: failed · ours: succeeded"
    missing = ReconciliationItem.objects.get(reconciliation=recon, kind="missing")
    assert (missing.bill_amount_fen, missing.our_amount_fen) == (None, day.fee)
    # Only what matched is settled: C's payment (its refund is in dispute).
    [settlement] = settlements()
    assert settlement.postings.get().amount_fen == day.fee
    assert verify().balanced


def test_re_running_a_day_replaces_its_items_and_settles_once(simulator):
    day = a_day_of_payments()
    first = reconcile(channel="simulator", bill_date=DAY, content=None, actor=None, now=LATER)
    again = reconcile(channel="simulator", bill_date=DAY, content=None, actor=None, now=LATER + timedelta(hours=1))
    assert first.pk == again.pk and Reconciliation.objects.count() == 1
    assert (again.rows, again.matched, again.differences) == (4, 4, 0)
    assert len(settlements()) == 1 and balances()[ESCROW] == 2 * day.fee
    assert AuditEntry.objects.filter(action="reconciliation.import").count() == 2
    assert verify().balanced


def test_a_corrected_bill_settles_only_the_increase_and_a_smaller_one_is_a_difference_not_a_withdrawal(simulator):
    day = a_day_of_payments()
    rows = parse_wechat_bill(SimulatorGateway().download_bill(bill_date=DAY))
    partial = wechat_bill_bytes([r for r in rows if r.reference != day.a.out_trade_no], merchant_id=MERCHANT_ID)

    recon = reconcile(channel="simulator", bill_date=DAY, content=partial, actor=None, now=LATER)
    assert items_of(recon) == {("missing", "payment", day.a.out_trade_no)}
    assert balances()[ESCROW] == day.fee

    recon = reconcile(channel="simulator", bill_date=DAY, content=None, actor=None, now=LATER)
    assert items_of(recon) == set()
    assert [t.key for t in settlements()] == [
        f"settlement:simulator:{DAY.isoformat()}",
        f"settlement:simulator:{DAY.isoformat()}:2",
    ]
    assert balances()[ESCROW] == 2 * day.fee

    # The partial bill again: nothing leaves escrow; the shortfall is reported.
    recon = reconcile(channel="simulator", bill_date=DAY, content=partial, actor=None, now=LATER)
    assert items_of(recon) == {
        ("missing", "payment", day.a.out_trade_no),
        ("amount", "settlement", f"settlement:simulator:{DAY.isoformat()}"),
    }
    assert len(settlements()) == 2 and balances()[ESCROW] == 2 * day.fee
    assert verify().balanced


def test_a_day_whose_refunds_exceed_its_payments_posts_nothing_and_reports_it(simulator):
    day = a_day_of_payments()
    rows = parse_wechat_bill(SimulatorGateway().download_bill(bill_date=DAY))
    only_refund = wechat_bill_bytes([r for r in rows if r.kind == "refund"], merchant_id=MERCHANT_ID)
    recon = reconcile(channel="simulator", bill_date=DAY, content=only_refund, actor=None, now=LATER)
    assert ("amount", "settlement", f"settlement:simulator:{DAY.isoformat()}") in items_of(recon)
    assert ReconciliationItem.objects.get(trade_kind="settlement").bill_amount_fen == -day.fee
    assert settlements() == [] and verify().balanced


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_simultaneous_imports_of_a_day_settle_it_once(simulator, tmp_path):
    day = a_day_of_payments()
    content = SimulatorGateway().download_bill(bill_date=DAY)
    race = Race(tmp_path)
    race.start()
    try:
        results = race.run(
            *(
                lambda: reconcile(channel="simulator", bill_date=DAY, content=content, actor=None, now=LATER)
                for _ in range(6)
            )
        )
        for r in results:
            if isinstance(r, Exception):
                raise r
        assert len({r.pk for r in results}) == 1
        assert race.read(lambda: len(settlements())) == 1
        assert race.read(lambda: balances()[ESCROW]) == 2 * day.fee
        assert race.read(lambda: ReconciliationItem.objects.count()) == 0
        assert race.read(lambda: verify().balanced)
    finally:
        race.stop()


# --- unreadable bills ----------------------------------------------------------------------------------------
def _truncated() -> bytes:
    text = wechat_bill_bytes(
        [BillRow("payment", "KP1", "", "SIM1", 100, "paid", NOW, MERCHANT_ID)], merchant_id=MERCHANT_ID
    ).decode()
    return "\r\n".join(text.splitlines()[:2]).encode()  # the summary rows are cut off


def _bad_amount() -> bytes:
    good = wechat_bill_bytes([BillRow("payment", "KP1", "", "SIM1", 100, "paid", NOW)], merchant_id=MERCHANT_ID)
    return good.replace(b"`1.00", b"`1.0x")


def _alipay_without_end() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "2088_20260824_业务明细.csv", "#支付宝业务明细查询\r\n#-----业务明细列表-----\r\n".encode("gbk")
        )
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("channel", "content"),
    [
        ("simulator", b""),
        ("simulator", b"\x00\x01 this is not a bill"),
        ("simulator", "交易时间,商户订单号\r\n".encode()),
        ("simulator", b"\xff\xfe\xfa not utf-8"),
        ("simulator", b"\x1f\x8b\x08\x00 damaged gzip"),
        ("simulator", "truncated"),
        ("simulator", "bad_amount"),
        ("alipay", b"PK\x03\x04 not really a zip"),
        ("alipay", "alipay_without_end"),
    ],
)
def test_an_unreadable_bill_is_refused_with_a_clear_code_and_writes_nothing(simulator, channel, content):
    a_day_of_payments()
    content = {"truncated": _truncated, "bad_amount": _bad_amount, "alipay_without_end": _alipay_without_end}.get(
        content, lambda: content
    )()
    audits = AuditEntry.objects.count()
    with pytest.raises(KehouError) as err:
        reconcile(channel=channel, bill_date=DAY, content=content, actor=None, now=LATER)
    assert err.value.code == "bill_unreadable" and err.value.fields["reason"]
    assert Reconciliation.objects.count() == 0 and ReconciliationItem.objects.count() == 0
    assert settlements() == [] and AuditEntry.objects.count() == audits


def test_a_bill_of_another_day_or_merchant_is_refused(simulator):
    a_day_of_payments()
    content = SimulatorGateway().download_bill(bill_date=DAY)
    with pytest.raises(KehouError) as err:
        reconcile(channel="simulator", bill_date=DAY + timedelta(days=1), content=content, actor=None, now=LATER)
    assert err.value.code == "bill_wrong_date"
    foreign = wechat_bill_bytes(parse_wechat_bill(content), merchant_id="1900000999")
    with pytest.raises(KehouError) as err:
        reconcile(channel="simulator", bill_date=DAY, content=foreign, actor=None, now=LATER)
    assert err.value.code == "bill_wrong_merchant"
    assert Reconciliation.objects.count() == 0 and settlements() == []


# --- Alipay --------------------------------------------------------------------------------------------------
ALIPAY_HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,"
    "商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,"
    "商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注"
)


def _alipay_line(trade_no: str, out_trade_no: str, kind: str, amount: str, received: str, request_no: str) -> str:
    cells = [f"{trade_no}\t", f"{out_trade_no}\t", kind, "机器人编程", "2026-08-24 09:00:01", "2026-08-24 09:00:05"]
    cells += ["", "", "", "", "159****0000", amount, received, "0.00", "0.00", "0.00", "0.00", "0.00", ""]
    cells += ["0.00", "0.00", f"{request_no}\t" if request_no else "", "0.00", "0.00", ""]
    return ",".join(cells)


def test_an_alipay_bill_zip_of_gbk_csv_reads_its_payments_and_refunds():
    detail = "\r\n".join(
        [
            "#支付宝业务明细查询",
            "#账号：[20881234567890120156]",
            "#起始日期：[2026年08月24日 00:00:00]   终止日期：[2026年08月25日 00:00:00]",
            "#-----------------------------------------业务明细列表----------------------------------------",
            ALIPAY_HEADER,
            _alipay_line("2026082422001400001", "KP260824090000AAAA", "交易", "1234.50", "1234.50", ""),
            _alipay_line("2026082422001400002", "KP260824090000BBBB", "交易", "0.01", "0.01", ""),
            _alipay_line("2026082422001400001", "KP260824090000AAAA", "退款", "1234.50", "-600.25", "KR26082401"),
            "#-----------------------------------------业务明细列表结束------------------------------------",
            "#交易合计：2笔，商家实收共：1234.51元，商家优惠共：0.00元",
            "#退款合计：1笔，商家实收退款共：-600.25元，商家优惠退款共：0.00元",
            "#导出时间：[2026年08月25日 09:12:00]",
        ]
    ).encode("gbk")
    summary = "#支付宝业务汇总查询\r\n#-----业务汇总列表-----\r\n门店编号,门店名称\r\n".encode("gbk")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("20881234567890120156_20260824_业务明细(汇总).csv", summary)
        archive.writestr("20881234567890120156_20260824_业务明细.csv", detail)

    rows = parse_alipay_bill(buffer.getvalue())
    assert [(r.kind, r.out_trade_no, r.out_refund_no, r.amount_fen, r.status) for r in rows] == [
        ("payment", "KP260824090000AAAA", "", 123450, "paid"),
        ("payment", "KP260824090000BBBB", "", 1, "paid"),
        ("refund", "KP260824090000AAAA", "KR26082401", 60025, "succeeded"),
    ]
    assert rows[0].channel_no == "2026082422001400001" and rows[0].merchant_id == "2088123456789012"
    assert rows[2].at is not None and (rows[2].at.date(), rows[2].at.hour, rows[2].at.second) == (DAY, 9, 5)
    assert parse_bill("alipay", buffer.getvalue()) == rows
    # The Alipay gateway hands over the detail file alone, re-encoded as UTF-8: the same rows.
    assert parse_alipay_bill(detail.decode("gbk").encode("utf-8")) == rows
    assert parse_alipay_bill(detail) == rows


def test_the_alipay_bill_builder_and_reader_agree():
    rows = [
        BillRow("payment", "KP1", "", "2026082422001", 4500, "paid", NOW, "2088000000000001"),
        BillRow("refund", "KP1", "KR1", "2026082422001", 1500, "succeeded", NOW, "2088000000000001"),
    ]
    content = alipay_bill_zip(rows, account="2088000000000001", bill_date=date(2026, 8, 24))
    assert parse_alipay_bill(content) == rows


def test_an_alipay_bill_reconciles_against_payments_through_alipay(simulator):
    seat = held_seat()
    order = ordered(seat)
    # A payment through Alipay as the Alipay gateway would have applied it (its keys are not configured here).
    attempt = PaymentAttempt.objects.create(
        order=order,
        channel="alipay",
        out_trade_no="KP260824090000ALIP",
        amount_fen=order.total_fen,
        status="paid",
        channel_trade_no="2026082422001400009",
        created_at=NOW,
        finished_at=NOW + timedelta(seconds=5),
    )
    row = BillRow("payment", attempt.out_trade_no, "", attempt.channel_trade_no, order.total_fen, "paid", NOW)
    content = alipay_bill_zip([row], account="20880000000000010156", bill_date=DAY)
    recon = reconcile(channel="alipay", bill_date=DAY, content=content, actor=None, now=LATER)
    assert (recon.rows, recon.matched, recon.differences) == (1, 1, 0)
    [settlement] = settlements()
    assert settlement.key == f"settlement:alipay:{DAY.isoformat()}"
    assert settlement.postings.get().credit.code == clearing_code("alipay")


# --- the command, the export, the scope ----------------------------------------------------------------------
def test_the_command_prints_one_json_line_and_refuses_a_bad_file(simulator, tmp_path):
    day = a_day_of_payments()
    out = io.StringIO()
    call_command("reconcile", "--channel", "simulator", "--date", DAY.isoformat(), stdout=out)
    line = json.loads(out.getvalue().strip())
    assert line == {
        "channel": "simulator",
        "date": DAY.isoformat(),
        "rows": 4,
        "matched": 4,
        "differences": 0,
        "missing": 0,
        "extra": 0,
        "amount": 0,
        "status": 0,
        "bill_total_fen": 2 * day.fee,
        "our_total_fen": 2 * day.fee,
        "settled_fen": 2 * day.fee,
    }
    bill = tmp_path / "bill.csv"
    bill.write_bytes(SimulatorGateway().download_bill(bill_date=DAY))
    out = io.StringIO()
    call_command("reconcile", "--channel", "simulator", "--date", DAY.isoformat(), "--file", str(bill), stdout=out)
    assert json.loads(out.getvalue())["matched"] == 4 and len(settlements()) == 1
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"nonsense")
    with pytest.raises(CommandError, match="bill_unreadable"):
        call_command("reconcile", "--channel", "simulator", "--date", DAY.isoformat(), "--file", str(bad))
    with pytest.raises(CommandError):
        call_command("reconcile", "--channel", "simulator", "--date", "24/08/2026")


def test_the_report_exports_its_differences_and_figures_to_excel(simulator):
    day = a_day_of_payments()
    rows = parse_wechat_bill(SimulatorGateway().download_bill(bill_date=DAY))
    edited = [r for r in rows if r.reference != day.a.out_trade_no]
    recon = reconcile(
        channel="simulator",
        bill_date=DAY,
        content=wechat_bill_bytes(edited, merchant_id=MERCHANT_ID),
        actor=None,
        now=LATER,
    )
    with translation.override("en"):
        sheet = load_workbook(io.BytesIO(reconciliation_workbook(recon))).active
    values = [tuple(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0][:3] == ("Difference", "Kind", "Reference")
    assert values[1][1:5] == ("Payment", day.a.out_trade_no, None, day.fee / 100)
    assert any(row[0] == "Settled into escrow" and row[4] == day.fee / 100 for row in values)


def test_only_the_city_bureau_sees_the_report(simulator):
    a_day_of_payments()
    recon = reconcile(channel="simulator", bill_date=DAY, content=None, actor=None, now=LATER)
    city = f.UserFactory()
    f.grant(city, Role.CITY_ADMIN)
    school = school_admin(PaymentAttempt.objects.first().order.school)  # type: ignore[union-attr]
    assert list(reconciliation_list(scope=scope_for(city))) == [recon]
    assert reconciliation_detail(scope=scope_for(city), pk=recon.pk) == recon
    assert reconciliation_items(scope=scope_for(city), reconciliation=recon).count() == 0
    assert list(reconciliation_list(scope=scope_for(school))) == []
    with pytest.raises(NotFound):
        reconciliation_detail(scope=scope_for(school), pk=recon.pk)
    with pytest.raises(NotFound):
        reconciliation_detail(scope=scope_for(city), pk="x")
