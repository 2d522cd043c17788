"""The demo's class-hour pay: the months before this one delivered, approved and paid out, this month awaiting the
schools.

* The term's sessions before the attendance stage's week get their evidence through the attendance services (each
  teacher checked in at school and took the roll; the worker closed the sheet), so that every earlier month has its
  lines;
* the authorities' standards: the fee standards' teacher pay for staff teachers, and a higher city standard for
  outside teachers; one operator rate inside the standard;
* every teacher with a line binds a payout account (one whose first answer is lost: ``-timeout``);
* :func:`~kehou.payroll.services.lines.pay_lines_compute` computes every line and releases each delivered session's
  fees from escrow;
* each earlier month, two days ago: a school rejects one line (the teacher disputes it; the school keeps its
  decision) and another (disputed, then reinstated), every school approves, the operators approve, and each operator
  pays the month out — one payout's answer is lost and it is sent again under the same bill number, then every
  transfer finishes through the simulator's signed notifications;
* this month's lines stay computed, awaiting the schools;
* the operator's costs at that school (training, operating) with their receipts, and its report on the term for the
  school's district, filed through the end of last month and acknowledged by the district's bureau.

Everything goes through the payroll services at the moments it would have happened. Loaded once (skipped when any
pay line exists).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from kehou.demo.common import LoadResult

log = logging.getLogger(__name__)
REJECT_REASON = "该课次与学校运动会冲突，当天未实际上课"
DISPUTE_KEPT = "运动会当天我按时到校并完成点名，有签到记录，请核实"
KEPT_ANSWER = "经核实当天课后服务整体停课，签到为误操作，维持不予结算"
REINSTATE_REJECT = "点名记录与班主任登记人数不一致"
REINSTATE_DISPUTE = "当天有两名学生临时转入，班主任名单未更新"
REINSTATE_ANSWER = "已与班主任核对，人数无误，恢复结算"


def _backfill(*, now: datetime, before: Any) -> int:
    """Sessions held before ``before`` with no check-in: checked in at school, the roll taken, the sheet closed."""
    from kehou.attendance.models import CheckIn, RollCall
    from kehou.attendance.services import checkin, rollcall
    from kehou.attendance.services.common import session_bounds
    from kehou.enrolment.models import ClassSession

    sessions = (
        ClassSession.objects.filter(
            date__lt=before, course_class__status="active", course_class__enrolments__status="confirmed"
        )
        .exclude(pk__in=CheckIn.objects.values("session_id"))
        .distinct()
        .select_related("course_class__school", "course_class__teacher__user")
        .order_by("date", "starts_at", "pk")
    )
    held = [s for s in sessions if session_bounds(s)[1] + timedelta(hours=3) <= now]
    runners = _substitutes(held, now=now)
    done = 0
    for session in held:
        start, end = session_bounds(session)
        school = session.course_class.school
        teacher = runners.get(session.pk, session.course_class.teacher.user)
        checkin.check_in(
            actor=teacher,
            session=session,
            now=start - timedelta(minutes=5),
            lat=float(school.latitude) + 50 / 111_195.0,
            lng=float(school.longitude),
            accuracy_m=15,
            crs="wgs84",
        )
        rollcall.roll_call_open(session=session, now=start + timedelta(minutes=2))
        rollcall.roll_call_all_present(actor=teacher, session=session, now=start + timedelta(minutes=3))
        RollCall.objects.filter(session=session, closed_at__isnull=True).update(closed_at=end + timedelta(hours=2))
        done += 1
    return done


def _substitutes(sessions: list[Any], *, now: datetime) -> dict[int, Any]:
    """The school of the earliest sessions names substitutes for some of them, as schools do when a teacher is away:
    the demo ``teacher`` (who also teaches there, 走教) for two, an outside teacher of the school for four. Returns
    who ran each of those sessions."""
    from kehou.attendance.services.substitutes import substitute_name
    from kehou.people.models import TeacherProfile

    if not sessions:
        return {}
    school = sessions[0].course_class.school
    admin = _school_admin(school.pk)
    demo = TeacherProfile.objects.filter(user__username="teacher").select_related("user").first()
    outsider = (
        TeacherProfile.objects.filter(kind="outside", schools=school).select_related("user").order_by("pk").first()
    )
    if admin is None:
        return {}
    if demo is not None:
        demo.schools.add(school)
    at_school = [s for s in sessions if s.course_class.school_id == school.pk]
    plan = [(demo, "任课教师外出培训"), (demo, "任课教师外出培训")] + [(outsider, "任课教师病假")] * 4
    runners: dict[int, Any] = {}
    for session, (teacher, reason) in zip(at_school[-len(plan) :], plan, strict=False):
        if teacher is None or teacher.pk == session.course_class.teacher_id:
            continue
        substitute_name(actor=admin, session=session, teacher=teacher, reason=reason, now=now - timedelta(days=40))
        runners[session.pk] = teacher.user
    return runners


def _standards(now: datetime) -> int:
    """A city standard for outside teachers (experts from outside the school: four times the fee standards' staff
    pay), and a standard for care sessions, which belong to no category."""
    from kehou.catalog.models import FeeStandard
    from kehou.orgs.models import Region
    from kehou.payroll.models import PayStandard

    city = Region.objects.filter(kind=Region.Kind.CITY).first()
    made = 0
    for fee in FeeStandard.objects.filter(region=city):
        _obj, created = PayStandard.objects.get_or_create(
            region=city,
            category_id=fee.category_id,
            teacher_kind="outside",
            defaults={"rate_fen": fee.teacher_pay_fen * 4, "set_at": now - timedelta(days=60)},
        )
        made += created
    PayStandard.objects.get_or_create(
        region=city,
        category=None,
        teacher_kind="staff",
        defaults={"rate_fen": 5000, "set_at": now - timedelta(days=60)},
    )
    PayStandard.objects.get_or_create(
        region=city,
        category=None,
        teacher_kind="outside",
        defaults={"rate_fen": 6000, "set_at": now - timedelta(days=60)},
    )
    return made


def _operator_rate(now: datetime) -> int:
    """The first operator's own rate for one of its courses: 10 yuan under the standard."""
    from kehou.enrolment.models import CourseClass
    from kehou.payroll.services.rates import RateBook, pay_rate_set
    from kehou.people.models import User

    user = User.objects.filter(username="operator").first()
    ra = user.role_assignments.filter(role="operator_staff").select_related("operator").first() if user else None
    if ra is None or ra.operator is None:
        return 0
    operator = ra.operator
    cls = (
        CourseClass.objects.filter(school__in=operator.schools.all(), kind="course", teacher__kind="staff")
        .select_related("entry__item", "school")
        .order_by("pk")
        .first()
    )
    if cls is None or cls.entry is None:
        return 0
    book = RateBook()
    ceiling = min(
        (
            book.ceiling(district_id=d, category_id=cls.entry.item.category_id, teacher_kind="staff").rate_fen
            for d in set(operator.schools.values_list("district_id", flat=True))
        ),
        default=0,
    )
    if ceiling <= 1000:
        return 0
    pay_rate_set(
        actor=user,
        operator=operator,
        entry=cls.entry,
        teacher_kind="staff",
        rate_fen=ceiling - 1000,
        now=now - timedelta(days=45),
    )
    return 1


