"""Fee standards and review policies: the city bureau sets them for the city, a district bureau may set its own for
its district (for its own schools and its own library).

A district's standard may be stricter than the city's, never looser: its fee range lies inside the city's range for
the category, and its admission threshold is not below the city's ("the city's unified admission rules").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kehou.core import audit
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, KehouError
from kehou.orgs.models import Region

from ..models import Category, FeeStandard, ReviewPolicy
from .common import require_region_admin

MAX_FEE_FEN = 1_000_000  # 10 000 yuan per class hour: anything above is a typing mistake


def _whole_numbers(values: dict[str, Any], *, low: int, high: int) -> dict[str, list[dict[str, str]]]:
    errors: dict[str, list[dict[str, str]]] = {}
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            errors[name] = [
                {
                    "code": "invalid_amount",
                    "message": _("A whole number from %(low)s to %(high)s.") % {"low": low, "high": high},
                }
            ]
    return errors


def _district_id(region: Region) -> int | None:
    return None if region.is_city else region.pk


def fee_standard_set(
    *,
    actor: Any,
    region: Region,
    category: Category,
    min_fee_fen: int,
    max_fee_fen: int,
    teacher_pay_fen: int,
    now: datetime,
) -> FeeStandard:
    """Set (or change) the allowed fee per class hour and the teacher pay per class hour of one category, for the
    city (city bureau) or for a district (its bureau, or the city bureau). Amounts are integer fen."""
    require_region_admin(actor, region)
    amounts = {"min_fee_fen": min_fee_fen, "max_fee_fen": max_fee_fen, "teacher_pay_fen": teacher_pay_fen}
    errors = _whole_numbers(amounts, low=0, high=MAX_FEE_FEN)
    if errors:
        raise KehouError(_("The fee standard is not valid."), code=ErrorCode.INVALID_FEE_STANDARD, fields=errors)
    if min_fee_fen > max_fee_fen:
        raise KehouError(
            _("The lowest fee is above the highest fee."),
            code=ErrorCode.INVALID_FEE_RANGE,
            fields={"min_fee_fen": min_fee_fen, "max_fee_fen": max_fee_fen},
        )
    if not region.is_city:
        city = FeeStandard.objects.filter(region__kind=Region.Kind.CITY, category=category).first()
        if city is not None and not city.min_fee_fen <= min_fee_fen <= max_fee_fen <= city.max_fee_fen:
            raise KehouError(
                _("A district's fee range must lie within the city's range of %(low)s to %(high)s fen.")
                % {"low": city.min_fee_fen, "high": city.max_fee_fen},
                code=ErrorCode.OUTSIDE_CITY_STANDARD,
                fields={"city_min_fee_fen": city.min_fee_fen, "city_max_fee_fen": city.max_fee_fen},
            )
    with transaction.atomic():
        current = FeeStandard.objects.select_for_update().filter(region=region, category=category).first()
        before = None
        if current is None:
            standard = FeeStandard(region=region, category=category, set_at=now, **amounts)
            standard.full_clean()
            try:
                with transaction.atomic():
                    standard.save()
            except IntegrityError as exc:
                raise Conflict(
                    _("This standard was set by someone else at the same moment; look at it and try again."),
                    code=ErrorCode.FEE_STANDARD_CONFLICT,
                ) from exc
        else:
            before = {
                "min_fee_fen": current.min_fee_fen,
                "max_fee_fen": current.max_fee_fen,
                "teacher_pay_fen": current.teacher_pay_fen,
            }
            FeeStandard.objects.filter(pk=current.pk).update(set_at=now, **amounts)
            current.refresh_from_db()
            standard = current
        audit.record(
            actor=actor,
            action=AuditAction.FEE_STANDARD_SET,
            obj=standard,
            now=now,
            district_id=_district_id(region),
            before=before,
            after={"region": region.code, "category": category.code, **amounts},
        )
    return standard


def fee_standard_clear(*, actor: Any, region: Region, category: Category, now: datetime) -> None:
    """Remove a district's own standard for a category: the city's applies again. The city's cannot be removed."""
    if region.is_city:
        raise KehouError(
            _("The city's fee standard can be changed, not removed."), code=ErrorCode.CITY_STANDARD_REQUIRED
        )
    require_region_admin(actor, region)
    with transaction.atomic():
        current = FeeStandard.objects.select_for_update().filter(region=region, category=category).first()
        if current is None:
            raise Conflict(_("This district has no standard of its own for this category."), code=ErrorCode.NO_OVERRIDE)
        before = {
            "min_fee_fen": current.min_fee_fen,
            "max_fee_fen": current.max_fee_fen,
            "teacher_pay_fen": current.teacher_pay_fen,
        }
        audit.record(
            actor=actor,
            action=AuditAction.FEE_STANDARD_CLEARED,
            obj=current,
            now=now,
            district_id=region.pk,
            before=before,
            after={"region": region.code, "category": category.code},
        )
        current.delete()


def review_policy_set(
    *,
    actor: Any,
    region: Region,
    panel_size: int,
    admit_threshold_bp: int,
    return_threshold_bp: int,
    now: datetime,
) -> ReviewPolicy:
    """Set how a region's panels are drawn and decided: the panel size (1–15) and the thresholds in basis points of
    the weighted score (10000 = every item at its highest score). A district may be stricter than the city."""
    require_region_admin(actor, region)
    errors = _whole_numbers({"panel_size": panel_size}, low=1, high=15)
    errors |= _whole_numbers(
        {"admit_threshold_bp": admit_threshold_bp, "return_threshold_bp": return_threshold_bp}, low=0, high=10000
    )
    if errors:
        raise KehouError(_("The review policy is not valid."), code=ErrorCode.INVALID_REVIEW_POLICY, fields=errors)
    if return_threshold_bp > admit_threshold_bp:
        raise KehouError(
            _("The threshold for revision is above the threshold for admission."),
            code=ErrorCode.INVALID_THRESHOLDS,
            fields={"admit_threshold_bp": admit_threshold_bp, "return_threshold_bp": return_threshold_bp},
        )
    if not region.is_city:
        city = ReviewPolicy.objects.filter(region__kind=Region.Kind.CITY).first()
        if city is not None and admit_threshold_bp < city.admit_threshold_bp:
            raise KehouError(
                _("A district may not admit below the city's threshold of %(bp)s.") % {"bp": city.admit_threshold_bp},
                code=ErrorCode.LOOSER_THAN_CITY,
                fields={"city_admit_threshold_bp": city.admit_threshold_bp},
            )
    values = {
        "panel_size": panel_size,
        "admit_threshold_bp": admit_threshold_bp,
        "return_threshold_bp": return_threshold_bp,
    }
    with transaction.atomic():
        current = ReviewPolicy.objects.select_for_update().filter(region=region).first()
        before = None
        if current is None:
            policy = ReviewPolicy(region=region, **values)
            policy.full_clean()
            try:
                with transaction.atomic():
                    policy.save()
            except IntegrityError as exc:
                raise Conflict(
                    _("This policy was set by someone else at the same moment; look at it and try again."),
                    code=ErrorCode.REVIEW_POLICY_CONFLICT,
                ) from exc
        else:
            before = {k: getattr(current, k) for k in values}
            ReviewPolicy.objects.filter(pk=current.pk).update(**values)
            current.refresh_from_db()
            policy = current
        audit.record(
            actor=actor,
            action=AuditAction.REVIEW_POLICY_SET,
            obj=policy,
            now=now,
            district_id=_district_id(region),
            before=before,
            after={"region": region.code, **values},
        )
    return policy
