"""Payouts: an operator pays a month's approved lines in a batch, one payout per teacher, tax withheld for outside
teachers, each sent through the payout channel under a bill number chosen once.

* :func:`payout_batch_start` (the operator) takes the approved lines of the schools it is authorised for, groups them
  by teacher, withholds the tax, writes the payouts (the lines move to ``paying``) and enqueues each send. Only one
  batch of an operator is being sent at a time: the database refuses a second (``payout_batch_running``).
* :func:`payout_send` (the task worker) sends one payout. An unknown answer (the network, a 5xx, ``SYSTEM_ERROR``)
  leaves it to be sent again by :func:`payouts_poll` under the same ``out_bill_no``; a refusal fails it.
* :func:`payout_apply` takes the channel's word (an answer, a notification, a query) once: success pays the lines
  and posts the payout (``payout:<out_bill_no>``: Dr teacher_pay_payable gross, Cr escrow net, Cr
  tax_withheld_payable tax); a final failure gives the lines back to ``approved`` (a later batch pays them under a
  new number, since the channel said this one failed). A repeated or late word changes nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kehou.core import audit, jobs
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, KehouError, NotFound
from kehou.ledger.services import ESCROW, TAX_WITHHELD_PAYABLE, TEACHER_PAY_PAYABLE, Leg, post
from kehou.notify.services import notify
from kehou.orgs.models import OperatorCompany
from kehou.payments.services.common import check_request_key, new_number

from ..channels import payout_gateway
from ..channels.base import (
    PayoutNotificationRejected,
    PayoutRefused,
    PayoutUnavailable,
    TransferRequest,
    TransferResult,
)
from ..models import Payee, PayLine, Payout, PayoutBatch
from ..tax import withholding
from .common import require_operator_staff
from .lines import check_period

log = logging.getLogger(__name__)
SEND_TASK = "kehou.payroll.tasks.send_payout"


def payout_batch_start(
    *, actor: Any, operator: OperatorCompany, period: str, request_key: str, now: datetime
) -> tuple[PayoutBatch, list[int]]:
    """Pay a month's approved lines of the operator's schools: (the batch, the teachers skipped for want of a payout
    account). The same request key answers with the same batch."""
    require_operator_staff(actor, operator, message=_("Only the operator's staff pay its teachers."))
    period = check_period(period, now=now)
    check_request_key(request_key)
    previous = PayoutBatch.objects.filter(created_by=actor, request_key=request_key).first()
    if previous is not None:
        return previous, []
    schools = list(operator.schools.values_list("pk", flat=True))
    skipped: list[int] = []
    try:
        with transaction.atomic():
            batch = PayoutBatch.objects.create(
                operator=operator, period=period, request_key=request_key, created_by=actor, created_at=now
            )
            lines = list(
                PayLine.objects.select_for_update()
                .filter(school_id__in=schools, period=period, status=PayLine.Status.APPROVED, payout__isnull=True)
                .order_by("teacher_id", "pk")
            )
            if not lines:
                raise Conflict(
                    _("No approved line of this month is left to pay."),
                    code=ErrorCode.PAYOUT_NOTHING,
                    fields={"period": period},
                )
            by_teacher: dict[int, list[PayLine]] = defaultdict(list)
            for line in lines:
                by_teacher[line.teacher_id].append(line)
            payees = {p.teacher_id: p for p in Payee.objects.filter(teacher_id__in=by_teacher)}
            channel = str(settings.KEHOU_PAYROLL["PAYOUT_CHANNEL"])
            payouts: list[Payout] = []
            for teacher_id, teacher_lines in by_teacher.items():
                if teacher_id not in payees:
                    skipped.append(teacher_id)
                    continue
                gross = sum(line.amount_fen for line in teacher_lines)
                kind = teacher_lines[0].teacher_kind
                tax, rule = withholding(income_fen=gross, teacher_kind=kind, on=timezone.localdate(now))
                payout = Payout.objects.create(
                    batch=batch,
                    teacher_id=teacher_id,
                    period=period,
                    teacher_kind=kind,
                    gross_fen=gross,
                    tax_fen=tax,
                    net_fen=gross - tax,
                    tax_rule=rule,
                    line_ids=[line.pk for line in teacher_lines],
                    out_bill_no=new_number("KP", now),
                    channel=channel,
                    created_at=now,
                )
                payout.schools.set(sorted({line.school_id for line in teacher_lines}))
                PayLine.objects.filter(pk__in=payout.line_ids, status=PayLine.Status.APPROVED).update(
                    status=PayLine.Status.PAYING, payout=payout
                )
                payouts.append(payout)
            if not payouts:
                raise Conflict(
                    _("None of these teachers has bound an account to receive pay."),
                    code=ErrorCode.PAYEE_MISSING,
                    fields={"teachers": len(skipped)},
                )
            audit.record(
                actor=actor,
                action=AuditAction.PAYOUT_BATCH,
                obj=batch,
                object_repr=f"{operator.name} {period}",
                after={
                    "period": period,
                    "payouts": len(payouts),
                    "gross_fen": sum(p.gross_fen for p in payouts),
                    "tax_fen": sum(p.tax_fen for p in payouts),
                    "skipped_teachers": len(skipped),
                },
                now=now,
            )
            for payout in payouts:
                jobs.enqueue(SEND_TASK, payout_id=payout.pk)
    except IntegrityError:
        # the same request at the same moment (answered with its batch), or another batch being sent
        previous = PayoutBatch.objects.filter(created_by=actor, request_key=request_key).first()
        if previous is not None:
            return previous, []
        if PayoutBatch.objects.filter(operator=operator, status=PayoutBatch.Status.SENDING).exists():
            raise Conflict(
                _("Another payout batch of this operator is still being sent."), code=ErrorCode.PAYOUT_BATCH_RUNNING
            ) from None
        raise
    return batch, skipped


def _request(payout: Payout) -> TransferRequest:
    payee = Payee.objects.get(teacher_id=payout.teacher_id)
    return TransferRequest(
        out_bill_no=payout.out_bill_no,
        openid=payee.openid,
        user_name=payee.real_name,
        amount_fen=payout.net_fen,
        remark=f"课后服务课时费 {payout.period}",
    )


def payout_send(*, payout_id: int, now: datetime) -> str:
    """Send one payout (again, under the same number, when the last answer was unknown). Returns what happened."""
    payout = Payout.objects.filter(pk=payout_id).first()
    if payout is None or payout.status not in (Payout.Status.PENDING, Payout.Status.SENT):
        return "nothing to send"
    if not Payout.objects.filter(pk=payout.pk, status__in=[Payout.Status.PENDING, Payout.Status.SENT]).update(
        attempts=F("attempts") + 1, sent_at=now
    ):
        return "nothing to send"  # finished meanwhile
    gateway = payout_gateway(payout.channel)
    try:
        result = gateway.transfer(_request(payout), now=now)
    except PayoutUnavailable as exc:
        Payout.objects.filter(pk=payout.pk, status=Payout.Status.PENDING).update(failure=str(exc)[:200])
        return "unknown: will send again with the same bill number"
    except PayoutRefused as exc:
        if payout.attempts >= 1:  # (as read before this send: it was sent before)
            # A refusal of a send again does not say the first send failed: ask what the channel has.
            try:
                found = gateway.query(out_bill_no=payout.out_bill_no)
            except PayoutUnavailable:
                return "unknown: will ask again"
            if found is not None:
                return payout_apply(out_bill_no=payout.out_bill_no, result=found, now=now)
        return payout_apply(
            out_bill_no=payout.out_bill_no,
            result=TransferResult(out_bill_no=payout.out_bill_no, state="fail", fail_reason=exc.code),
            now=now,
        )
    return payout_apply(out_bill_no=payout.out_bill_no, result=result, now=now)


def payout_apply(*, out_bill_no: str, result: TransferResult, now: datetime) -> str:
    """The channel's word on a payout, taken once."""
    with transaction.atomic():
        payout = Payout.objects.select_for_update().filter(out_bill_no=out_bill_no).first()
        if payout is None:
            return "unknown payout"
        if payout.status in (Payout.Status.PAID, Payout.Status.FAILED):
            return f"already {payout.status}"
        if not result.final:
            Payout.objects.filter(pk=payout.pk).update(
                status=Payout.Status.SENT,
                channel_state=result.state[:20],
                transfer_bill_no=result.transfer_bill_no or payout.transfer_bill_no,
                failure="",
            )
            return f"with the channel ({result.state})"
        if result.succeeded:
            legs = [Leg(TEACHER_PAY_PAYABLE, ESCROW, payout.net_fen)]
            if payout.tax_fen:
                legs.append(Leg(TEACHER_PAY_PAYABLE, TAX_WITHHELD_PAYABLE, payout.tax_fen))
            post(
                key=f"payout:{payout.out_bill_no}",
                kind="payout",
                legs=legs,
                now=now,
                reference=f"payout:{payout.out_bill_no}",
                memo=f"{payout.period} teacher {payout.teacher_id}",
            )
            Payout.objects.filter(pk=payout.pk).update(
                status=Payout.Status.PAID,
                channel_state=result.state[:20],
                transfer_bill_no=result.transfer_bill_no or payout.transfer_bill_no,
                finished_at=result.at or now,
                failure="",
            )
            PayLine.objects.filter(payout=payout, status=PayLine.Status.PAYING).update(status=PayLine.Status.PAID)
            title = _("%(yuan)s yuan of class-hour pay for %(period)s was sent to your WeChat") % {
                "yuan": f"{payout.net_fen / 100:.2f}",
                "period": payout.period,
            }
        else:
            Payout.objects.filter(pk=payout.pk).update(
                status=Payout.Status.FAILED,
                channel_state=result.state[:20],
                failure=(result.fail_reason or result.state)[:200],
                finished_at=now,
            )
            PayLine.objects.filter(payout=payout, status=PayLine.Status.PAYING).update(
                status=PayLine.Status.APPROVED, payout=None
            )
            title = _("Your class-hour pay for %(period)s could not be sent: %(reason)s") % {
                "period": payout.period,
                "reason": result.fail_reason or result.state,
            }
        notify(
            user_ids=[payout.teacher.user_id],
            kind="pay",
            title=title,
            link=f"/pay/?period={payout.period}",
            now=now,
            dedup_key=f"payout:{payout.pk}:{'paid' if result.succeeded else 'failed'}",
        )
        _finish_batch(payout.batch_id, now=now)
    return "paid" if result.succeeded else "failed"


