"""Which pay per class hour applies to a session: the operator's rate for the course (inside the standard), else the
authorities' standard for the teacher's kind (a district's, stricter, before the city's), else the fee standard's
``teacher_pay_fen`` (the district's before the city's). The care sessions (看护) use the standards without category."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kehou.catalog.models import FeeStandard, LibraryEntry
from kehou.core import audit
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError
from kehou.orgs.models import OperatorCompany, Region

from ..models import PayRate, PayStandard
from .common import require_operator_staff


@dataclass(frozen=True)
class Rate:
    rate_fen: int
    basis: str  # operator_rate | district_standard | city_standard | district_fee_standard | city_fee_standard | none


class RateBook:
    """The rates read once for a whole computation (a city month reads each table once)."""

    def __init__(self) -> None:
        self.city_id: int = Region.objects.filter(kind=Region.Kind.CITY).values_list("pk", flat=True).first() or 0
        self.standards = {(s.region_id, s.category_id, s.teacher_kind): s.rate_fen for s in PayStandard.objects.all()}
        self.fee_standards = {(f.region_id, f.category_id): f.teacher_pay_fen for f in FeeStandard.objects.all()}
        self.operator_rates = {(r.operator_id, r.entry_id, r.teacher_kind): r.rate_fen for r in PayRate.objects.all()}

    def ceiling(self, *, district_id: int, category_id: int | None, teacher_kind: str) -> Rate:
        """The authorities' rate (the most an operator's own rate may be)."""
        for region_id, basis in ((district_id, "district_standard"), (self.city_id, "city_standard")):
            rate = self.standards.get((region_id, category_id, teacher_kind))
            if rate:
                return Rate(rate, basis)
        if category_id is not None:
            for region_id, basis in ((district_id, "district_fee_standard"), (self.city_id, "city_fee_standard")):
                rate = self.fee_standards.get((region_id, category_id))
                if rate:
                    return Rate(rate, basis)
        return Rate(0, "none")

    def rate(
        self,
        *,
        district_id: int,
        category_id: int | None,
        teacher_kind: str,
        operator_id: int | None,
        entry_id: int | None,
    ) -> Rate:
        ceiling = self.ceiling(district_id=district_id, category_id=category_id, teacher_kind=teacher_kind)
        if operator_id is not None and entry_id is not None:
            own = self.operator_rates.get((operator_id, entry_id, teacher_kind))
            if own and (ceiling.rate_fen == 0 or own <= ceiling.rate_fen):
                return Rate(own, "operator_rate")
        return ceiling


def pay_rate_set(
    *, actor: Any, operator: OperatorCompany, entry: LibraryEntry, teacher_kind: str, rate_fen: Any, now: datetime
) -> PayRate:
    """An operator's staff set the operator's own pay per class hour for a course, at most the authorities' standard
    for the course's category in every district the operator works in."""
    require_operator_staff(actor, operator, message=_("Only the operator's staff set its rates."))
    if teacher_kind not in ("staff", "outside"):
        raise KehouError(_("Say staff or outside."), code=ErrorCode.PAY_RATE_INVALID, fields={"teacher_kind": 0})
    if isinstance(rate_fen, bool) or not isinstance(rate_fen, int) or rate_fen <= 0:
        raise KehouError(
            _("A rate is a whole number of fen above 0."), code=ErrorCode.PAY_RATE_INVALID, fields={"rate_fen": 0}
        )
    book = RateBook()
    category_id = entry.item.category_id
    districts = set(operator.schools.values_list("district_id", flat=True))
    ceilings = [book.ceiling(district_id=d, category_id=category_id, teacher_kind=teacher_kind) for d in districts]
    lowest = min((c.rate_fen for c in ceilings if c.rate_fen), default=0)
    if lowest and rate_fen > lowest:
        raise KehouError(
            _("At most %(yuan)s yuan per class hour, the authorities' standard.") % {"yuan": f"{lowest / 100:.2f}"},
            code=ErrorCode.PAY_RATE_INVALID,
            fields={"rate_fen": lowest},
        )
    with transaction.atomic():
        rate, _created = PayRate.objects.update_or_create(
            operator=operator,
            entry=entry,
            teacher_kind=teacher_kind,
            defaults={"rate_fen": rate_fen, "set_at": now, "set_by": actor},
        )
        audit.record(
            actor=actor,
            action=AuditAction.PAY_RATE_SET,
            obj=rate,
            after={"entry": entry.pk, "teacher_kind": teacher_kind, "rate_fen": rate_fen},
            now=now,
        )
    return rate
