"""A class with paid places and delivered sessions, for pay and release tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from kehou.attendance.models import CheckIn, RollCall
from kehou.attendance.services.common import session_bounds
from kehou.attendance.tests.factories import class_with_pupils
from kehou.enrolment.models import ClassSession, CourseClass, Enrolment
from kehou.ledger.services import ESCROW, Leg, clearing_code, post, prepaid_code
from kehou.orgs.models import School
from kehou.payments.models import Order, OrderLine, PaymentAttempt
from kehou.people.models import TeacherProfile

from ..models import Payee, PayStandard

RATE = 80_00  # 80 yuan per class hour


def standard_for(course_class: CourseClass, *, kind: str = "staff", rate: int = RATE) -> PayStandard:
    from django.utils import timezone

    return PayStandard.objects.get_or_create(
        region_id=course_class.school.district_id,
        category_id=course_class.entry.item.category_id if course_class.entry else None,
        teacher_kind=kind,
        defaults={"rate_fen": rate, "set_at": timezone.now()},
    )[0]


def paid_class(
    school: School, n: int = 4, *, teacher: TeacherProfile | None = None, materials: int = 0, settle: bool = True
) -> tuple[CourseClass, list[Order]]:
    """A class of ``n`` pupils, each with a paid order (course fee, and materials when given), posted in the ledger
    as the payments app does, and settled into escrow."""
    cls, _pupils = class_with_pupils(school, n, teacher=teacher)
    orders = []
    for i, enrolment in enumerate(Enrolment.objects.filter(course_class=cls).order_by("pk")):
        now = enrolment.created_at
        total = enrolment.fee_fen + materials
        order = Order.objects.create(
            order_no=f"KHT{cls.pk:04d}{i:04d}",
            enrolment=enrolment,
            school_id=school.pk,
            pupil=enrolment.pupil,
            payer=enrolment.requested_by,
            description=cls.name,
            total_fen=total,
            paid_fen=total,
            status="paid",
            channel="simulator",
            request_key=f"t-{cls.pk}-{i}",
            created_at=now,
            expires_at=now,
            paid_at=now,
        )
        OrderLine.objects.create(order=order, kind="course", description=cls.name, amount_fen=enrolment.fee_fen)
        if materials:
            OrderLine.objects.create(order=order, kind="materials", description="教材", amount_fen=materials)
        attempt = PaymentAttempt.objects.create(
            order=order,
            channel="simulator",
            out_trade_no=f"KPT{cls.pk:04d}{i:04d}",
            amount_fen=total,
            status="paid",
            created_at=now,
            finished_at=now,
        )
        post(
            key=f"payment:{attempt.out_trade_no}",
            kind="payment",
            legs=[Leg(clearing_code("simulator"), prepaid_code(school.pk), total)],
            now=now,
            school_id=school.pk,
        )
        if settle:
            post(
                key=f"settlement:test:{attempt.out_trade_no}",
                kind="settlement",
                legs=[Leg(ESCROW, clearing_code("simulator"), total)],
                now=now,
            )
        orders.append(order)
    return cls, orders


def deliver(
    session: ClassSession,
    *,
    teacher: TeacherProfile | None = None,
    outcome: str = "inside",
    makeup: str = "",
    marked: bool = True,
    closed: bool = True,
) -> datetime:
    """Record a check-in and a roll call for the session as the teacher's day would; returns a moment after its
    roll call closed."""
    start, end = session_bounds(session)
    teacher = teacher or session.course_class.teacher
    CheckIn.objects.create(
        session=session,
        teacher=teacher,
        at=start,
        outcome=outcome,
        timing="on_time" if outcome == "inside" else "missed",
        makeup=makeup,
        makeup_reason="忘记打卡" if makeup else "",
    )
    expected = session.course_class.taken
    RollCall.objects.create(
        session=session,
        expected=expected,
        present=expected if marked else 0,
        unmarked=0 if marked else expected,
        opened_at=start,
        updated_at=end,
        closed_at=end + timedelta(hours=2) if closed else None,
    )
    return end + timedelta(hours=3)


def sessions(cls: CourseClass) -> list[ClassSession]:
    return list(ClassSession.objects.filter(course_class=cls).order_by("number"))


def bind_payee(teacher: TeacherProfile, *, openid: str = "", name: str = "") -> Payee:
    from django.utils import timezone

    return Payee.objects.create(
        teacher=teacher,
        openid=openid or f"oTEST{teacher.pk:06d}",
        real_name=name or teacher.user.full_name or "张老师",
        bound_at=timezone.now(),
    )


def walker_rows(city: object) -> None:
    """For the URL walker: a pay line for the first session of each school's walker class, and a payout (with its
    batch) for each of those teachers, under an operator authorised for that school."""
    from django.utils import timezone

    from kehou.orgs.models import OperatorAuthorisation, OperatorCompany
    from kehou.payments.models import Order

    from ..models import AuditReport, Disbursement, OperatorCost, PayLine, Payout, PayoutBatch

    now = timezone.now()
    seen: set[int] = set()
    for order in Order.objects.filter(order_no__startswith="KHWALK").select_related("enrolment__course_class"):
        cls = order.enrolment.course_class
        if cls.pk in seen:
            continue
        seen.add(cls.pk)
        session = ClassSession.objects.filter(course_class=cls).order_by("number").first()
        if session is None:
            continue
        line = PayLine.objects.create(
            session=session,
            teacher=cls.teacher,
            school_id=cls.school_id,
            period=f"{session.date:%Y-%m}",
            teacher_kind=cls.teacher.kind,
            rate_fen=RATE,
            rate_basis="district_standard",
            amount_fen=RATE,
            status="computed",
            computed_at=now,
        )
        auth = OperatorAuthorisation.objects.filter(school_id=cls.school_id).first()
        if auth is not None:
            operator = auth.operator
        else:
            operator = OperatorCompany.objects.create(
                name=f"走查运营{cls.school_id}", credit_code=f"91360100MA{cls.school_id:08d}"
            )
            OperatorAuthorisation.objects.create(operator=operator, school_id=cls.school_id, granted_at=now)
        batch = PayoutBatch.objects.create(
            operator=operator,
            period=line.period,
            status="done",
            request_key=f"walker-batch-{cls.pk}",
            created_by=order.payer,
            created_at=now,
        )
        payout = Payout.objects.create(
            batch=batch,
            teacher=cls.teacher,
            period=line.period,
            teacher_kind=cls.teacher.kind,
            gross_fen=RATE,
            net_fen=RATE,
            line_ids=[line.pk],
            out_bill_no=f"KPWALKPAY{cls.pk:06d}",
            channel="simulator",
            status="failed",
            failure="REAL_NAME_CHECK_FAIL",
            created_at=now,
        )
        payout.schools.set([cls.school_id])
        district = cls.school.district
        if not AuditReport.objects.filter(operator=operator, term=cls.term, district=district).exists():
            AuditReport.objects.create(
                operator=operator,
                term=cls.term,
                district=district,
                through=session.date,
                figures={"schools": [{"id": cls.school_id, "name": cls.school.name}], "total": {}},
                trace={},
                filed_by=order.payer,
                filed_at=now,
            )
        OperatorCost.objects.create(
            operator=operator,
            school_id=cls.school_id,
            term=cls.term,
            kind="training",
            amount_fen=100,
            description=f"走查成本{cls.school_id}",
            receipt="receipts/walker.pdf",
            receipt_name="walker.pdf",
            receipt_sha256="0" * 64,
            receipt_size=1,
            receipt_type="application/pdf",
            incurred_on=session.date,
            entered_by=order.payer,
            entered_at=now,
        )
        if not Disbursement.objects.filter(operator=operator, district=district).exists():
            from django.core.files.base import ContentFile
            from django.core.files.storage import default_storage

            voucher = default_storage.save("vouchers/walker.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"))
            Disbursement.objects.create(
                voucher=voucher,
                voucher_name="walker.pdf",
                voucher_type="application/pdf",
                operator=operator,
                kind="costs",
                district=district,
                amount_fen=100,
                instruction_no=f"DBWALK{operator.pk:06d}{district.pk:06d}",
                request_key=f"walker-{operator.pk}-{district.pk}",
                requested_by=order.payer,
                requested_at=now,
            )