def _finish_batch(batch_id: int, *, now: datetime) -> None:
    if not Payout.objects.filter(batch_id=batch_id, status__in=[Payout.Status.PENDING, Payout.Status.SENT]).exists():
        PayoutBatch.objects.filter(pk=batch_id, status=PayoutBatch.Status.SENDING).update(
            status=PayoutBatch.Status.DONE, finished_at=now
        )


def payouts_poll(*, now: datetime) -> dict[str, int]:
    """Payouts whose answer was unknown are sent again (same number), up to ``SEND_ATTEMPTS``; payouts with the
    channel longer than ``QUERY_AFTER_SECONDS`` are asked about."""
    conf = settings.KEHOU_PAYROLL
    resent = queried = 0
    for payout in Payout.objects.filter(status=Payout.Status.PENDING, attempts__gte=1).order_by("pk")[:100]:
        if payout.attempts >= int(str(conf["SEND_ATTEMPTS"])):
            # No answer after every attempt: what the channel has under the number decides; if it has nothing,
            # the payout failed (its lines go back to be paid in a later batch, under a new number).
            try:
                found = payout_gateway(payout.channel).query(out_bill_no=payout.out_bill_no)
            except PayoutUnavailable:
                continue
            result = found or TransferResult(
                out_bill_no=payout.out_bill_no, state="fail", fail_reason="NO_ANSWER_AFTER_RETRIES"
            )
            payout_apply(out_bill_no=payout.out_bill_no, result=result, now=now)
            queried += 1
            continue
        if payout.sent_at and now - payout.sent_at < timedelta(seconds=30):
            continue
        payout_send(payout_id=payout.pk, now=now)
        resent += 1
    due = now - timedelta(seconds=int(str(conf["QUERY_AFTER_SECONDS"])))
    for payout in Payout.objects.filter(status=Payout.Status.SENT, sent_at__lte=due).order_by("pk")[:100]:
        try:
            answer = payout_gateway(payout.channel).query(out_bill_no=payout.out_bill_no)
        except PayoutUnavailable:
            continue
        if answer is not None:
            payout_apply(out_bill_no=payout.out_bill_no, result=answer, now=now)
            queried += 1
    return {"payouts_resent": resent, "payouts_queried": queried}


