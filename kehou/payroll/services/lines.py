"""Pay lines: computed from the evidence of delivery, approved by the school and then the operator, disputed by the
teacher.

:func:`pay_lines_compute` (the task worker runs it every few minutes) reads the sessions of the last
``KEHOU_PAYROLL["COMPUTE_DAYS"]`` days whose roll call has closed, once, with their check-ins, roll calls and
substitutes, and for each:

* delivered (a check-in inside the radius, or a make-up the school approved; and a closed roll call with at least
  one mark) and no line yet: the line is created for whoever ran it, at the rate that applies, and the session's
  share of the fees is released from escrow (``payments.services.releases``) in the same transaction;
* a line nobody has decided on yet (``computed``) follows the evidence: its rate or teacher is updated, or it is
  removed when the evidence no longer holds (a make-up approved by mistake and then rejected);
* a line the school or the operator has decided on never changes.

Approving twice or out of order, rejecting an approved line, or acting on a school one is not authorised for is
refused with a stable code and changes nothing. The operator's approval locks the lines and accrues them in the
ledger (``accrual:…``: Dr earned:school, Cr teacher_pay_payable) in the same transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehou.attendance.models import CheckIn
from kehou.core import audit
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, Forbidden, KehouError, NotFound
from kehou.core.scope import scope_for
from kehou.enrolment.models import ClassSession
from kehou.ledger.services import TEACHER_PAY_PAYABLE, Leg, earned_code, post
from kehou.notify.services import notify
from kehou.orgs.models import OperatorAuthorisation, School
from kehou.payments.services.releases import release_session

from ..models import PayLine
from .common import operator_staff_ids, require_operator_of, require_school_admin, school_admin_ids
from .rates import RateBook

REASON_MAX = 200


def period_months() -> int:
    """How many months a pay period spans (``KEHOU_PAYROLL["PERIOD_MONTHS"]``: 1, 2, 3, 4, 6 or 12)."""
    months = int(str(settings.KEHOU_PAYROLL.get("PERIOD_MONTHS", 1)))
    if months not in (1, 2, 3, 4, 6, 12):
        raise ValueError(f"KEHOU_PAYROLL['PERIOD_MONTHS'] must divide a year, not {months}")
    return months


def period_of(day: date) -> str:
    """The pay period a day falls in, named by its first month (``2026-10`` for October to December when periods
    are quarters)."""
    months = period_months()
    first = (day.month - 1) // months * months + 1
    return f"{day.year:04d}-{first:02d}"


def period_label(period: str) -> str:
    """A period as people read it: ``2026-11``, or ``2026-10 – 2026-12`` when it spans several months."""
    months = period_months()
    if months == 1 or len(period) != 7:
        return period
    last = int(period[5:]) + months - 1
    return f"{period} – {period[:4]}-{last:02d}"


def check_period(period: str, *, now: datetime) -> str:
    from ..models import PERIOD

    period = (period or "").strip()
    try:
        PERIOD(period)
    except Exception:
        raise KehouError(
            _("A period is a month, written YYYY-MM."), code=ErrorCode.PAY_PERIOD_INVALID, fields={"period": 0}
        ) from None
    if (int(period[5:]) - 1) % period_months():
        raise KehouError(
            _("A pay period starts in month %(months)s.")
            % {"months": ", ".join(f"{m:02d}" for m in range(1, 13, period_months()))},
            code=ErrorCode.PAY_PERIOD_INVALID,
            fields={"period": period},
        )
    if period > period_of(timezone.localdate(now)):
        raise KehouError(_("That month has not begun."), code=ErrorCode.PAY_PERIOD_INVALID, fields={"period": period})
    return period


def _reason(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise KehouError(_("Give a reason."), code=ErrorCode.PAY_REASON_INVALID, fields={"reason": 0})
    if len(text) > REASON_MAX:
        raise KehouError(
            _("At most %(n)d characters.") % {"n": REASON_MAX},
            code=ErrorCode.PAY_REASON_INVALID,
            fields={"reason": len(text)},
        )
    return text


# --- evidence and computation ---------------------------------------------------------------------------------


def delivered(session: ClassSession) -> tuple[bool, dict[str, Any]]:
    """Whether a session (with ``check_in`` and ``roll_call`` selected) was delivered with evidence, and the
    evidence as it is recorded on the line."""
    check_in = getattr(session, "check_in", None)
    roll_call = getattr(session, "roll_call", None)
    evidence: dict[str, Any] = {}
    ok_check_in = False
    if check_in is not None:
        evidence["check_in"] = {"outcome": check_in.outcome, "timing": check_in.timing, "makeup": check_in.makeup}
        ok_check_in = check_in.outcome == CheckIn.Outcome.INSIDE or check_in.makeup == CheckIn.Makeup.APPROVED
    ok_roll_call = False
    if roll_call is not None:
        evidence["roll_call"] = {**roll_call.counts(), "closed": roll_call.closed_at is not None}
        ok_roll_call = (
            roll_call.closed_at is not None and roll_call.expected > 0 and roll_call.unmarked < roll_call.expected
        )
    return ok_check_in and ok_roll_call, evidence


@dataclass
class ComputeResult:
    sessions: int = 0
    created: int = 0
    updated: int = 0
    removed: int = 0
    released_fen: int = 0
    unrated: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "pay_sessions_read": self.sessions,
            "pay_lines_created": self.created,
            "pay_lines_updated": self.updated,
            "pay_lines_removed": self.removed,
            "fees_released_fen": self.released_fen,
            "sessions_without_rate": self.unrated,
        }


def pay_lines_compute(
    *, now: datetime, school_ids: list[int] | None = None, since: date | None = None, until: date | None = None
) -> ComputeResult:
    """Compute (and follow the evidence of) the pay lines of the sessions whose roll call has closed."""
    today = timezone.localdate(now)
    since = since or today - timedelta(days=int(str(settings.KEHOU_PAYROLL["COMPUTE_DAYS"])))
    until = until or today
    sessions = (
        ClassSession.objects.filter(
            date__gte=since, date__lte=until, course_class__status="active", roll_call__closed_at__isnull=False
        )
        .select_related(
            "course_class__school",
            "course_class__teacher",
            "course_class__entry__item",
            "check_in",
            "roll_call",
            "substitute__teacher",
        )
        .order_by("date", "starts_at", "pk")
    )
    if school_ids is not None:
        sessions = sessions.filter(course_class__school_id__in=school_ids)
    existing = {
        line.session_id: line
        for line in PayLine.objects.filter(session__date__gte=since, session__date__lte=until).filter(
            Q(session__course_class__school_id__in=school_ids) if school_ids is not None else Q()
        )
    }
    book = RateBook()
    operators: dict[int, int] = {}
    for school_id, operator_id in OperatorAuthorisation.objects.order_by("pk").values_list("school_id", "operator_id"):
        operators.setdefault(school_id, operator_id)
    result = ComputeResult()
    numbers: dict[int, list[int]] = {}  # each class's session numbers, read once
    for session in sessions:
        result.sessions += 1
        ok, evidence = delivered(session)
        line = existing.get(session.pk)
        if not ok:
            if line is not None and line.status == PayLine.Status.COMPUTED:
                PayLine.objects.filter(pk=line.pk, status=PayLine.Status.COMPUTED).delete()
                result.removed += 1
            continue
        course_class = session.course_class
        substitute = getattr(session, "substitute", None)
        teacher = substitute.teacher if substitute is not None else course_class.teacher
        entry = course_class.entry
        rate = book.rate(
            district_id=course_class.school.district_id,
            category_id=entry.item.category_id if entry is not None else None,
            teacher_kind=teacher.kind,
            operator_id=operators.get(course_class.school_id),
            entry_id=course_class.entry_id,
        )
        if rate.rate_fen <= 0:
            result.unrated += 1
            continue
        values = {
            "teacher": teacher,
            "teacher_kind": teacher.kind,
            "rate_fen": rate.rate_fen,
            "rate_basis": rate.basis,
            "amount_fen": rate.rate_fen,
            "substitute": substitute is not None,
            "evidence": evidence,
        }
        if line is None:
            try:
                with transaction.atomic():
                    PayLine.objects.create(
                        session=session,
                        school_id=course_class.school_id,
                        period=period_of(session.date),
                        class_hours=1,
                        computed_at=now,
                        **values,
                    )
                    class_id = session.course_class_id
                    if class_id not in numbers:
                        numbers[class_id] = list(
                            ClassSession.objects.filter(course_class_id=class_id).values_list("number", flat=True)
                        )
                    result.released_fen += release_session(session=session, now=now, numbers=numbers[class_id])
            except (IntegrityError, OperationalError):
                # another computation made it first, or a refund of one of its places took the room or the locks
                # first (a deadlock the database broke): the next run tries again
                continue
            result.created += 1
        elif line.status == PayLine.Status.COMPUTED and (
            line.teacher_id != teacher.pk or any(getattr(line, k) != v for k, v in values.items() if k != "teacher")
        ):
            PayLine.objects.filter(pk=line.pk, status=PayLine.Status.COMPUTED).update(computed_at=now, **values)
            result.updated += 1
    return result


# --- the school's step ----------------------------------------------------------------------------------------


def pay_school_approve(*, actor: Any, school: School, period: str, now: datetime) -> int:
    """The school approves its teachers' lines of a month (those awaiting it, except lines under dispute). Returns
    how many; none waiting is ``pay_nothing_to_approve``."""
    require_school_admin(actor, school)
    period = check_period(period, now=now)
    with transaction.atomic():
        waiting = PayLine.objects.filter(school=school, period=period, status=PayLine.Status.COMPUTED).exclude(
            disputed_at__isnull=False, dispute_answered_at__isnull=True
        )
        count = waiting.update(status=PayLine.Status.SCHOOL_APPROVED, school_decided_by=actor, school_decided_at=now)
        if not count:
            raise Conflict(
                _("No line of this month awaits the school."),
                code=ErrorCode.PAY_NOTHING_TO_APPROVE,
                fields={"period": period},
            )
        audit.record(
            actor=actor,
            action=AuditAction.PAY_SCHOOL_APPROVE,
            object_type="school",
            object_id=school.pk,
            object_repr=f"{school.name} {period}",
            after={"period": period, "lines": count},
            now=now,
            school_id=school.pk,
            district_id=school.district_id,
        )
        notify(
            user_ids=operator_staff_ids(school.pk),
            kind="pay",
            title=_("%(school)s approved %(n)d pay lines of %(period)s")
            % {"school": school.name, "n": count, "period": period},
            link=f"/pay/?period={period}&school={school.pk}",
            now=now,
            dedup_key=f"pay-school-approved:{school.pk}:{period}:{now:%Y%m%d%H%M%S}",
        )
    return count


def _record_and_tell(
    line: PayLine,
    *,
    actor: Any,
    action: AuditAction,
    after: dict[str, Any],
    now: datetime,
    to: list[int],
    title: str,
    body: str,
    link: str,
    key: str,
) -> None:
    """One decision on a line: its audit entry and the notice to whoever acts next (in the caller's transaction)."""
    audit.record(
        actor=actor,
        action=action,
        obj=line,
        object_repr=f"{line.session} {line.teacher}",
        after=after,
        now=now,
        school_id=line.school_id,
        district_id=line.school.district_id,
    )
    notify(
        user_ids=to,
        kind="pay",
        title=title,
        body=body,
        link=link,
        now=now,
        dedup_key=f"{key}:{line.pk}:{now:%Y%m%d%H%M%S}",
    )


def pay_line_reject(*, actor: Any, line: PayLine, reason: str, now: datetime) -> PayLine:
    """The school rejects a line it has not passed to the operator's approval yet, saying why; the teacher is told
    and may dispute it."""
    require_school_admin(actor, line.school)
    reason = _reason(reason)
    with transaction.atomic():
        if not PayLine.objects.filter(
            pk=line.pk, status__in=[PayLine.Status.COMPUTED, PayLine.Status.SCHOOL_APPROVED]
        ).update(status=PayLine.Status.REJECTED, reject_reason=reason, school_decided_by=actor, school_decided_at=now):
            raise Conflict(
                _("Only a line the operator has not approved can be rejected."), code=ErrorCode.PAY_LINE_STATE
            )
        line.refresh_from_db()
        _record_and_tell(
            line,
            actor=actor,
            action=AuditAction.PAY_LINE_REJECT,
            after={"reason": reason, "amount_fen": line.amount_fen},
            now=now,
            to=[line.teacher.user_id],
            title=_("A pay line of %(date)s was rejected") % {"date": line.session.date.isoformat()},
            body=reason,
            link=f"/pay/?period={line.period}",
            key="pay-line-rejected",
        )
    return line


def pay_line_dispute(*, actor: Any, line: PayLine, reason: str, now: datetime) -> PayLine:
    """The line's teacher disputes it (a rejection, or the amount), once at a time, before it is paid."""
    profile = getattr(actor, "teacher_profile", None)
    if profile is None or profile.pk != line.teacher_id:
        if scope_for(actor).may_see(line):
            raise Forbidden(_("Only the line's teacher may dispute it."), code=ErrorCode.NOT_LINE_TEACHER)
        raise NotFound(_("Not found."))
    reason = _reason(reason)
    with transaction.atomic():
        updated = (
            PayLine.objects.filter(pk=line.pk)
            .exclude(status__in=[PayLine.Status.PAYING, PayLine.Status.PAID])
            .filter(Q(disputed_at__isnull=True) | Q(dispute_answered_at__isnull=False))
            .update(
                disputed_at=now,
                dispute_reason=reason,
                dispute_answer="",
                dispute_answered_by=None,
                dispute_answered_at=None,
            )
        )
        if not updated:
            raise Conflict(_("This line is being paid, paid, or already under dispute."), code=ErrorCode.PAY_LINE_STATE)
        line.refresh_from_db()
        _record_and_tell(
            line,
            actor=actor,
            action=AuditAction.PAY_LINE_DISPUTE,
            after={"reason": reason, "status": line.status},
            now=now,
            to=school_admin_ids(line.school_id),
            title=_("%(teacher)s disputes a pay line of %(date)s")
            % {"teacher": str(line.teacher.user), "date": line.session.date.isoformat()},
            body=reason,
            link=f"/pay/?period={line.period}&school={line.school_id}",
            key="pay-line-disputed",
        )
    return line


def pay_dispute_answer(*, actor: Any, line: PayLine, reinstate: bool, answer: str, now: datetime) -> PayLine:
    """The school answers an open dispute: ``reinstate`` puts a rejected line back to await approval; otherwise the
    decision stands, with the school's answer."""
    require_school_admin(actor, line.school)
    answer = _reason(answer)
    with transaction.atomic():
        fields: dict[str, Any] = {"dispute_answer": answer, "dispute_answered_by": actor, "dispute_answered_at": now}
        qs = PayLine.objects.filter(pk=line.pk, disputed_at__isnull=False, dispute_answered_at__isnull=True)
        if reinstate:
            qs = qs.filter(status=PayLine.Status.REJECTED)
            fields.update(
                status=PayLine.Status.COMPUTED, reject_reason="", school_decided_by=None, school_decided_at=None
            )
        if not qs.update(**fields):
            raise Conflict(
                _("There is no open dispute to answer that way on this line."), code=ErrorCode.PAY_LINE_STATE
            )
        line.refresh_from_db()
        _record_and_tell(
            line,
            actor=actor,
            action=AuditAction.PAY_DISPUTE_ANSWER,
            after={"reinstate": reinstate, "answer": answer},
            now=now,
            to=[line.teacher.user_id],
            title=_("Your dispute was upheld: the line awaits approval again")
            if reinstate
            else _("Your dispute was answered"),
            body=answer,
            link=f"/pay/?period={line.period}",
            key="pay-dispute-answered",
        )
    return line


# --- the operator's step --------------------------------------------------------------------------------------


def accrual_key(school_id: int, period: str, line_ids: list[int]) -> str:
    digest = hashlib.sha256(",".join(str(i) for i in sorted(line_ids)).encode()).hexdigest()[:24]
    return f"accrual:school:{school_id}:{period}:{digest}"


def pay_operator_approve(*, actor: Any, school: School, period: str, now: datetime) -> int:
    """An operator authorised for the school approves the month's lines the school approved: they lock, and their
    total moves in the ledger from the school's earned fees to teachers' pay payable. Returns how many."""
    require_operator_of(actor, school)
    period = check_period(period, now=now)
    with transaction.atomic():
        lines = list(
            PayLine.objects.select_for_update()
            .filter(school=school, period=period, status=PayLine.Status.SCHOOL_APPROVED)
            .order_by("pk")
        )
        if not lines:
            raise Conflict(
                _("No line of this month awaits the operator (the school approves first)."),
                code=ErrorCode.PAY_NOTHING_TO_APPROVE,
                fields={"period": period},
            )
        ids = [line.pk for line in lines]
        key = accrual_key(school.pk, period, ids)
        total = sum(line.amount_fen for line in lines)
        post(
            key=key,
            kind="accrual",
            legs=[Leg(earned_code(school.pk), TEACHER_PAY_PAYABLE, total)],
            now=now,
            school_id=school.pk,
            reference=f"pay:{school.pk}:{period}",
            memo=f"{len(ids)} pay lines",
        )
        count = PayLine.objects.filter(pk__in=ids, status=PayLine.Status.SCHOOL_APPROVED).update(
            status=PayLine.Status.APPROVED, approved_by=actor, approved_at=now, accrual_key=key
        )
        audit.record(
            actor=actor,
            action=AuditAction.PAY_OPERATOR_APPROVE,
            object_type="school",
            object_id=school.pk,
            object_repr=f"{school.name} {period}",
            after={"period": period, "lines": count, "amount_fen": total, "ledger": key},
            now=now,
            school_id=school.pk,
            district_id=school.district_id,
        )
        teachers = sorted({line.teacher_id for line in lines})
        from kehou.people.models import TeacherProfile

        notify(
            user_ids=list(TeacherProfile.objects.filter(pk__in=teachers).values_list("user_id", flat=True)),
            kind="pay",
            title=_("Your class-hour pay of %(period)s was approved") % {"period": period},
            link=f"/pay/?period={period}",
            now=now,
            dedup_key=f"pay-approved:{school.pk}:{period}:{key[-8:]}",
        )
    return count
