"""Money out of the escrow account besides teachers' pay (支出划付): the operator's entered costs and the tax it
withheld from outside teachers. The operator asks; the supervisor decides (the district's bureau for its schools'
costs, the city bureau for tax); approval posts the outflow in the ledger and names the instruction the escrow bank
carries out.

    requested → approved (posted: Dr operator_costs_payable / tax_withheld_payable, Cr escrow)
    requested → refused (with a reason; the costs or the payouts' tax wait again)

A cost (``OperatorCost.disbursement``) or a payout's tax (``Payout.remittance``) belongs to one live disbursement at
most: the request claims them by a conditional UPDATE under the transaction, so two requests at once cannot both take
the same cost."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _

from kehou.catalog.services.proofs import max_bytes, read_checked, sanitise_name
from kehou.core import audit, uploads
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, Forbidden, KehouError, NotFound
from kehou.core.roles import Role
from kehou.core.scope import scope_for
from kehou.ledger.services import ESCROW, OPERATOR_COSTS_PAYABLE, TAX_WITHHELD_PAYABLE, Leg, post
from kehou.notify.services import notify
from kehou.orgs.models import OperatorCompany, Region
from kehou.payments.services.common import check_request_key
from kehou.people.models import RoleAssignment

from ..models import Disbursement, OperatorCost, Payout
from .common import require_operator_staff
from .lines import check_period


def waiting_costs(operator: OperatorCompany, district: Region | None = None) -> QuerySet[OperatorCost]:
    """The operator's entered costs not yet paid out nor in a disbursement awaiting the bureau."""
    qs = OperatorCost.objects.filter(operator=operator, disbursement__isnull=True)
    return qs.filter(school__district=district) if district is not None else qs


def waiting_tax(operator: OperatorCompany, period: str | None = None) -> QuerySet[Payout]:
    """The operator's paid payouts whose withheld tax is not yet remitted nor in a remittance awaiting the bureau."""
    qs = Payout.objects.filter(
        batch__operator=operator, status=Payout.Status.PAID, tax_fen__gt=0, remittance__isnull=True
    )
    return qs.filter(period=period) if period is not None else qs


def _supervisors(disbursement: Disbursement) -> list[int]:
    if disbursement.kind == Disbursement.Kind.COSTS:
        q = Q(role=Role.DISTRICT_ADMIN, district_id=disbursement.district_id)
    else:
        q = Q(role=Role.CITY_ADMIN)
    return list(RoleAssignment.objects.filter(q).values_list("user_id", flat=True))


def _operator_staff(operator_id: int) -> list[int]:
    return list(
        RoleAssignment.objects.filter(role=Role.OPERATOR_STAFF, operator_id=operator_id).values_list(
            "user_id", flat=True
        )
    )


