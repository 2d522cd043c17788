"""Refunds: how much (the policy), asking for one (cancel), the school's approval, submitting it to the channel
the order was paid with, and applying the channel's final word.

Ledger postings:

* refund requested   ``refund:<refund_no>:reserve``  Dr prepaid:school:<id>   Cr refunds_payable
* refund succeeded   ``refund:<refund_no>:paid``     Dr refunds_payable       Cr clearing:<channel>
* refund failed      ``refund:<refund_no>:undo``     Dr refunds_payable       Cr prepaid:school:<id>

``refunded_fen`` on the order and on each line moves by conditional UPDATEs (``refunded + x ≤ amount``) when the
refund is requested, so concurrent requests can never refund more than was paid; a failed refund gives it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kehou.core import audit, jobs, permissions
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, KehouError
from kehou.core.scope import scope_for
from kehou.enrolment.models import ClassSession, Enrolment
from kehou.ledger.services import REFUNDS_PAYABLE, Leg, clearing_code, post, prepaid_code
from kehou.notify.services import notify
from kehou.orgs.models import Region
from kehou.people.models import Role, RoleAssignment

from ..channels import gateway
from ..channels.base import ChannelEvent, ChannelUnavailable
from ..models import Order, OrderLine, PaymentAttempt, Refund, RefundPolicy
from .common import check_request_key, new_number


@dataclass(frozen=True)
class Quote:
    course_fen: int
    materials_fen: int
    needs_approval: bool
    basis: dict[str, Any] = field(default_factory=dict)

    @property
    def amount_fen(self) -> int:
        return self.course_fen + self.materials_fen


def policy_for(region: Region) -> RefundPolicy | None:
    policy = RefundPolicy.objects.filter(region=region).first()
    if policy is None and not region.is_city:
        policy = RefundPolicy.objects.filter(region__kind=Region.Kind.CITY).first()
    return policy


def quote(order: Order, *, now: datetime) -> Quote:
    """What cancelling now refunds. Before the first session: the whole course fee. After it: by the policy
    (pro rata to the sessions not yet held by default), never more than what is left unrefunded. Materials: the
    unrefunded part, until handed out."""
    enrolment = order.enrolment
    course_class = enrolment.course_class
    if order.status != Order.Status.PAID or order.paid_fen == 0:
        return Quote(course_fen=0, materials_fen=0, needs_approval=False, basis={"rule": "not_paid"})
    local = timezone.localtime(now)
    sessions = list(ClassSession.objects.filter(course_class=course_class).values_list("date", "starts_at"))
    total_sessions = len(sessions)
    held = sum(1 for d, start in sessions if (d, start) <= (local.date(), local.time()))
    lines = {line.kind: line for line in order.lines.all()}
    course = lines.get(OrderLine.Kind.COURSE)
    materials = lines.get(OrderLine.Kind.MATERIALS)
    # What delivered sessions released to the school is earned, not refundable.
    course_left = (course.amount_fen - course.refunded_fen - course.released_fen) if course else 0
    policy = policy_for(order.school.district)
    rule = "before_start"
    needs_approval = False
    if held == 0 or total_sessions == 0:
        course_fen = course_left
    else:
        fraction_held = Decimal(held) / Decimal(total_sessions)
        pro_rata = (course.amount_fen * (total_sessions - held)) // total_sessions if course else 0
        rule = policy.after_start if policy else RefundPolicy.AfterStart.PRO_RATA
        percent = Decimal(100)
        if policy and fraction_held > policy.no_refund_after:
            percent, rule = Decimal(0), "after_deadline"
        elif policy and policy.after_start == RefundPolicy.AfterStart.TIERED:
            percent = Decimal(0)
            for tier in sorted(policy.tiers, key=lambda t: Decimal(str(t["held_upto"]))):
                if fraction_held <= Decimal(str(tier["held_upto"])):
                    percent = Decimal(str(tier["percent"]))
                    break
        # The entitlement covers the whole course; what earlier refunds of this order took comes off it (a second
        # request must not get a second pro-rata share).
        already = course.refunded_fen if course else 0
        course_fen = min(int(Decimal(pro_rata) * percent / 100) - already, course_left)
        needs_approval = bool(policy and policy.approval_after_start)
    materials_fen = 0
    if materials and materials.handed_out_at is None:
        materials_fen = materials.amount_fen - materials.refunded_fen - materials.released_fen
    return Quote(
        course_fen=max(course_fen, 0),
        materials_fen=materials_fen,
        needs_approval=needs_approval,
        basis={"sessions_total": total_sessions, "sessions_held": held, "rule": rule},
    )


def _reserve(order: Order, *, course_fen: int, materials_fen: int) -> None:
    """Move the refunded counters by conditional UPDATEs: refuse if that would refund more than was paid."""
    amount = course_fen + materials_fen
    if not Order.objects.filter(pk=order.pk, refunded_fen__lte=F("paid_fen") - amount).update(
        refunded_fen=F("refunded_fen") + amount
    ):
        raise Conflict(_("That is more than is left to refund."), code=ErrorCode.REFUND_EXCEEDS_PAID)
    for kind, part in ((OrderLine.Kind.COURSE, course_fen), (OrderLine.Kind.MATERIALS, materials_fen)):
        if part and not OrderLine.objects.filter(
            order=order, kind=kind, refunded_fen__lte=F("amount_fen") - F("released_fen") - part
        ).update(refunded_fen=F("refunded_fen") + part):
            raise Conflict(_("That is more than is left to refund."), code=ErrorCode.REFUND_EXCEEDS_PAID)


def refund_request(
    *, actor: Any, order: Order, request_key: str, now: datetime, reason: str = "", cancel_place: bool = True
) -> tuple[Refund | None, bool]:
    """A guardian (or the school) cancels a paid place: the seat is freed (the waitlist moves up) and the quoted
    amount is refunded through the channel it was paid with — at once, or after the school approves when the
    policy says so. Returns (refund or None when nothing is refundable, created)."""
    from kehou.enrolment.services.selection import enrolment_cancel

    check_request_key(request_key)
    previous = Refund.objects.filter(requested_by=actor, request_key=request_key).first()
    if previous is not None:
        if previous.order_id != order.pk:
            raise Conflict(
                _("This request key was already used for another refund."), code=ErrorCode.REQUEST_KEY_REUSED
            )
        return previous, False
    permissions.require_guardian_or_school(
        actor,
        obj=order,
        pupil_id=order.pupil_id,
        school_id=order.school_id,
        message=_("Only the child's guardians or the school may cancel."),
        code=ErrorCode.NOT_GUARDIAN,
    )
    if order.status != Order.Status.PAID:
        raise Conflict(
            _("Only a paid order can be refunded."), code=ErrorCode.ORDER_NOT_PAID, fields={"status": order.status}
        )
    q = quote(order, now=now)
    refund: Refund | None = None
    try:
        with transaction.atomic():
            if cancel_place and order.enrolment.status in (Enrolment.Status.HELD, Enrolment.Status.CONFIRMED):
                enrolment_cancel(
                    actor=actor, enrolment=order.enrolment, now=now, reason=reason or "refund", refunding=True
                )
            if q.amount_fen > 0:
                _reserve(order, course_fen=q.course_fen, materials_fen=q.materials_fen)
                attempt = order.attempts.get(status=PaymentAttempt.Status.PAID)
                refund = Refund.objects.create(
                    order=order,
                    attempt=attempt,
                    refund_no=new_number("KR", now),
                    channel=order.channel,
                    course_fen=q.course_fen,
                    materials_fen=q.materials_fen,
                    amount_fen=q.amount_fen,
                    reason=(reason or _("Cancelled"))[:200],
                    basis=q.basis,
                    status=Refund.Status.PENDING_APPROVAL if q.needs_approval else Refund.Status.PROCESSING,
                    requested_by=actor,
                    request_key=request_key,
                    requested_at=now,
                )
                post(
                    key=f"refund:{refund.refund_no}:reserve",
                    kind="refund",
                    legs=[Leg(prepaid_code(order.school_id), REFUNDS_PAYABLE, refund.amount_fen)],
                    now=now,
                    school_id=order.school_id,
                    reference=f"order:{order.order_no}",
                )
            audit.record(
                actor=actor,
                action=AuditAction.REFUND_REQUEST,
                obj=order,
                after={"quote": q.basis, "amount_fen": q.amount_fen, "refund": refund.refund_no if refund else None},
                now=now,
                school_id=order.school_id,
                district_id=order.school.district_id,
            )
    except IntegrityError:
        previous = Refund.objects.filter(requested_by=actor, request_key=request_key).first()
        if previous is None:
            raise
        return previous, False
    if refund is not None and refund.status == Refund.Status.PROCESSING:
        submit(refund=refund, now=now)
        refund.refresh_from_db()
    return refund, True


def refund_decide(*, actor: Any, refund: Refund, approve: bool, now: datetime, reason: str = "") -> Refund:
    """The school approves (the refund goes to the channel) or rejects (the amount goes back to the
    prepayments; the place stays cancelled). A rejection's reason (the pages ask for one) is told to the parent
    and kept in the audit log."""
    reason = reason.strip()[:200]
    permissions.require_school_admin(
        actor,
        school_id=refund.order.school_id,
        district_id=None,
        visible=scope_for(actor).may_see(refund),
        message=_("Only the school's administrators may decide."),
    )
    to = Refund.Status.PROCESSING if approve else Refund.Status.REJECTED
    with transaction.atomic():
        if not Refund.objects.filter(pk=refund.pk, status=Refund.Status.PENDING_APPROVAL).update(
            status=to, decided_by=actor
        ):
            raise Conflict(_("The refund has already been decided."), code=ErrorCode.REFUND_DECIDED)
        if not approve:
            _give_back(refund, now=now, status=Refund.Status.REJECTED)
            notify(
                user_ids=[refund.order.payer_id],
                kind="refund_rejected",
                title=_("Refund not approved: %(what)s") % {"what": refund.order.description},
                body=(
                    _(
                        "The school did not approve the refund of %(yuan)s yuan; the place stays cancelled. Please "
                        "contact the school."
                    )
                    % {"yuan": f"{refund.amount_fen / 100:.2f}"}
                )
                + (" " + _("The school's reason: %(reason)s") % {"reason": reason} if reason else ""),
                link=f"/parent/orders/{refund.order_id}/",
                now=now,
            )
        audit.record(
            actor=actor,
            action=AuditAction.REFUND_APPROVE if approve else AuditAction.REFUND_REJECT,
            obj=refund,
            after={"status": to, "reason": reason} if reason else {"status": to},
            now=now,
            school_id=refund.order.school_id,
        )
    refund.refresh_from_db()
    if approve:
        submit(refund=refund, now=now)
        refund.refresh_from_db()
    return refund


def submit(*, refund: Refund, now: datetime) -> None:
    """Send a processing refund to its channel (with its ``out_refund_no``, so a resend is the same refund).
    The final state comes from the channel's notification or a query (``refunds_poll``)."""
    try:
        _send(refund=refund, now=now)
    except (ChannelUnavailable, KehouError):
        return  # stays processing; refunds_poll resubmits or queries


