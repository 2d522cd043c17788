"""The channels' daily bills: building them (the simulator's, test fixtures) and reading them into :class:`BillRow`
values for reconciliation. Amounts are read from yuan text into integer fen without float.

**WeChat Pay v3 trade bill** (``GET /v3/bill/tradebill?bill_date=…&bill_type=ALL``, then the file at its
``download_url``, gzip when ``tar_type=GZIP``): UTF-8 CSV; a header row; one row per payment or refund with every
field prefixed by a backquote (spreadsheet programs then keep long numbers as text); then the summary header
(``总交易单数,…``) and one summary row. Columns are read by their header names, so the older 24-column layout (without
订单金额/申请退款金额/费率备注) reads too. A payment row has 交易状态 ``SUCCESS`` (or REVOKED, CLOSED, PAYERROR…); a
refund row has ``REFUND`` with 退款状态 ``SUCCESS``/``PROCESSING``/``CHANGE``/``ABNORMAL``… A payment's amount is its
订单金额 (what the payer was charged; 应结订单金额 in the old layout), a refund's its 申请退款金额 (退款金额 in the old
layout): the amounts our attempts and refunds carry. The summary's 总交易单数 must equal the rows read (a truncated
file is refused).

**Alipay trade bill** (``alipay.data.dataservice.bill.downloadurl.query`` with ``bill_type=trade``): a zip of GBK
CSV files; the detail file ``<pid>_<yyyymmdd>_业务明细.csv`` has ``#`` lines above the data (title, ``#账号：[…]``,
the period, the ``#---…业务明细列表…---`` start marker), the header row, rows whose fields are padded with tabs, and
``#`` lines below (the ``…业务明细列表结束…`` end marker, the totals, the export time); the end marker must be there.
业务类型 ``交易`` is a payment (amount: 订单金额), ``退款`` a refund (amount: the magnitude of the negative 商家实收,
number: 退款批次号/请求号 = our ``out_request_no``). The bill lists only what succeeded. The reader takes the zip as
downloaded or the detail CSV alone (UTF-8 or GBK), which is what the Alipay gateway's ``download_bill`` returns; the
``#账号`` (partner id + a 4-digit account suffix) gives the rows' merchant id, the 16-digit partner id.

Anything else — not a bill, a truncated one, an amount that is not yuan, a state we do not know — raises
:class:`BillUnreadable` with the reason; nothing is guessed.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from kehou.core.money import fen_to_yuan_str, yuan_str_to_fen

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_BILL_BYTES = 64 * 1024 * 1024  # a file (or an unpacked member) larger than this is refused

PAYMENT, REFUND = "payment", "refund"
# Normalised states. Payments: paid | created | failed | closed. Refunds: succeeded | processing | failed.
PAID, SUCCEEDED, PROCESSING, FAILED, CLOSED, CREATED = "paid", "succeeded", "processing", "failed", "closed", "created"


class BillUnreadable(ValueError):
    """The bytes are not a readable bill of the expected layout; ``reason`` says why (for the error's fields)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class BillRow:
    kind: str  # payment | refund
    out_trade_no: str
    out_refund_no: str  # refunds only
    channel_no: str  # the channel's trade number (payment) or refund id (refund)
    amount_fen: int
    status: str  # payment: paid | created | failed | closed; refund: succeeded | processing | failed
    at: datetime | None  # aware, Asia/Shanghai
    merchant_id: str = ""  # the merchant the bill is of, when it says

    @property
    def reference(self) -> str:
        return self.out_refund_no if self.kind == REFUND else self.out_trade_no


def _yuan(text: str, where: str) -> int:
    try:
        return yuan_str_to_fen(text or "0")
    except ValueError:
        raise BillUnreadable(f"{where}: not a yuan amount: {text[:20]!r}") from None


def _time(text: str, where: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)
    except ValueError:
        raise BillUnreadable(f"{where}: not a time: {text[:25]!r}") from None


def _limited(content: bytes) -> bytes:
    if not isinstance(content, (bytes, bytearray)) or not content:
        raise BillUnreadable("empty file")
    if len(content) > MAX_BILL_BYTES:
        raise BillUnreadable("file too large")
    return bytes(content)


# --- WeChat Pay v3 -------------------------------------------------------------------------------------------
WECHAT_COLUMNS = (
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
)
WECHAT_SUMMARY = (
    "总交易单数",
    "应结订单总金额",
    "退款总金额",
    "充值券退款总金额",
    "手续费总金额",
    "订单总金额",
    "申请退款总金额",
)
WECHAT_TRADE_STATES = {
    "SUCCESS": PAID,
    "REVOKED": CLOSED,
    "CLOSED": CLOSED,
    "PAYERROR": FAILED,
    "NOTPAY": CREATED,
    "USERPAYING": CREATED,
}
WECHAT_REFUND_STATES = {
    "SUCCESS": SUCCEEDED,
    "PROCESSING": PROCESSING,
    "CHANGE": FAILED,
    "ABNORMAL": FAILED,
    "REFUNDCLOSE": FAILED,
    "CLOSED": FAILED,
    "FAIL": FAILED,
}
_WECHAT_OUT_TRADE = {PAID: "SUCCESS", CLOSED: "CLOSED", FAILED: "PAYERROR", CREATED: "NOTPAY"}
_WECHAT_OUT_REFUND = {SUCCEEDED: "SUCCESS", PROCESSING: "PROCESSING", FAILED: "ABNORMAL"}


def _wechat_cells(line: str) -> list[str]:
    """A data row: every field starts with a backquote, so ``,``` separates fields even if a text has commas."""
    if not line.startswith("`"):
        raise BillUnreadable("a row does not start with a backquote")
    return [cell.strip() for cell in line[1:].split(",`")]


def parse_wechat_bill(content: bytes) -> list[BillRow]:
    """Read a WeChat Pay v3 trade bill (plain or gzip)."""
    content = _limited(content)
    if content[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(content)) as unpacked:
                content = unpacked.read(MAX_BILL_BYTES + 1)
        except (OSError, EOFError, zlib.error):
            raise BillUnreadable("damaged gzip") from None
        content = _limited(content)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BillUnreadable("not UTF-8 text") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise BillUnreadable("empty file")
    header = [h.strip().lstrip("`") for h in lines[0].split(",")]
    col = {name: i for i, name in enumerate(header)}
    needed = ("交易时间", "商户号", "微信订单号", "商户订单号", "交易状态", "应结订单金额", "商户退款单号", "退款金额")
    missing = [name for name in (*needed, "退款状态") if name not in col]
    if missing:
        raise BillUnreadable(f"not a WeChat Pay trade bill (no {', '.join(missing[:3])})")
    rows: list[BillRow] = []
    summary_at = None
    for number, line in enumerate(lines[1:], start=2):
        if line.split(",", 1)[0].strip() == WECHAT_SUMMARY[0]:
            summary_at = number
            break
        cells = _wechat_cells(line)
        if len(cells) < len(header) - 1:  # the last column (费率备注) may be cut off
            raise BillUnreadable(f"row {number}: {len(cells)} fields, {len(header)} expected")
        cells += [""] * (len(header) - len(cells))

        def cell(name: str, cells: list[str] = cells) -> str:
            return cells[col[name]] if name in col else ""

        where = f"row {number}"
        state = cell("交易状态").upper()
        if state == "REFUND":
            refund_state = cell("退款状态").upper()
            if refund_state not in WECHAT_REFUND_STATES:
                raise BillUnreadable(f"{where}: unknown refund state {refund_state[:20]!r}")
            applied = _yuan(cell("申请退款金额"), where) if "申请退款金额" in col else 0
            amount = applied or _yuan(cell("退款金额"), where)
            rows.append(
                BillRow(
                    kind=REFUND,
                    out_trade_no=cell("商户订单号"),
                    out_refund_no=cell("商户退款单号"),
                    channel_no=cell("微信退款单号"),
                    amount_fen=amount,
                    status=WECHAT_REFUND_STATES[refund_state],
                    at=_time(cell("交易时间"), where),
                    merchant_id=cell("商户号"),
                )
            )
        elif state in WECHAT_TRADE_STATES:
            amount = _yuan(cell("订单金额") if "订单金额" in col else cell("应结订单金额"), where)
            rows.append(
                BillRow(
                    kind=PAYMENT,
                    out_trade_no=cell("商户订单号"),
                    out_refund_no="",
                    channel_no=cell("微信订单号"),
                    amount_fen=amount,
                    status=WECHAT_TRADE_STATES[state],
                    at=_time(cell("交易时间"), where),
                    merchant_id=cell("商户号"),
                )
            )
        else:
            raise BillUnreadable(f"{where}: unknown trade state {state[:20]!r}")
        if not rows[-1].reference or rows[-1].amount_fen < 0:
            raise BillUnreadable(f"{where}: no merchant number or a negative amount")
    if summary_at is None or summary_at >= len(lines):
        raise BillUnreadable("no summary rows: the file is incomplete")
    summary = _wechat_cells(lines[summary_at])
    if not summary or not summary[0].isdigit() or int(summary[0]) != len(rows):
        raise BillUnreadable(f"the summary counts {summary[0][:10] if summary else '?'} rows, the file has {len(rows)}")
    return rows


def _wechat_line(cells: Iterable[str]) -> str:
    return ",".join("`" + str(c).replace(",`", ", `") for c in cells)


def wechat_bill_bytes(rows: Iterable[BillRow], *, merchant_id: str, appid: str = "wxd678efh567hg6787") -> bytes:
    """A WeChat Pay v3 trade bill (ALL) of these rows, as the platform writes it."""
    lines = [",".join(WECHAT_COLUMNS)]
    settle = refunds = ordered = applied = 0
    count = 0
    for row in rows:
        at = timezone.localtime(row.at, SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if row.at else ""
        amount = fen_to_yuan_str(row.amount_fen)
        if row.kind == REFUND:
            cells = [at, appid, merchant_id, "0", "", "", row.out_trade_no, "", "JSAPI", "REFUND", "OTHERS", "CNY"]
            cells += ["0.00", "0.00", row.channel_no, row.out_refund_no, amount, "0.00", "ORIGINAL"]
            cells += [_WECHAT_OUT_REFUND[row.status], "课后服务", "", "0.00000", "0.00%", "0.00", amount, ""]
            refunds += row.amount_fen
            applied += row.amount_fen
        else:
            state = _WECHAT_OUT_TRADE[row.status]
            cells = [at, appid, merchant_id, "0", "", row.channel_no, row.out_trade_no, "", "JSAPI", state, "OTHERS"]
            cells += ["CNY", amount, "0.00", "0", "0", "0.00", "0.00", "", "", "课后服务", "", "0.00000", "0.00%"]
            cells += [amount, "0.00", ""]
            settle += row.amount_fen
            ordered += row.amount_fen
        lines.append(_wechat_line(cells))
        count += 1
    lines.append(",".join(WECHAT_SUMMARY))
    totals = [str(count), fen_to_yuan_str(settle), fen_to_yuan_str(refunds), "0.00", "0.00000"]
    lines.append(_wechat_line([*totals, fen_to_yuan_str(ordered), fen_to_yuan_str(applied)]))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def wechat_bill_csv(trades: Iterable[Any], merchant_id: str) -> bytes:
    """The simulator's bill of its trades (``SimulatorTrade`` rows finished that day) in WeChat's layout: paid
    payments, and refunds that succeeded or failed (a payment that failed or closed moved no money and is not
    listed, as on WeChat's ALL bill)."""
    rows = []
    for trade in trades:
        at = trade.finished_at or trade.created_at
        if trade.kind == PAYMENT:
            if trade.status != PAID:
                continue
            rows.append(BillRow(PAYMENT, trade.out_trade_no, "", trade.channel_id, trade.amount_fen, PAID, at))
        elif trade.status in (SUCCEEDED, FAILED):
            rows.append(
                BillRow(
                    REFUND,
                    trade.out_trade_no,
                    trade.out_refund_no,
                    trade.channel_id,
                    trade.amount_fen,
                    trade.status,
                    at,
                )
            )
    rows.sort(key=lambda r: (r.at or datetime.min.replace(tzinfo=SHANGHAI), r.kind, r.reference))
    return wechat_bill_bytes(rows, merchant_id=merchant_id)


# --- Alipay --------------------------------------------------------------------------------------------------
ALIPAY_COLUMNS = (
    "支付宝交易号",
    "商户订单号",
    "业务类型",
    "商品名称",
    "创建时间",
    "完成时间",
    "门店编号",
    "门店名称",
    "操作员",
    "终端号",
    "对方账户",
    "订单金额（元）",
    "商家实收（元）",
    "支付宝红包（元）",
    "集分宝（元）",
    "支付宝优惠（元）",
    "商家优惠（元）",
    "券核销金额（元）",
    "券名称",
    "商家红包消费金额（元）",
    "卡消费金额（元）",
    "退款批次号/请求号",
    "服务费（元）",
    "分润（元）",
    "备注",
)
ALIPAY_START = "#-----------------------------------------业务明细列表----------------------------------------"
ALIPAY_END = "#-----------------------------------------业务明细列表结束------------------------------------"
_ACCOUNT = re.compile(r"账号[:：]\s*\[?\s*(\d+)")


def _norm(name: str) -> str:
    return name.strip().replace("（", "(").replace("）", ")").replace(" ", "")


def _member_name(info: zipfile.ZipInfo) -> str:
    """Alipay's zips name their files in GBK without the UTF-8 flag; Python reads such names as cp437."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _alipay_detail(content: bytes) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise BillUnreadable("not a zip file") from None
    named = [i for i in members if "业务明细" in _member_name(i) and "汇总" not in _member_name(i)]
    candidates = named or [i for i in members if _member_name(i).lower().endswith(".csv")]
    for info in candidates:
        if info.file_size > MAX_BILL_BYTES:
            raise BillUnreadable("file too large")
        try:
            data = archive.read(info)
        except (zipfile.BadZipFile, RuntimeError, OSError, EOFError, NotImplementedError, zlib.error):
            raise BillUnreadable("damaged zip") from None
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise BillUnreadable("not GBK text") from None
        if "业务明细列表" in text and "业务汇总列表" not in text:
            return text
    raise BillUnreadable("no 业务明细 file in the zip")


def _alipay_text(content: bytes) -> str:
    """The detail file's text: from the zip as downloaded, or the detail CSV itself (UTF-8 or GBK)."""
    if content[:2] == b"PK":
        return _alipay_detail(content)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BillUnreadable("not UTF-8 or GBK text")


def parse_alipay_bill(content: bytes) -> list[BillRow]:
    """Read an Alipay trade bill: the zip as downloaded, or its detail CSV (the gateway's ``download_bill`` hands
    over the detail file re-encoded as UTF-8)."""
    text = _alipay_text(_limited(content))
    lines = text.splitlines()
    account = ""
    start = end = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("#"):
            found = _ACCOUNT.search(stripped)
            if found and not account:
                # The account is the partner id (2088 + 12 digits) with the account's 4-digit suffix (0156: CNY).
                account = found.group(1)
                if len(account) == 20 and account.startswith("2088"):
                    account = account[:16]
            if "业务明细列表" in stripped:
                if "结束" in stripped:
                    end = i
                    break
                start = i
    if start is None or end is None:
        raise BillUnreadable("no start or end marker of 业务明细列表: the file is incomplete")
    body = [line for line in lines[start + 1 : end] if line.strip()]
    if not body:
        raise BillUnreadable("no header row")
    table = list(csv.reader(body))
    col = {_norm(name): i for i, name in enumerate(table[0])}
    needed = ("支付宝交易号", "商户订单号", "业务类型", "完成时间", "订单金额(元)", "商家实收(元)", "退款批次号/请求号")
    missing = [name for name in needed if name not in col]
    if missing:
        raise BillUnreadable(f"not an Alipay trade bill (no {', '.join(missing[:3])})")
    rows: list[BillRow] = []
    for number, cells in enumerate(table[1:], start=start + 3):
        cells = [c.strip() for c in cells]
        if len(cells) < len(col):
            raise BillUnreadable(f"line {number}: {len(cells)} fields, {len(col)} expected")

        def cell(name: str, cells: list[str] = cells) -> str:
            return cells[col[name]]

        where = f"line {number}"
        kind = cell("业务类型")
        at = _time(cell("完成时间"), where) or _time(cells[col["创建时间"]] if "创建时间" in col else "", where)
        if kind == "交易":
            row = BillRow(
                kind=PAYMENT,
                out_trade_no=cell("商户订单号"),
                out_refund_no="",
                channel_no=cell("支付宝交易号"),
                amount_fen=abs(_yuan(cell("订单金额(元)"), where)),
                status=PAID,
                at=at,
                merchant_id=account,
            )
        elif kind == "退款":
            received = _yuan(cell("商家实收(元)"), where)
            row = BillRow(
                kind=REFUND,
                out_trade_no=cell("商户订单号"),
                # Without an out_request_no Alipay names the refund by the trade's own number.
                out_refund_no=cell("退款批次号/请求号") or cell("商户订单号"),
                channel_no=cell("支付宝交易号"),
                amount_fen=abs(received) or abs(_yuan(cell("订单金额(元)"), where)),
                status=SUCCEEDED,
                at=at,
                merchant_id=account,
            )
        else:
            raise BillUnreadable(f"{where}: unknown business type {kind[:10]!r}")
        if not row.reference:
            raise BillUnreadable(f"{where}: no merchant number")
        rows.append(row)
    return rows


def alipay_bill_zip(rows: Iterable[BillRow], *, account: str, bill_date: date) -> bytes:
    """An Alipay trade bill zip of these rows (the detail file and its summary file, GBK)."""
    day = f"{bill_date:%Y%m%d}"
    lines = [
        "#支付宝业务明细查询",
        f"#账号：[{account}]",
        f"#起始日期：[{bill_date:%Y年%m月%d日} 00:00:00]   终止日期：[{bill_date:%Y年%m月%d日} 23:59:59]",
        ALIPAY_START,
        ",".join(ALIPAY_COLUMNS),
    ]
    paid = refunded = paid_count = refund_count = 0
    for row in rows:
        at = timezone.localtime(row.at, SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if row.at else ""
        yuan = fen_to_yuan_str(row.amount_fen)
        refund = row.kind == REFUND
        cells = [row.channel_no + "\t", row.out_trade_no + "\t", "退款" if refund else "交易", "课后服务", at, at]
        cells += ["", "", "", "", "", yuan, ("-" + yuan) if refund else yuan] + ["0.00"] * 4 + ["0.00", ""]
        cells += ["0.00", "0.00", (row.out_refund_no + "\t") if refund else "", "0.00", "0.00", ""]
        lines.append(",".join(cells))
        if refund:
            refunded, refund_count = refunded + row.amount_fen, refund_count + 1
        else:
            paid, paid_count = paid + row.amount_fen, paid_count + 1
    lines += [
        ALIPAY_END,
        f"#交易合计：{paid_count}笔，商家实收共：{fen_to_yuan_str(paid)}元，商家优惠共：0.00元",
        f"#退款合计：{refund_count}笔，商家实收退款共：{fen_to_yuan_str(-refunded)}元，商家优惠退款共：0.00元",
        f"#导出时间：[{bill_date:%Y年%m月%d日} 23:59:59]",
    ]
    summary = [
        "#支付宝业务汇总查询",
        f"#账号：[{account}]",
        "#-----------------------------------------业务汇总列表----------------------------------------",
        "门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）",
        f",合计,{paid_count},{refund_count},{fen_to_yuan_str(paid - refunded)},{fen_to_yuan_str(paid - refunded)}",
        "#----------------------------------------业务汇总列表结束-------------------------------------",
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{account}_{day}_业务明细.csv", "\r\n".join(lines).encode("gbk"))
        archive.writestr(f"{account}_{day}_业务明细(汇总).csv", "\r\n".join(summary).encode("gbk"))
    return buffer.getvalue()


# --- which reader for which channel --------------------------------------------------------------------------
# The simulator writes WeChat's layout. Ganfutong (赣服通 unified payment) is assumed to give its bill in WeChat's
# trade-bill layout too (its gateway documents its protocol assumptions; a different layout registers here).
BILL_PARSERS: dict[str, Callable[[bytes], list[BillRow]]] = {
    "wechat": parse_wechat_bill,
    "simulator": parse_wechat_bill,
    "ganfutong": parse_wechat_bill,
    "alipay": parse_alipay_bill,
}


def parse_bill(channel: str, content: bytes) -> list[BillRow]:
    parser = BILL_PARSERS.get(channel)
    if parser is None:
        raise BillUnreadable(f"no bill format for channel {channel[:20]!r}")
    return parser(content)