def disbursement_request(
    *,
    actor: Any,
    operator: OperatorCompany,
    kind: str,
    request_key: str,
    now: datetime,
    district: Region | None = None,
    period: str = "",
    voucher: Any = None,
    note: str = "",
) -> tuple[Disbursement, bool]:
    """Ask to pay the operator's waiting costs of one district, or to remit one period's withheld tax (with the
    tax office's certificate): (the disbursement, whether it was made now). The same ``request_key`` again answers
    with the first."""
    require_operator_staff(actor, operator, message=_("Only the operator's staff ask for disbursements."))
    request_key = check_request_key((request_key or "").strip())
    existing = Disbursement.objects.filter(requested_by=actor, request_key=request_key).first()
    if existing is not None:
        return existing, False
    if kind == Disbursement.Kind.COSTS:
        if district is None or not operator.schools.filter(district=district).exists():
            raise KehouError(
                _("Choose a district where the operator has schools."),
                code=ErrorCode.DISBURSEMENT_INVALID,
                fields={"district": 0},
            )
        period = ""
    elif kind == Disbursement.Kind.TAX:
        try:
            period = check_period(period, now=now)
        except KehouError:
            raise KehouError(
                _("Choose the pay period whose tax was remitted (YYYY-MM)."),
                code=ErrorCode.DISBURSEMENT_INVALID,
                fields={"period": 0},
            ) from None
        if voucher is None:
            raise KehouError(
                _("Attach the tax office's certificate (完税证明)."),
                code=ErrorCode.DISBURSEMENT_INVALID,
                fields={"voucher": 0},
            )
        district = None
    else:
        raise KehouError(_("Choose costs or tax."), code=ErrorCode.DISBURSEMENT_INVALID, fields={"kind": 0})
    note = (note or "").strip()[:200]
    checked = read_checked(voucher, max_bytes()) if voucher is not None else None
    storage = Disbursement._meta.get_field("voucher").storage  # type: ignore[attr-defined]
    stored = ""
    try:
        with transaction.atomic():
            if kind == Disbursement.Kind.COSTS:
                claimed: QuerySet[Any] = waiting_costs(operator, district)
                amount = claimed.aggregate(s=Sum("amount_fen"))["s"] or 0
            else:
                claimed = waiting_tax(operator, period)
                amount = claimed.aggregate(s=Sum("tax_fen"))["s"] or 0
            ids = list(claimed.values_list("pk", flat=True))
            if not ids:
                raise Conflict(
                    _("Nothing is waiting to be paid out: every cost or tax is paid or awaiting the bureau."),
                    code=ErrorCode.DISBURSEMENT_NOTHING,
                )
            values: dict[str, Any] = {}
            if checked is not None:
                content, file_type, sha256, _size = checked
                stored = storage.save(f"vouchers/{now:%Y/%m}/{uploads.server_name(file_type.extension)}", File(content))
                values = {
                    "voucher": stored,
                    "voucher_name": sanitise_name(getattr(voucher, "name", "") or "", file_type),
                    "voucher_sha256": sha256,
                    "voucher_type": file_type.content_type,
                }
            disbursement = Disbursement.objects.create(
                operator=operator,
                kind=kind,
                district=district,
                period=period,
                amount_fen=amount,
                instruction_no=f"DB{now:%Y%m%d}{uuid.uuid4().hex[:16].upper()}",
                note=note,
                request_key=request_key,
                requested_by=actor,
                requested_at=now,
                **values,
            )
            model = OperatorCost if kind == Disbursement.Kind.COSTS else Payout
            field = "disbursement" if kind == Disbursement.Kind.COSTS else "remittance"
            taken = model.objects.filter(pk__in=ids, **{f"{field}__isnull": True}).update(**{field: disbursement})
            if taken != len(ids):  # another request took some of them first
                raise Conflict(
                    _("Another request took some of these; look again."), code=ErrorCode.DISBURSEMENT_NOTHING
                )
            audit.record(
                actor=actor,
                action=AuditAction.DISBURSEMENT_REQUEST,
                obj=disbursement,
                object_repr=f"{operator.name} {disbursement.get_kind_display()}",
                after={"kind": kind, "amount_fen": amount, "items": len(ids), "period": period},
                now=now,
                district_id=district.pk if district is not None else None,
            )
            notify(
                user_ids=_supervisors(disbursement),
                kind="disbursement",
                title=_("%(operator)s asks to pay out %(yuan)s yuan of %(kind)s from escrow")
                % {
                    "operator": operator.name,
                    "yuan": f"{amount / 100:.2f}",
                    "kind": disbursement.get_kind_display(),
                },
                link="/pay/disbursements/",
                now=now,
                dedup_key=f"disbursement:{disbursement.pk}",
            )
    except IntegrityError:
        if stored:
            storage.delete(stored)
        existing = Disbursement.objects.filter(requested_by=actor, request_key=request_key).first()
        if existing is None:
            raise
        return existing, False
    except BaseException:
        if stored:
            storage.delete(stored)
        raise
    finally:
        if checked is not None:
            checked[0].close()
    return disbursement, True


def decides(scope: Any, disbursement: Disbursement) -> bool:
    """Whether this scope is the disbursement's supervisor: the district's bureau for costs, the city for tax."""
    if Role.SUPERUSER in scope.roles:
        return True
    if disbursement.kind == Disbursement.Kind.COSTS:
        return disbursement.district_id in scope.district_ids
    return Role.CITY_ADMIN in scope.roles


def awaiting(scope: Any) -> QuerySet[Disbursement]:
    """The requested disbursements this scope decides (the home's to-do list)."""
    waiting = Disbursement.objects.filter(status=Disbursement.Status.REQUESTED)
    if Role.SUPERUSER in scope.roles:
        return waiting
    q = Q(kind=Disbursement.Kind.COSTS, district_id__in=scope.district_ids)
    if Role.CITY_ADMIN in scope.roles:
        q |= Q(kind=Disbursement.Kind.TAX)
    return waiting.filter(q)