def _send(*, refund: Refund, now: datetime) -> str:
    """``submit``, raising when the channel cannot be reached. Returns the refund's state after the channel's
    answer: processing, succeeded or failed."""
    if refund.status != Refund.Status.PROCESSING:
        return str(refund.status)
    answer = gateway(refund.channel).refund(
        out_trade_no=refund.attempt.out_trade_no,
        out_refund_no=refund.refund_no,
        amount_fen=refund.amount_fen,
        total_fen=refund.attempt.amount_fen,
        reason=refund.reason,
        now=now,
    )
    if answer.channel_refund_id:
        Refund.objects.filter(pk=refund.pk).update(channel_refund_id=answer.channel_refund_id)
    if answer.status in ("succeeded", "failed"):
        finish(refund=refund, succeeded=answer.status == "succeeded", now=now, failure=answer.failure)
    return answer.status


def finish(*, refund: Refund, succeeded: bool, now: datetime, failure: str = "") -> str:
    """The channel's final word on a refund: ``applied`` or ``duplicate``."""
    with transaction.atomic():
        to = Refund.Status.SUCCEEDED if succeeded else Refund.Status.FAILED
        if not Refund.objects.filter(pk=refund.pk, status=Refund.Status.PROCESSING).update(
            status=to, finished_at=now, failure=failure[:200]
        ):
            return "duplicate"
        refund.refresh_from_db()
        if succeeded:
            post(
                key=f"refund:{refund.refund_no}:paid",
                kind="refund",
                legs=[Leg(REFUNDS_PAYABLE, clearing_code(refund.channel), refund.amount_fen)],
                now=now,
                school_id=refund.order.school_id,
                reference=f"order:{refund.order.order_no}",
            )
            notify(
                user_ids=[refund.order.payer_id],
                kind="refund_succeeded",
                title=_("Refunded: %(what)s") % {"what": refund.order.description},
                body=_("%(yuan)s yuan back to where you paid.") % {"yuan": f"{refund.amount_fen / 100:.2f}"},
                link=f"/parent/orders/{refund.order_id}/",
                now=now,
            )
        else:
            _give_back(refund, now=now, status=Refund.Status.FAILED)
            if refund.basis.get("rule") == "automatic":
                _automatic_refused(refund)  # asked again under a new number: the parent hears when it is done
            else:
                notify(
                    user_ids=[refund.order.payer_id],
                    kind="refund_failed",
                    title=_("Refund failed: %(what)s") % {"what": refund.order.description},
                    body=_(
                        "The channel could not refund %(yuan)s yuan. The money stays with the school: please contact "
                        "the school."
                    )
                    % {"yuan": f"{refund.amount_fen / 100:.2f}"},
                    link=f"/parent/orders/{refund.order_id}/",
                    now=now,
                )
        audit.record(
            actor=None,
            action=AuditAction(f"refund.{to}"),
            obj=refund,
            after={"amount_fen": refund.amount_fen, "failure": failure[:200]},
            now=now,
            school_id=refund.order.school_id,
        )
    return "applied"


