"""The operator's costs and the term's audit report (审计报告).

* :func:`cost_add`: the operator's staff enter a cost for one of their schools in a term (training, course
  development, operating) with its receipt, checked by its content like the proof files (PDF, PNG or JPEG, at most
  ``KEHOU_PROOF_MAX_BYTES``); a negative, zero or absurd amount is refused. It accrues at once in the ledger
  (``cost:<id>``: Dr earned:school, Cr operator_costs_payable).
* :func:`report_figures`: per school of the operator in the district, and in total: fees received (the paid
  attempts of the term's orders), refunds (those the channel paid back), released by delivery, teachers' pay (the
  approved lines, per teacher with class hours), costs by kind, and what remains (received − refunded − teachers'
  pay − costs; of which still prepaid: received − refunded − released). Each figure keeps the ledger keys behind it
  (``trace``), so that it can be followed to its postings.
* :func:`report_file` files (or files again, while not acknowledged) the report to the district's bureau;
  :func:`report_acknowledge` is the bureau's acknowledgement, once.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date, datetime
from typing import Any

from django.core.files import File
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehou.catalog.services.proofs import max_bytes, read_checked, sanitise_name
from kehou.core import audit, uploads
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, Forbidden, KehouError, NotFound
from kehou.core.roles import Role
from kehou.core.scope import scope_for
from kehou.ledger.models import LedgerTransaction, Posting
from kehou.ledger.services import OPERATOR_COSTS_PAYABLE, Leg, earned_code, post
from kehou.notify.services import notify
from kehou.orgs.models import OperatorCompany, Region, School, Term
from kehou.payments.models import PaymentAttempt, Refund, Release
from kehou.people.models import RoleAssignment

from ..models import AuditReport, OperatorCost, PayLine
from .common import require_operator_staff

MAX_COST_FEN = 10_000_000_00  # ten million yuan: anything above is a typing mistake
FIGURES = ("received", "refunded", "released", "teacher_pay", "training", "course_development", "operating")


def cost_add(
    *,
    actor: Any,
    operator: OperatorCompany,
    school: School,
    term: Term,
    kind: str,
    amount_fen: Any,
    description: str,
    incurred_on: date,
    receipt: Any,
    now: datetime,
) -> OperatorCost:
    require_operator_staff(actor, operator, message=_("Only the operator's staff do this."))
    if not operator.schools.filter(pk=school.pk).exists():
        raise Forbidden(_("The operator is not authorised for this school."), code=ErrorCode.NOT_PAY_APPROVER)
    if kind not in OperatorCost.Kind.values:
        raise KehouError(_("Choose the kind of cost."), code=ErrorCode.COST_INVALID, fields={"kind": kind[:40]})
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or not 0 < amount_fen <= MAX_COST_FEN:
        raise KehouError(
            _("A cost is a whole number of fen above 0 and at most ten million yuan."),
            code=ErrorCode.COST_INVALID,
            fields={"amount_fen": str(amount_fen)[:20]},
        )
    description = (description or "").strip()
    if not description or len(description) > 200:
        raise KehouError(
            _("Say what the cost was (1–200 characters)."), code=ErrorCode.COST_INVALID, fields={"description": 0}
        )
    if not (term.starts_on <= incurred_on <= min(term.ends_on, timezone.localdate(now))):
        raise KehouError(
            _("The cost must fall within the term, and not in the future."),
            code=ErrorCode.COST_INVALID,
            fields={"incurred_on": incurred_on.isoformat()},
        )
    if receipt is None:
        raise KehouError(_("Attach the receipt."), code=ErrorCode.COST_INVALID, fields={"receipt": 0})
    content, file_type, sha256, size = read_checked(receipt, max_bytes())
    original = sanitise_name(getattr(receipt, "name", "") or "", file_type)
    storage = OperatorCost._meta.get_field("receipt").storage  # type: ignore[attr-defined]
    stored = ""
    try:
        with transaction.atomic():
            stored = storage.save(f"receipts/{now:%Y/%m}/{uploads.server_name(file_type.extension)}", File(content))
            cost = OperatorCost.objects.create(
                operator=operator,
                school=school,
                term=term,
                kind=kind,
                amount_fen=amount_fen,
                description=description,
                receipt=stored,
                receipt_name=original,
                receipt_sha256=sha256,
                receipt_size=size,
                receipt_type=file_type.content_type,
                incurred_on=incurred_on,
                entered_by=actor,
                entered_at=now,
            )
            post(
                key=f"cost:{cost.pk}",
                kind="accrual",
                legs=[Leg(earned_code(school.pk), OPERATOR_COSTS_PAYABLE, amount_fen)],
                now=now,
                school_id=school.pk,
                reference=f"cost:{cost.pk}",
                memo=f"{cost.get_kind_display()} {description}"[:200],
            )
            audit.record(
                actor=actor,
                action=AuditAction.OPERATOR_COST_ADD,
                obj=cost,
                object_repr=f"{school.name} {cost.get_kind_display()}",
                after={"kind": kind, "amount_fen": amount_fen, "receipt_sha256": sha256},
                now=now,
                school_id=school.pk,
                district_id=school.district_id,
            )
    except BaseException:
        if stored:
            storage.delete(stored)
        raise
    finally:
        content.close()
    return cost


def _term_bounds(term: Term, through: date) -> tuple[date, date]:
    return term.starts_on, min(term.ends_on, through)


def report_figures(*, operator: OperatorCompany, term: Term, district: Region, through: date) -> tuple[dict, dict]:
    """(figures, trace) of the operator's schools in the district for the term, through ``through``."""
    schools = list(operator.schools.filter(district=district).order_by("name"))
    ids = [s.pk for s in schools]
    start, end = _term_bounds(term, through)
    rows: dict[int, dict[str, Any]] = {
        s.pk: {"id": s.pk, "name": s.name, **{f: 0 for f in FIGURES}, "teachers": []} for s in schools
    }
    trace: dict[str, dict[str, list[str]]] = {str(s.pk): defaultdict(list) for s in schools}  # type: ignore[misc]
    term_orders = {"order__enrolment__course_class__term": term, "order__school_id__in": ids}
    for school_id, amount, number in PaymentAttempt.objects.filter(
        status__in=["paid", "stray"], finished_at__date__lte=end, **term_orders
    ).values_list("order__school_id", "amount_fen", "out_trade_no"):
        rows[school_id]["received"] += amount
        trace[str(school_id)]["received"].append(f"payment:{number}")
    for school_id, amount, number in Refund.objects.filter(
        status="succeeded", finished_at__date__lte=end, **term_orders
    ).values_list("order__school_id", "amount_fen", "refund_no"):
        rows[school_id]["refunded"] += amount
        trace[str(school_id)]["refunded"].append(f"refund:{number}:paid")
    released = (
        Release.objects.filter(
            session__course_class__term=term,
            session__course_class__school_id__in=ids,
            session__date__lte=end,
        )
        .values_list("session__course_class__school_id", "session_id")
        .annotate(s=Sum("amount_fen"))
    )
    for school_id, session_id, amount in released:
        rows[school_id]["released"] += amount
        trace[str(school_id)]["released"].append(f"release:session:{session_id}")
    lines = PayLine.objects.filter(
        school_id__in=ids,
        session__course_class__term=term,
        session__date__gte=start,
        session__date__lte=end,
        status__in=["approved", "paying", "paid"],
    )
    teachers: dict[tuple[int, int], dict[str, Any]] = {}
    for school_id, teacher_id, name, username, kind, hours, amount, key in lines.values_list(
        "school_id",
        "teacher_id",
        "teacher__user__full_name",
        "teacher__user__username",
        "teacher_kind",
        "class_hours",
        "amount_fen",
        "accrual_key",
    ):
        rows[school_id]["teacher_pay"] += amount
        t = teachers.setdefault(
            (school_id, teacher_id),
            {"id": teacher_id, "name": name or username, "kind": kind, "class_hours": 0, "amount": 0},
        )
        t["class_hours"] += hours
        t["amount"] += amount
        if key and key not in trace[str(school_id)]["teacher_pay"]:
            trace[str(school_id)]["teacher_pay"].append(key)
    for (school_id, _teacher), t in sorted(teachers.items(), key=lambda kv: kv[1]["name"]):
        rows[school_id]["teachers"].append(t)
    for cost in OperatorCost.objects.filter(operator=operator, term=term, school_id__in=ids, incurred_on__lte=end):
        rows[cost.school_id][cost.kind] += cost.amount_fen
        trace[str(cost.school_id)][cost.kind].append(f"cost:{cost.pk}")
    total = {f: 0 for f in FIGURES}
    for row in rows.values():
        costs = row["training"] + row["course_development"] + row["operating"]
        row["costs"] = costs
        row["remains"] = row["received"] - row["refunded"] - row["teacher_pay"] - costs
        row["still_prepaid"] = row["received"] - row["refunded"] - row["released"]
        for f in FIGURES:
            total[f] += row[f]
    total["costs"] = total["training"] + total["course_development"] + total["operating"]
    total["remains"] = total["received"] - total["refunded"] - total["teacher_pay"] - total["costs"]
    total["still_prepaid"] = total["received"] - total["refunded"] - total["released"]
    total["class_hours"] = sum(t["class_hours"] for row in rows.values() for t in row["teachers"])
    figures = {
        "operator": {"id": operator.pk, "name": operator.name},
        "term": {"id": term.pk, "name": term.name, "starts_on": term.starts_on.isoformat()},
        "district": {"id": district.pk, "name": district.name},
        "through": end.isoformat(),
        "schools": list(rows.values()),
        "total": total,
    }
    return figures, {k: dict(v) for k, v in trace.items()}