def _bind_payees(*, now: datetime) -> tuple[int, int | None]:
    """Every teacher with a line binds the WeChat account pay goes to; the first of an earlier month's teachers has
    a phone whose first answer is lost (``-timeout``). Returns (bound, that teacher)."""
    from kehou.payroll.models import Payee, PayLine
    from kehou.people.models import TeacherProfile

    current = f"{timezone.localdate(now):%Y-%m}"
    earlier = (
        PayLine.objects.filter(period__lt=current)
        .exclude(teacher__user__username="teacher")
        .order_by("teacher_id")
        .values_list("teacher_id", flat=True)
        .first()
    )
    rows = []
    for teacher in TeacherProfile.objects.filter(pk__in=PayLine.objects.values("teacher_id")).select_related("user"):
        digest = hashlib.sha256(f"kehou-demo-{teacher.pk}".encode()).hexdigest()[:20]
        suffix = "-timeout" if teacher.pk == earlier else ""
        rows.append(
            Payee(
                teacher=teacher,
                openid=f"o{digest}{suffix}",
                real_name=teacher.user.full_name or teacher.user.username,
                bound_at=now - timedelta(days=30),
            )
        )
    Payee.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows), earlier


def _school_admin(school_id: int) -> Any:
    from kehou.people.models import RoleAssignment

    ra = RoleAssignment.objects.filter(role="school_admin", school_id=school_id).select_related("user").first()
    return ra.user if ra else None