def _give_back(refund: Refund, *, now: datetime, status: str) -> None:
    """A rejected or failed refund: the counters and the reserved amount go back (the place stays cancelled)."""
    if not refund.stray:
        Order.objects.filter(pk=refund.order_id).update(refunded_fen=F("refunded_fen") - refund.amount_fen)
        for kind, part in (
            (OrderLine.Kind.COURSE, refund.course_fen),
            (OrderLine.Kind.MATERIALS, refund.materials_fen),
        ):
            if part:
                OrderLine.objects.filter(order_id=refund.order_id, kind=kind).update(
                    refunded_fen=F("refunded_fen") - part
                )
    post(
        key=f"refund:{refund.refund_no}:undo",
        kind="refund",
        legs=[Leg(REFUNDS_PAYABLE, prepaid_code(refund.order.school_id), refund.amount_fen)],
        now=now,
        school_id=refund.order.school_id,
        reference=f"order:{refund.order.order_no}",
        memo=status,
    )


def refund_whole_payment(
    *, attempt: PaymentAttempt, reason: str, stray: bool, now: datetime, try_no: int = 1
) -> Refund:
    """Refund a payment whole, at once, without anyone asking: it arrived after its order closed, or it paid an
    order a second time (``stray``: outside the order's counters). The task worker sends it to the channel
    (``automatic_refund_pursue``); ``try_no`` > 1 asks again after the channel refused the previous try."""
    order = attempt.order
    if not stray:
        _reserve(order, course_fen=order.total_fen - _materials(order), materials_fen=_materials(order))
    refund = Refund.objects.create(
        order=order,
        attempt=attempt,
        stray=stray,
        refund_no=new_number("KR", now),
        channel=attempt.channel,
        course_fen=attempt.amount_fen - (0 if stray else _materials(order)),
        materials_fen=0 if stray else _materials(order),
        amount_fen=attempt.amount_fen,
        reason=reason,
        basis={"rule": "automatic", "reason": reason, **({"try": try_no} if try_no > 1 else {})},
        status=Refund.Status.PROCESSING,
        requested_by=order.payer,
        request_key=f"auto-{attempt.out_trade_no}" + (f"-{try_no}" if try_no > 1 else ""),
        requested_at=now,
    )
    post(
        key=f"refund:{refund.refund_no}:reserve",
        kind="refund",
        legs=[Leg(prepaid_code(order.school_id), REFUNDS_PAYABLE, refund.amount_fen)],
        now=now,
        school_id=order.school_id,
        reference=f"order:{order.order_no}",
    )
    jobs.enqueue(AUTOMATIC_REFUND_TASK, refund_id=refund.pk)
    return refund