def report_file(
    *, actor: Any, operator: OperatorCompany, term: Term, district: Region, now: datetime, through: date | None = None
) -> AuditReport:
    """File the report to the district's bureau (again, with today's figures, while it is not acknowledged)."""
    require_operator_staff(actor, operator, message=_("Only the operator's staff do this."))
    if not operator.schools.filter(district=district).exists():
        raise KehouError(
            _("The operator has no school in this district."), code=ErrorCode.REPORT_INVALID, fields={"district": 0}
        )
    today = timezone.localdate(now)
    if term.starts_on > today:
        raise KehouError(_("The term has not begun."), code=ErrorCode.REPORT_INVALID, fields={"term": term.pk})
    through = min(through or today, today, term.ends_on)
    figures, trace = report_figures(operator=operator, term=term, district=district, through=through)
    with transaction.atomic():
        report = AuditReport.objects.select_for_update().filter(operator=operator, term=term, district=district).first()
        if report is not None and report.status == AuditReport.Status.ACKNOWLEDGED:
            raise Conflict(
                _("The bureau has acknowledged this report; it can no longer be filed again."),
                code=ErrorCode.REPORT_ACKNOWLEDGED,
            )
        values = {"through": through, "figures": figures, "trace": trace, "filed_by": actor, "filed_at": now}
        if report is None:
            report = AuditReport.objects.create(operator=operator, term=term, district=district, **values)
        else:
            AuditReport.objects.filter(pk=report.pk).update(**values)
            report.refresh_from_db()
        audit.record(
            actor=actor,
            action=AuditAction.AUDIT_REPORT_FILE,
            obj=report,
            object_repr=f"{operator.name} {term.name} {district.name}",
            after={"through": through.isoformat(), "total": figures["total"]},
            now=now,
            district_id=district.pk,
        )
        notify(
            user_ids=list(
                RoleAssignment.objects.filter(role=Role.DISTRICT_ADMIN, district=district).values_list(
                    "user_id", flat=True
                )
            ),
            kind="audit_report",
            title=_("%(operator)s filed its audit report for %(term)s")
            % {"operator": operator.name, "term": term.name},
            link=f"/pay/reports/{report.pk}/",
            now=now,
            dedup_key=f"audit-report:{report.pk}:{now:%Y%m%d%H%M%S}",
        )
    return report