def _operator_staff(school_id: int) -> Any:
    from kehou.orgs.models import OperatorAuthorisation
    from kehou.people.models import RoleAssignment

    operators = OperatorAuthorisation.objects.filter(school_id=school_id).values_list("operator_id", flat=True)
    ra = (
        RoleAssignment.objects.filter(role="operator_staff", operator_id__in=operators)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    return ra.user if ra else None


def _month(period: str, *, base: datetime, counts: dict[str, int]) -> None:
    """One earlier month from the schools' decisions to the transfers, starting at ``base``."""
    from kehou.core.errors import KehouError
    from kehou.orgs.models import OperatorCompany, School
    from kehou.payroll.models import PayLine
    from kehou.payroll.services import lines, payouts

    school_ids = sorted(set(PayLine.objects.filter(period=period).values_list("school_id", flat=True)))
    # Two of the month's lines are rejected and disputed: the demo teacher's first (kept), another (reinstated).
    month = PayLine.objects.filter(period=period)
    kept = month.filter(teacher__user__username="teacher").order_by("session__date").first()
    kept = kept or month.order_by("pk").first()
    others = month.exclude(pk=kept.pk) if kept is not None else month
    reinstated = others.exclude(teacher__user__username="teacher").last()
    disputes = [kept, reinstated]
    plans = [
        (REJECT_REASON, DISPUTE_KEPT, KEPT_ANSWER, False),
        (REINSTATE_REJECT, REINSTATE_DISPUTE, REINSTATE_ANSWER, True),
    ]
    for line, (reason, dispute, answer, reinstate) in zip(disputes, plans, strict=True):
        admin = _school_admin(line.school_id) if line else None
        if line is None or admin is None:
            continue
        lines.pay_line_reject(actor=admin, line=line, reason=reason, now=base)
        lines.pay_line_dispute(actor=line.teacher.user, line=line, reason=dispute, now=base + timedelta(hours=2))
        lines.pay_dispute_answer(
            actor=admin, line=line, reinstate=reinstate, answer=answer, now=base + timedelta(hours=5)
        )
        counts["lines_disputed"] += 1
    for school_id in school_ids:
        admin = _school_admin(school_id)
        if admin is None:
            continue
        with contextlib.suppress(KehouError):  # nothing awaiting the school
            counts["lines_school_approved"] += lines.pay_school_approve(
                actor=admin, school=School.objects.get(pk=school_id), period=period, now=base + timedelta(hours=6)
            )
    for school_id in school_ids:
        staff = _operator_staff(school_id)
        if staff is None:
            continue
        try:
            counts["lines_approved"] += lines.pay_operator_approve(
                actor=staff, school=School.objects.get(pk=school_id), period=period, now=base + timedelta(hours=24)
            )
        except KehouError as exc:
            log.warning("demo: %s %s not approved by the operator: %s", school_id, period, exc)
    pay_at = base + timedelta(hours=26)
    for operator in OperatorCompany.objects.order_by("pk"):
        staff = operator.staff.filter(role="operator_staff").select_related("user").order_by("pk").first()
        if staff is None:
            continue
        try:
            batch, _skipped = payouts.payout_batch_start(
                actor=staff.user,
                operator=operator,
                period=period,
                request_key=f"demo-payout-{operator.pk}-{period}",
                now=pay_at,
            )
        except KehouError:
            continue
        counts["payout_batches"] += 1
        for payout in batch.payouts.order_by("pk"):
            payouts.payout_send(payout_id=payout.pk, now=pay_at)
            counts["payouts"] += 1
    # The worker follows up: the lost answer is sent again (same number) half a minute later, the simulator's
    # transfers finish and notify, the channel is asked about anything still open.
    payouts.payouts_poll(now=pay_at + timedelta(seconds=35))
    payouts.simulator_deliver(now=pay_at + timedelta(seconds=70))
    payouts.payouts_poll(now=pay_at + timedelta(minutes=10))


def _pdf(filename: str, heading: str, lines: list[str]) -> Any:
    """A one-page PDF as the operator scanned or downloaded it, made with the same PDF library as the reports."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.setFont("STSong-Light", 14)
    page.drawString(72, 760, heading)
    page.setFont("STSong-Light", 11)
    for i, line in enumerate(lines):
        page.drawString(72, 730 - 20 * i, line)
    page.save()
    return SimpleUploadedFile(filename, out.getvalue(), content_type="application/pdf")


def _receipt(title: str, amount_fen: int, day: Any) -> Any:
    """The receipt of an operator cost (an e-invoice)."""
    return _pdf(
        f"发票-{title}.pdf",
        "江西增值税电子普通发票（演示）",
        [f"项目：{title}", f"金额：¥{amount_fen / 100:.2f}", f"开票日期：{day:%Y-%m-%d}"],
    )


def _report(*, now: datetime, counts: dict[str, int]) -> None:
    """The operator's costs at the school of the earlier months (with their receipts), and its report on the term for
    that school's district, filed through the end of last month and acknowledged by the district's bureau."""
    from kehou.payroll.models import PayLine
    from kehou.payroll.services import reports
    from kehou.people.models import RoleAssignment

    first = PayLine.objects.filter(status="paid").select_related("school__district", "session__course_class__term")
    # the school of the demo teacher's substitutions (东湖区百花洲小学, in the demo district bureau's district)
    line = first.filter(teacher__user__username="teacher").first() or first.order_by("session__date", "pk").first()
    staff = _operator_staff(line.school_id) if line else None
    if line is None or staff is None:
        return
    ra = staff.role_assignments.filter(role="operator_staff").select_related("operator").first()
    if ra is None or ra.operator is None:
        return
    school, term = line.school, line.session.course_class.term
    month_start = timezone.localdate(now).replace(day=1)
    last_day = month_start - timedelta(days=1)
    entered = timezone.localtime(now - timedelta(days=2)).replace(hour=15, minute=0, second=0, microsecond=0)
    from kehou.ledger.services import account, balance_of, earned_code

    # what the school's delivered sessions earned beyond its teachers' pay bears the costs: a third for training, a
    # tenth for materials (whole yuan)
    spare = balance_of(account(earned_code(school.pk)))
    for kind, title, amount, day in (
        ("training", "课后服务教师培训（两期）", spare // 3 // 100 * 100, last_day - timedelta(days=12)),
        ("operating", "教具与场地耗材", spare // 10 // 100 * 100, last_day - timedelta(days=5)),
    ):
        if amount <= 0:
            continue
        if day < term.starts_on:
            day = term.starts_on
        reports.cost_add(
            actor=staff,
            operator=ra.operator,
            school=school,
            term=term,
            kind=kind,
            amount_fen=amount,
            description=title,
            incurred_on=day,
            receipt=_receipt(title, amount, day),
            now=entered,
        )
        counts["costs"] += 1
    report = reports.report_file(
        actor=staff,
        operator=ra.operator,
        term=term,
        district=school.district,
        now=entered + timedelta(hours=1),
        through=last_day,
    )
    bureau = (
        RoleAssignment.objects.filter(role="district_admin", district=school.district).select_related("user").first()
    )
    if bureau is not None:
        reports.report_acknowledge(actor=bureau.user, report=report, now=entered + timedelta(hours=20))
    counts["audit_reports"] += 1


def _certificate(period: str, amount_fen: int, day: Any) -> Any:
    """The tax office's certificate of the remitted tax (完税证明)."""
    return _pdf(
        f"完税证明-{period}.pdf",
        "中华人民共和国税收完税证明（演示）",
        [
            f"税种：个人所得税（劳务报酬所得，代扣代缴） 所属期：{period}",
            f"实缴金额：¥{amount_fen / 100:.2f}",
            f"入库日期：{day:%Y-%m-%d}",
        ],
    )


def _disbursements(*, now: datetime, counts: dict[str, int]) -> None:
    """Money out of escrow besides teachers' pay: the operator asks to pay out the costs it entered (the district's
    bureau approved them) and to remit each earlier month's withheld tax (the earliest approved by the city bureau,
    the latest still awaiting it)."""
    from kehou.orgs.models import OperatorCompany, Region
    from kehou.payroll.services import disbursements
    from kehou.people.models import RoleAssignment

    asked = timezone.localtime(now - timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    city = RoleAssignment.objects.filter(role="city_admin").select_related("user").order_by("pk").first()
    for operator in OperatorCompany.objects.filter(costs__isnull=False).distinct().order_by("pk"):
        staff = RoleAssignment.objects.filter(role="operator_staff", operator=operator).select_related("user").first()
        if staff is None:
            continue
        districts = sorted(set(disbursements.waiting_costs(operator).values_list("school__district", flat=True)))
        for district_id in districts:
            district = Region.objects.get(pk=district_id)
            d, _new = disbursements.disbursement_request(
                actor=staff.user,
                operator=operator,
                kind="costs",
                district=district,
                request_key=f"demo-costs-{operator.pk}-{district_id}",
                note="本学期培训与耗材",
                now=asked,
            )
            counts["disbursements"] += 1
            bureau = (
                RoleAssignment.objects.filter(role="district_admin", district=district).select_related("user").first()
            )
            if bureau is not None:
                disbursements.disbursement_approve(actor=bureau.user, disbursement=d, now=asked + timedelta(hours=3))
                counts["disbursements_approved"] += 1
        periods = sorted(set(disbursements.waiting_tax(operator).values_list("period", flat=True)))
        for i, period in enumerate(periods):
            amount = sum(disbursements.waiting_tax(operator, period).values_list("tax_fen", flat=True))
            d, _new = disbursements.disbursement_request(
                actor=staff.user,
                operator=operator,
                kind="tax",
                period=period,
                voucher=_certificate(period, amount, asked.date()),
                request_key=f"demo-tax-{operator.pk}-{period}",
                now=asked + timedelta(minutes=10 + i),
            )
            counts["disbursements"] += 1
            if city is not None and i < len(periods) - 1:
                disbursements.disbursement_approve(actor=city.user, disbursement=d, now=asked + timedelta(hours=4))
                counts["disbursements_approved"] += 1


def build_payroll(*, now: datetime) -> LoadResult:
    from kehou.attendance.models import CheckIn
    from kehou.payroll.models import PayLine, Payout
    from kehou.payroll.services.lines import pay_lines_compute

    counts: dict[str, int] = {
        "sessions_backfilled": 0,
        "pay_lines": 0,
        "lines_disputed": 0,
        "lines_school_approved": 0,
        "lines_approved": 0,
        "payout_batches": 0,
        "payouts": 0,
        "costs": 0,
        "audit_reports": 0,
        "disbursements": 0,
        "disbursements_approved": 0,
    }
    if PayLine.objects.exists():
        counts["pay_lines"] = PayLine.objects.count()
        return LoadResult(loaded=False, state="present", counts=counts)
    today = timezone.localdate(now)
    first_held = CheckIn.objects.order_by("session__date").values_list("session__date", flat=True).first()
    counts["sessions_backfilled"] = _backfill(now=now, before=first_held or today)
    _standards(now)
    _operator_rate(now)
    result = pay_lines_compute(now=now, since=today - timedelta(days=400))
    counts["pay_lines"] = result.created
    counts["fees_released_fen"] = result.released_fen
    counts["payees"], _timeout = _bind_payees(now=now)
    current = f"{today:%Y-%m}"
    earlier = sorted(set(PayLine.objects.filter(period__lt=current).values_list("period", flat=True)))
    base = timezone.localtime(now - timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    for i, period in enumerate(earlier):
        _month(period, base=base - timedelta(days=3 * (len(earlier) - 1 - i)), counts=counts)
    _report(now=now, counts=counts)
    _disbursements(now=now, counts=counts)
    counts["payouts_paid"] = Payout.objects.filter(status="paid").count()
    counts["payouts_resent"] = Payout.objects.filter(attempts__gt=1).count()
    counts["lines_awaiting_school"] = PayLine.objects.filter(Q(period=current) & Q(status="computed")).count()
    return LoadResult(loaded=True, state="loaded", counts=counts)