# --- automatic refunds, seen through by the task worker (payments.tasks) ----------------------------------------
AUTOMATIC_REFUND_TASK = "kehou.payments.tasks.pursue_automatic_refund"
AUTOMATIC_REFUND_TRIES = len(jobs.RETRY_DELAYS) + 1  # refund numbers tried before the city is alerted


class AutomaticRefundNotSent(Exception):
    """The channel could not be reached: the worker tries again (with back-off)."""


def _automatic_refused(refund: Refund) -> None:
    """The channel refused an automatic refund (its money went back to the school's prepayments, ``_give_back``):
    after a back-off the worker refunds the payment again under a new number, since a refused number stays
    refused; past the last try it gives up and the city is alerted. Runs inside ``finish``'s transaction."""
    tries = int(refund.basis.get("try", 1))
    delays = jobs.RETRY_DELAYS
    jobs.enqueue(AUTOMATIC_REFUND_TASK, delay=delays[tries - 1] if tries <= len(delays) else 0, refund_id=refund.pk)


def automatic_refund_pursue(*, refund_id: int, now: datetime) -> str:
    """See an automatic refund through: send it to its channel (``processing``, ``succeeded``, ``failed``), or, once
    the channel refused it, refund the payment again as the next try (``asked_again``; ``superseded`` when someone
    refunded the order meanwhile). Already with the channel or done: its state. Raises ``AutomaticRefundNotSent``
    while the channel cannot be reached and ``GiveUp`` after ``AUTOMATIC_REFUND_TRIES`` refusals."""
    refund = Refund.objects.select_related("attempt__order").get(pk=refund_id)
    if refund.status == Refund.Status.PROCESSING and not refund.channel_refund_id:
        try:
            return _send(refund=refund, now=now)
        except (ChannelUnavailable, KehouError) as exc:
            raise AutomaticRefundNotSent(f"{refund.refund_no}: {exc}") from exc
    if refund.status != Refund.Status.FAILED:
        return str(refund.status)
    tries = int(refund.basis.get("try", 1))
    key = f"auto-{refund.attempt.out_trade_no}-{tries + 1}"
    if Refund.objects.filter(requested_by_id=refund.requested_by_id, request_key=key).exists():
        return "asked_again"
    if tries >= AUTOMATIC_REFUND_TRIES:
        raise jobs.GiveUp(f"{refund.refund_no}: the channel refused the refund {tries} times ({refund.failure})")
    try:
        with transaction.atomic():
            refund_whole_payment(
                attempt=refund.attempt, reason=refund.reason, stray=refund.stray, now=now, try_no=tries + 1
            )
    except IntegrityError:
        return "asked_again"  # another worker asked at the same moment (the request key is unique)
    except Conflict:
        return "superseded"  # nothing left to refund: the order was refunded by a request meanwhile
    return "asked_again"