def report_acknowledge(*, actor: Any, report: AuditReport, now: datetime) -> AuditReport:
    scope = scope_for(actor)
    if not (Role.SUPERUSER in scope.roles or report.district_id in scope.district_ids):
        if scope.may_see(report):
            raise Forbidden(_("Only the district bureau acknowledges its reports."), code=ErrorCode.NOT_DISTRICT_ADMIN)
        raise NotFound(_("Not found."))
    with transaction.atomic():
        if not AuditReport.objects.filter(pk=report.pk, status=AuditReport.Status.FILED).update(
            status=AuditReport.Status.ACKNOWLEDGED, acknowledged_by=actor, acknowledged_at=now
        ):
            raise Conflict(_("This report is already acknowledged."), code=ErrorCode.REPORT_ACKNOWLEDGED)
        report.refresh_from_db()
        audit.record(
            actor=actor,
            action=AuditAction.AUDIT_REPORT_ACKNOWLEDGE,
            obj=report,
            object_repr=f"{report.operator.name} {report.term.name}",
            after={"through": report.through.isoformat()},
            now=now,
            district_id=report.district_id,
        )
    return report


def trace_rows(report: AuditReport) -> list[tuple[str, str, str, str, int]]:
    """(school, figure, ledger key, at, amount) for every posting behind the report's figures."""
    names = {str(s["id"]): s["name"] for s in report.figures.get("schools", [])}
    keys = {key for by_figure in report.trace.values() for ks in by_figure.values() for key in ks}
    amounts = dict(
        Posting.objects.filter(transaction__key__in=keys)
        .values_list("transaction__key")
        .annotate(s=Sum("amount_fen"))
        .values_list("transaction__key", "s")
    )
    ats = dict(LedgerTransaction.objects.filter(key__in=keys).values_list("key", "at"))
    out = []
    for school_id, by_figure in report.trace.items():
        for figure, ks in by_figure.items():
            for key in ks:
                at = ats.get(key)
                out.append(
                    (
                        names.get(school_id, school_id),
                        figure,
                        key,
                        timezone.localtime(at).strftime("%Y-%m-%d %H:%M") if at else "",
                        int(amounts.get(key) or 0),
                    )
                )
    return out