def payout_notification_receive(
    *, channel: str, headers: Mapping[str, str], body: bytes, now: datetime
) -> tuple[int, str, bytes]:
    """A payout notification: verified, then applied once. (status, content type, body) for the channel."""
    if channel != str(settings.KEHOU_PAYROLL["PAYOUT_CHANNEL"]):  # only the channel payouts go through notifies
        raise NotFound(_("Not found."))
    try:
        gateway = payout_gateway(channel)
    except ValueError:
        raise NotFound(_("Not found.")) from None
    try:
        result = gateway.parse_notification(headers=headers, body=body, now=now)
    except PayoutNotificationRejected as exc:
        log.warning("payout notification rejected (%s): %s", channel, exc)
        raise KehouError(
            _("The notification does not verify."),
            code=ErrorCode.PAYOUT_NOTIFICATION_REJECTED,
            fields={"reason": exc.reason},
        ) from None
    if not Payout.objects.filter(out_bill_no=result.out_bill_no, channel=channel).exists():
        log.warning("payout notification for an unknown bill %s", result.out_bill_no[:32])
        raise KehouError(
            _("The notification names no payout of ours."),
            code=ErrorCode.PAYOUT_NOTIFICATION_REJECTED,
            fields={"reason": "unknown_bill"},
        )
    payout_apply(out_bill_no=result.out_bill_no, result=result, now=now)
    ack = gateway.ack(ok=True)
    return ack.status, ack.content_type, ack.body


def simulator_deliver(*, now: datetime) -> int:
    """The payout simulator's due notifications go through the real receiving path (demo; nothing otherwise)."""
    if settings.KEHOU_PAYROLL["PAYOUT_CHANNEL"] != "simulator":
        return 0
    from ..channels.simulator import PayoutSimulator

    sent = 0
    for headers, body in PayoutSimulator().finish_due(now=now):
        try:
            payout_notification_receive(channel="simulator", headers=headers, body=body, now=now)
        except KehouError as exc:
            log.warning("simulated payout notification refused: %s", exc)
        sent += 1
    return sent