def automatic_refund_alert(*, refund_id: int, error: str, now: datetime) -> int:
    """The worker gave up on an automatic refund: every city administrator is told which payment could not be
    refunded and where its money is. Returns how many were told."""
    first = Refund.objects.select_related("order").get(pk=refund_id)
    refund = (
        Refund.objects.filter(attempt_id=first.attempt_id, basis__rule="automatic").order_by("-pk").first() or first
    )
    where = (
        "退回学校预收款 back in the school's prepayments"
        if refund.status == Refund.Status.FAILED
        else "仍在等待渠道 still reserved, the channel is asked again"
    )
    city = list(RoleAssignment.objects.filter(role=Role.CITY_ADMIN).values_list("user_id", flat=True))
    return notify(
        user_ids=city,
        kind="refund_alert",
        title=f"自动退款失败 Automatic refund failed: {refund.refund_no}",
        body=f"{refund.order.order_no} · {refund.amount_fen / 100:.2f} · {refund.channel} · {where} · {error}",
        link="/tasks/failed/",
        now=now,
    )


def _materials(order: Order) -> int:
    line = order.lines.filter(kind=OrderLine.Kind.MATERIALS).first()
    return line.amount_fen if line else 0


def apply_refund_event(*, refund: Refund, event: ChannelEvent, now: datetime) -> str:
    if event.status == "processing":
        return "duplicate"
    return finish(
        refund=refund, succeeded=event.status == "succeeded", now=now, failure=str(event.raw.get("refund_status", ""))
    )