LABELS = {
    "received": "Fees received",
    "refunded": "Refunds",
    "released": "Released by delivery",
    "teacher_pay": "Teachers' pay",
    "training": "Training",
    "course_development": "Course development",
    "operating": "Operating costs",
    "costs": "Costs",
    "remains": "What remains",
    "still_prepaid": "Of which still prepaid",
}
COLUMNS = (
    "received",
    "refunded",
    "released",
    "teacher_pay",
    "training",
    "course_development",
    "operating",
    "remains",
    "still_prepaid",
)


def report_xlsx(report: AuditReport) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = str(_("Summary"))[:31]
    f = report.figures
    sheet.append([str(_("Audit report")), f["operator"]["name"], f["term"]["name"], f["district"]["name"]])
    sheet.append([str(_("Figures through")), f["through"], str(report.get_status_display())])
    sheet.append([])
    sheet.append([str(_("School")), *[str(_(LABELS[c])) + str(_(" (yuan)")) for c in COLUMNS]])
    for row in [*f["schools"], {"name": str(_("Total")), **f["total"]}]:
        sheet.append([row["name"], *[row[c] / 100 for c in COLUMNS]])
    teachers = book.create_sheet(str(_("Teachers' pay"))[:31])
    teachers.append(
        [str(_("School")), str(_("Teacher")), str(_("Kind")), str(_("Class hours")), str(_("Amount (yuan)"))]
    )
    for row in f["schools"]:
        for t in row["teachers"]:
            teachers.append([row["name"], t["name"], t["kind"], t["class_hours"], t["amount"] / 100])
    postings = book.create_sheet(str(_("Postings"))[:31])
    postings.append(
        [str(_("School")), str(_("Figure")), str(_("Ledger transaction")), str(_("At")), str(_("Amount (yuan)"))]
    )
    for school, figure, key, at, amount in trace_rows(report):
        postings.append([school, str(_(LABELS.get(figure, figure))), key, at, amount / 100])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def report_pdf(report: AuditReport) -> bytes:
    """The report as a PDF with the platform's header, in Chinese (Adobe's STSong CID font: nothing embedded)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    font = "STSong-Light"
    f = report.figures
    title = ParagraphStyle("title", fontName=font, fontSize=16, leading=22)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13)
    header = ParagraphStyle("header", fontName=font, fontSize=9, leading=12, textColor=colors.HexColor("#0b6b4f"))

    def money(fen: int) -> str:
        return f"¥{fen / 100:,.2f}"

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=f"{f['operator']['name']} {f['term']['name']} 审计报告",
    )
    story: list[Any] = [
        Paragraph("南昌市教育局　中小学课后服务平台（课后服务资金监管）", header),
        Spacer(1, 3 * mm),
        Paragraph(f"课后服务经费审计报告（{f['term']['name']}）", title),
        Paragraph(
            f"运营方：{f['operator']['name']}　报送：{f['district']['name']}教育局　数据截至：{f['through']}　"
            f"状态：{report.get_status_display()}　报送时间：{timezone.localtime(report.filed_at):%Y-%m-%d %H:%M}",
            body,
        ),
        Spacer(1, 4 * mm),
    ]
    head = ["学校", "收费", "退费", "履约释放", "教师课酬", "培训", "课程开发", "运营成本", "结余", "其中未释放"]
    data = [head]
    for row in [*f["schools"], {"name": "合计", **f["total"]}]:
        data.append([Paragraph(row["name"], body), *[money(row[c]) for c in COLUMNS]])
    table = Table(data, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6f2ee")),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#b8c4bf")),
                ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f3f5f4")),
            ]
        )
    )
    story += [table, Spacer(1, 5 * mm), Paragraph("教师课酬明细（课时与金额）", body), Spacer(1, 2 * mm)]
    kinds = {"staff": "在编", "outside": "校外"}
    t_data = [["学校", "教师", "类别", "课时", "课酬"]]
    for row in f["schools"]:
        for t in row["teachers"]:
            t_data.append(
                [row["name"], t["name"], kinds.get(t["kind"], t["kind"]), t["class_hours"], money(t["amount"])]
            )
    teachers = Table(t_data, repeatRows=1)
    teachers.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6f2ee")),
                ("ALIGN", (3, 1), (-1, -1), "RIGHT"),
                ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#b8c4bf")),
            ]
        )
    )
    story += [
        teachers,
        Spacer(1, 5 * mm),
        Paragraph(
            "本报告由平台依据资金监管账户分录与课时费明细自动生成，"
            "每项金额均可追溯至对应分录（见 Excel 版“分录”工作表）。"
            "结余 = 收费 − 退费 − 教师课酬 − 成本；其中未释放 = 收费 − 退费 − 履约释放。",
            body,
        ),
    ]
    if report.acknowledged_at:
        story.append(
            Paragraph(f"区教育局已确认收悉：{timezone.localtime(report.acknowledged_at):%Y-%m-%d %H:%M}", body)
        )
    doc.build(story)
    return out.getvalue()
