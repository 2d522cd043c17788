"""Progress reports (通报): the city issues one on demand, or the schedule does once a week. Each names every district
with its figures (ranked by attendance) and the schools ahead and behind (by attendance, and by onboarding steps),
built from the dashboards' rollups and the onboarding progress, and is filed as a PDF and an Excel workbook."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehou.core import audit
from kehou.core.audit_actions import AuditAction
from kehou.core.excel import workbook_bytes
from kehou.core.permissions import require_city_admin
from kehou.core.scope import Scope
from kehou.orgs.models import Region

from .. import onboarding, selectors
from ..models import ProgressReport

SHOWN = 5  # schools named ahead and behind
EVERY_DAYS = 7


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def gather(*, now: datetime) -> dict[str, Any]:
    """What a report says, from the rollups and the onboarding progress (as the city sees them)."""
    city = Scope(everything=True)
    today = timezone.localdate(now)
    top = selectors.dashboard(city, level="city", today=today) or {}
    schools: list[dict[str, Any]] = []
    for d in top.get("rows", []):
        level = selectors.dashboard(city, level="district", code=d["code"], today=today) or {}
        schools += [{**s, "district": d["name"]} for s in level.get("rows", [])]
    steps = onboarding.progress(city, now=now)
    measured = [s for s in schools if s["figures"]["attendance"] is not None]
    measured.sort(key=lambda s: -s["figures"]["attendance"])
    behind_steps = [r for r in steps if r["done"] < r["of"]][:SHOWN]
    return {
        "city": {"name": top.get("name", ""), "figures": top.get("figures", {})},
        "term": top.get("term"),
        "districts": [
            {"code": d["code"], "name": d["name"], "rank": d["rank"], "figures": d["figures"]}
            for d in top.get("rows", [])
        ],
        "onboarding": onboarding.by_district(steps),
        "ahead": [{"name": s["name"], "district": s["district"], "figures": s["figures"]} for s in measured[:SHOWN]],
        "behind": [
            {"name": s["name"], "district": s["district"], "figures": s["figures"]} for s in measured[-SHOWN:][::-1]
        ]
        if len(measured) > SHOWN
        else [],
        "behind_onboarding": [
            {
                "name": r["school"]["name"],
                "district": r["district"]["name"],
                "done": r["done"],
                "of": r["of"],
                "next": str(r["next_label"]),
            }
            for r in behind_steps
        ],
        "fresh_at": fresh.isoformat() if (fresh := top.get("fresh_at")) is not None else None,
    }


def _pdf(number: str, title: str, data: dict[str, Any], issued_at: datetime) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    font = "STSong-Light"
    h1 = ParagraphStyle("h1", fontName=font, fontSize=16, leading=22)
    h2 = ParagraphStyle("h2", fontName=font, fontSize=11, leading=16, spaceBefore=6)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13)
    style = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("FONTSIZE", (0, 0), (-1, -1), 8.5),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6f2ee")),
            ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#b8c4bf")),
        ]
    )
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, title=title)
    term = data.get("term") or {}
    f = data["city"]["figures"]
    story: list[Any] = [
        Paragraph("南昌市教育局　中小学课后服务平台", body),
        Spacer(1, 3 * mm),
        Paragraph(title, h1),
        Paragraph(
            f"编号：{number}　发布：{timezone.localtime(issued_at):%Y-%m-%d %H:%M}　学期：{term.get('name', '—')}", body
        ),
        Spacer(1, 3 * mm),
        Paragraph(
            f"全市出勤率 {_pct(f.get('attendance'))}，开课率 {_pct(f.get('delivery'))}，"
            f"按时点名 {_pct(f.get('roll_call'))}，按时签到 {_pct(f.get('check_in'))}，"
            f"参与学生 {f.get('pupils_taking_part', 0)} 人（{_pct(f.get('participation'))}）。",
            body,
        ),
        Paragraph("一、各区县情况（按出勤率排名）", h2),
    ]
    rows = [["排名", "区县", "出勤率", "开课率", "按时点名", "按时签到", "参与率"]]
    for d in data["districts"]:
        g = d["figures"]
        rows.append(
            [
                d["rank"] or "—",
                d["name"],
                _pct(g["attendance"]),
                _pct(g["delivery"]),
                _pct(g["roll_call"]),
                _pct(g["check_in"]),
                _pct(g.get("participation")),
            ]
        )
    table = Table(rows, repeatRows=1)
    table.setStyle(style)
    story += [table, Paragraph("二、接入进度", h2)]
    rows = [["区县", "学校数", "全部完成", "完成比例"]]
    rows += [[t["name"], t["schools"], t["complete"], _pct(t["share"])] for t in data["onboarding"]]
    table = Table(rows, repeatRows=1)
    table.setStyle(style)
    story.append(table)
    for heading, key in (("三、出勤率领先的学校", "ahead"), ("四、出勤率靠后的学校", "behind")):
        story.append(Paragraph(heading, h2))
        rows = [["学校", "区县", "出勤率", "开课率", "按时点名"]]
        rows += [
            [
                s["name"],
                s["district"],
                _pct(s["figures"]["attendance"]),
                _pct(s["figures"]["delivery"]),
                _pct(s["figures"]["roll_call"]),
            ]
            for s in data[key]
        ] or [["—", "", "", "", ""]]
        table = Table(rows, repeatRows=1)
        table.setStyle(style)
        story.append(table)
    story.append(Paragraph("五、接入进度靠后的学校", h2))
    rows = [["学校", "区县", "已完成步骤", "下一步"]]
    rows += [[s["name"], s["district"], f"{s['done']}/{s['of']}", s["next"]] for s in data["behind_onboarding"]] or [
        ["—", "", "", ""]
    ]
    table = Table(rows, repeatRows=1)
    table.setStyle(style)
    story += [table, Spacer(1, 4 * mm), Paragraph("数据来自平台的汇总表；计算方法见监管看板。", body)]
    doc.build(story)
    return out.getvalue()


def _xlsx(data: dict[str, Any]) -> bytes:
    rows = [
        [
            d["rank"] or "",
            d["name"],
            _pct(d["figures"]["attendance"]),
            _pct(d["figures"]["delivery"]),
            _pct(d["figures"]["roll_call"]),
            _pct(d["figures"]["check_in"]),
            _pct(d["figures"].get("participation")),
        ]
        for d in data["districts"]
    ]
    return workbook_bytes(
        title="通报",
        headers=["排名", "区县", "出勤率", "开课率", "按时点名", "按时签到", "参与率"],
        rows=rows,
    )


def report_issue(*, actor: Any, now: datetime) -> ProgressReport:
    """Issue a progress report now: the city bureau's (``actor``), or the schedule's (``actor`` None)."""
    if actor is not None:
        require_city_admin(actor, message=_("Only the city bureau issues progress reports."))
    data = gather(now=now)
    year = timezone.localtime(now).year
    title = f"南昌市中小学课后服务工作进展通报（{timezone.localtime(now):%Y年%m月%d日}）"
    for _attempt in range(3):
        n = ProgressReport.objects.filter(number__startswith=f"{year}-").count() + 1
        number = f"{year}-{n:03d}"
        pdf = _pdf(number, title, data, now)
        xlsx = _xlsx(data)
        names = []
        try:
            names.append(default_storage.save(f"supervision/reports/{year}/{uuid.uuid4().hex}.pdf", ContentFile(pdf)))
            names.append(default_storage.save(f"supervision/reports/{year}/{uuid.uuid4().hex}.xlsx", ContentFile(xlsx)))
            with transaction.atomic():
                report = ProgressReport.objects.create(
                    number=number,
                    title=title,
                    term_id=(data.get("term") or {}).get("id"),
                    issued_at=now,
                    issued_by=actor,
                    summary=data,
                    pdf=names[0],
                    xlsx=names[1],
                    pdf_sha256=hashlib.sha256(pdf).hexdigest(),
                    xlsx_sha256=hashlib.sha256(xlsx).hexdigest(),
                )
                report.districts.set(Region.objects.filter(code__in=[d["code"] for d in data["districts"]]))
                audit.record(
                    actor=actor,
                    action=AuditAction.PROGRESS_REPORT_ISSUE,
                    obj=report,
                    now=now,
                    after={"number": number, "districts": len(data["districts"])},
                )
            return report
        except IntegrityError:  # another report took the number meanwhile: take the next
            for name in names:
                default_storage.delete(name)
        except BaseException:
            for name in names:
                default_storage.delete(name)
            raise
    raise RuntimeError("no report number could be taken")


def reports_due(*, now: datetime) -> int:
    """The weekly report, issued by the schedule when none was issued in the last week."""
    if ProgressReport.objects.filter(issued_at__gt=now - timedelta(days=EVERY_DAYS)).exists():
        return 0
    report_issue(actor=None, now=now)
    return 1