def refunds_poll(*, now: datetime, limit: int = 200) -> int:
    """For refunds still with the channel: ask the channel (a notification may have been lost) and apply."""
    done = 0
    for refund in Refund.objects.filter(status=Refund.Status.PROCESSING).select_related("attempt")[:limit]:
        try:
            event = gateway(refund.channel).query_refund(
                out_refund_no=refund.refund_no, out_trade_no=refund.attempt.out_trade_no, now=now
            )
        except (ChannelUnavailable, KehouError):
            continue
        if event is None:
            submit(refund=refund, now=now)  # the channel does not know it: send it (same out_refund_no)
            continue
        if (
            event.amount_fen == refund.amount_fen
            and apply_refund_event(refund=refund, event=event, now=now) == "applied"
        ):
            done += 1
    return done


def policy_set(
    *,
    actor: Any,
    region: Region,
    after_start: str,
    now: datetime,
    tiers: list[dict[str, Any]] | None = None,
    no_refund_after: Decimal = Decimal(1),
    approval_after_start: bool = False,
) -> RefundPolicy:
    """The city sets the default; a district its own override."""
    from kehou.catalog.services.common import require_region_admin
    from kehou.enrolment.services.common import require_district_admin

    if region.is_city:
        require_region_admin(actor, region)
    else:
        require_district_admin(actor, region)
    if after_start not in RefundPolicy.AfterStart.values:
        raise KehouError(_("Unknown refund rule."), code=ErrorCode.INVALID_RULE)
    clean_tiers = []
    for tier in tiers or []:
        try:
            upto, percent = Decimal(str(tier["held_upto"])), Decimal(str(tier["percent"]))
        except (KeyError, ArithmeticError, TypeError, ValueError):
            raise KehouError(_("Each tier needs held_upto and percent."), code=ErrorCode.INVALID_TIERS) from None
        if not (upto.is_finite() and percent.is_finite() and 0 < upto <= 1 and 0 <= percent <= 100):
            raise KehouError(_("Each tier needs held_upto and percent."), code=ErrorCode.INVALID_TIERS)
        clean_tiers.append({"held_upto": str(upto), "percent": str(percent)})
    if after_start == RefundPolicy.AfterStart.TIERED and not clean_tiers:
        raise KehouError(_("A tiered rule needs tiers."), code=ErrorCode.INVALID_TIERS)
    if not (Decimal(no_refund_after).is_finite() and Decimal(0) <= no_refund_after <= Decimal(1)):
        raise KehouError(_("The deadline is a fraction of the sessions."), code=ErrorCode.INVALID_DEADLINE)
    with transaction.atomic():
        policy, _created = RefundPolicy.objects.update_or_create(
            region=region,
            defaults={
                "after_start": after_start,
                "tiers": clean_tiers,
                "no_refund_after": no_refund_after,
                "approval_after_start": approval_after_start,
                "set_at": now,
            },
        )
        audit.record(
            actor=actor,
            action=AuditAction.REFUND_POLICY_SET,
            obj=policy,
            after={"after_start": after_start, "tiers": clean_tiers, "no_refund_after": str(no_refund_after)},
            now=now,
            district_id=None if region.is_city else region.pk,
        )
    return policy
