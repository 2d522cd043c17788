"""Presentation helpers the catalog pages share (scores, submitters, decisions' reasons, form errors, choices)."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.core.errors import KehouError
from kehou.core.money import fen_to_yuan_str
from kehou.core.scope import Scope
from kehou.orgs import selectors as org_selectors
from kehou.orgs.models import Region

from .. import selectors as sel
from ..models import (
    Category,
    Decision,
    LibraryEntry,
    Submission,
)


def points(bp: int | None) -> str:
    """Basis points of the weighted score as a score out of 100: 8650 → "86.50"."""
    return "" if bp is None else f"{bp // 100}.{bp % 100:02d}"


def submitter_label(s: Submission) -> str:
    submitter = s.submitter_school or s.submitter_organisation
    return submitter.name if submitter else s.submitter_user.full_name


def reasons_text(decision: Decision | dict[str, Any]) -> list[str]:
    """The recorded reasons of a decision, in words."""
    reasons = decision.reasons if isinstance(decision, Decision) else decision.get("reasons", {})
    mean = points(reasons.get("mean_bp"))
    admit = points(reasons.get("admit_threshold_bp"))
    back = points(reasons.get("return_threshold_bp"))
    lines = [
        _("%(n)s panel members scored; the mean weighted score is %(mean)s out of 100.")
        % {"n": reasons.get("scores", 0), "mean": mean}
    ]
    rule = reasons.get("rule")
    if rule == "veto":
        items = "、".join(str(v) for v in reasons.get("vetoed_items", []))
        lines.append(_("A veto item was failed (standard %(items)s): the submission is rejected.") % {"items": items})
    elif rule == "mean_at_or_above_admit_threshold":
        lines.append(_("The mean is at or above the admission threshold of %(admit)s: admitted.") % {"admit": admit})
    elif rule == "mean_between_thresholds":
        lines.append(
            _("The mean is below the admission threshold of %(admit)s but at or above %(back)s: returned for revision.")
            % {"admit": admit, "back": back}
        )
    elif rule == "mean_below_return_threshold":
        lines.append(_("The mean is below the revision threshold of %(back)s: rejected.") % {"back": back})
    return lines


def _library_choices(scope: Scope) -> list[tuple[str, str]]:
    city = Region.objects.filter(kind=Region.Kind.CITY).first()
    choices = [(city.code, str(_("City library")))] if city else []
    return choices + [(d.code, d.name) for d in org_selectors.district_list(scope=scope)]


def _category_choices() -> list[tuple[str, str]]:
    return list(Category.objects.order_by("order", "code").values_list("code", "name"))


LEVEL_TITLES: dict[str, Promise] = {
    LibraryEntry.Level.CITY: gettext_lazy("City library"),
    LibraryEntry.Level.DISTRICT: gettext_lazy("District library"),
    LibraryEntry.Level.SCHOOL: gettext_lazy("School library"),
}


# Service error fields → form fields.
_FIELD_OF = {
    "fee_per_hour_fen": "fee",
    "min_fee_fen": "fee",
    "teacher_ids": "teacher_ids",
    "teacher_id": "teacher_id",
    "grades": "grades",
    "library": "library",
    "category": "category",
    "materials_price_fen": "materials_price",
}


_FIELD_OF_CODE = {"materials_undescribed": "materials_description", "no_teacher": "teacher_ids"}


def _yuan(fen: int | None) -> str:
    return "" if fen is None else fen_to_yuan_str(fen)


def _error(exc: KehouError) -> dict[str, Any]:
    return {"code": exc.code, "message": exc.message, "fields": exc.fields}


def _attach_error(form: Any, exc: KehouError) -> None:
    """Show a service error next to the field it concerns (and at the top of the form)."""
    target = _FIELD_OF_CODE.get(exc.code) or next((_FIELD_OF[k] for k in exc.fields if k in _FIELD_OF), None)
    if target and target in form.fields:
        form.add_error(target, exc.message)


def _library_label(region: Region) -> str:
    return str(_("City library")) if region.is_city else _("%(name)s library") % {"name": region.name}


def _submitter_label(s: Submission) -> str:
    if s.submitter_school is not None:
        return s.submitter_school.name
    if s.submitter_organisation is not None:
        return s.submitter_organisation.name
    return s.submitter_user.full_name or s.submitter_user.get_username()


def can_submit(user: Any, scope: Scope) -> bool:
    return bool(scope.school_ids) or sel.is_outside_teacher(user)