def _require_supervisor(actor: Any, disbursement: Disbursement) -> None:
    scope = scope_for(actor)
    if decides(scope, disbursement):
        return
    if scope.may_see(disbursement):
        raise Forbidden(
            _("Only the district's bureau decides on costs, and the city bureau on tax."),
            code=ErrorCode.NOT_DISBURSEMENT_APPROVER,
        )
    raise NotFound(_("Not found."))


def _decide(actor: Any, disbursement: Disbursement) -> Disbursement:
    _require_supervisor(actor, disbursement)
    locked = Disbursement.objects.select_for_update().select_related("operator").get(pk=disbursement.pk)
    if locked.status != Disbursement.Status.REQUESTED:
        raise Conflict(_("This disbursement is already decided."), code=ErrorCode.DISBURSEMENT_DECIDED)
    return locked


def disbursement_approve(*, actor: Any, disbursement: Disbursement, now: datetime) -> Disbursement:
    """Approve: the outflow is posted (costs per school, so that each school's report traces them) and the
    disbursement becomes the escrow bank's instruction. Refused whole if escrow or the payable would go negative."""
    with transaction.atomic():
        d = _decide(actor, disbursement)
        if d.kind == Disbursement.Kind.COSTS:
            by_school = (
                OperatorCost.objects.filter(disbursement=d)
                .order_by("school_id")
                .values_list("school_id")
                .annotate(s=Sum("amount_fen"))
            )
            for school_id, amount in by_school:
                post(
                    key=f"disburse:{d.pk}:{school_id}",
                    kind="payout",
                    legs=[Leg(OPERATOR_COSTS_PAYABLE, ESCROW, amount)],
                    now=now,
                    school_id=school_id,
                    reference=f"disburse:{d.instruction_no}",
                    memo=f"{d.operator.name} costs"[:200],
                )
        else:
            post(
                key=f"disburse:{d.pk}",
                kind="payout",
                legs=[Leg(TAX_WITHHELD_PAYABLE, ESCROW, d.amount_fen)],
                now=now,
                reference=f"disburse:{d.instruction_no}",
                memo=f"{d.operator.name} tax {d.period}"[:200],
            )
        Disbursement.objects.filter(pk=d.pk).update(
            status=Disbursement.Status.APPROVED, decided_by=actor, decided_at=now, reason=""
        )
        d.refresh_from_db()
        audit.record(
            actor=actor,
            action=AuditAction.DISBURSEMENT_APPROVE,
            obj=d,
            object_repr=f"{d.operator.name} {d.get_kind_display()}",
            after={"amount_fen": d.amount_fen, "instruction_no": d.instruction_no},
            now=now,
            district_id=d.district_id,
        )
        notify(
            user_ids=_operator_staff(d.operator_id),
            kind="disbursement",
            title=_("%(yuan)s yuan of %(kind)s approved for payment from escrow (instruction %(no)s)")
            % {"yuan": f"{d.amount_fen / 100:.2f}", "kind": d.get_kind_display(), "no": d.instruction_no},
            link="/pay/disbursements/",
            now=now,
            dedup_key=f"disbursement-decided:{d.pk}",
        )
    return d


def disbursement_refuse(*, actor: Any, disbursement: Disbursement, reason: str, now: datetime) -> Disbursement:
    """Refuse with a reason: the costs or the payouts' tax wait again for a later request."""
    reason = (reason or "").strip()
    if not 0 < len(reason) <= 200:
        raise KehouError(_("Say why (1–200 characters)."), code=ErrorCode.DISBURSEMENT_INVALID, fields={"reason": 0})
    with transaction.atomic():
        d = _decide(actor, disbursement)
        OperatorCost.objects.filter(disbursement=d).update(disbursement=None)
        Payout.objects.filter(remittance=d).update(remittance=None)
        Disbursement.objects.filter(pk=d.pk).update(
            status=Disbursement.Status.REFUSED, decided_by=actor, decided_at=now, reason=reason
        )
        d.refresh_from_db()
        audit.record(
            actor=actor,
            action=AuditAction.DISBURSEMENT_REFUSE,
            obj=d,
            object_repr=f"{d.operator.name} {d.get_kind_display()}",
            after={"reason": reason},
            now=now,
            district_id=d.district_id,
        )
        notify(
            user_ids=_operator_staff(d.operator_id),
            kind="disbursement",
            title=_("A disbursement of %(yuan)s yuan was refused: %(reason)s")
            % {"yuan": f"{d.amount_fen / 100:.2f}", "reason": reason},
            link="/pay/disbursements/",
            now=now,
            dedup_key=f"disbursement-decided:{d.pk}",
        )
    return d
