"""Small presentation helpers every app's templates use (grade names, percentages)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from kehou.core.pages import grades_of

register = template.Library()

# 一年级 … 九年级: grades 7–9 are the junior-high years (初一 … 初三) in the nine-year numbering the city uses.
GRADE_NAMES = {
    1: _("Grade 1"),
    2: _("Grade 2"),
    3: _("Grade 3"),
    4: _("Grade 4"),
    5: _("Grade 5"),
    6: _("Grade 6"),
    7: _("Grade 7"),
    8: _("Grade 8"),
    9: _("Grade 9"),
}


@register.filter
def grade_name(value: Any) -> Any:
    """``3`` → "三年级" / "Grade 3"; anything unknown is shown as it is."""
    try:
        return GRADE_NAMES.get(int(value), value)
    except (TypeError, ValueError):
        return value


@register.filter
def percent_of(part: Any, whole: Any) -> int:
    """Whole-number percentage of ``part`` in ``whole`` (0 when there is nothing to divide by)."""
    try:
        part_n, whole_n = int(part or 0), int(whole or 0)
    except (TypeError, ValueError):
        return 0
    if whole_n <= 0:
        return 0
    return round(100 * part_n / whole_n)


@register.filter
def by_grade(classes: Any) -> list[dict[str, Any]]:
    """A school's class summary grouped by grade: [{grade, classes, pupils}]."""
    return grades_of(list(classes or []))
