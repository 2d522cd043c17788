"""The selection's one-query context repeats the library's usability rule (``catalog.selectors.usable_q``) in SQL:
for every combination of statuses along a city → district → school chain, both say the same."""

from __future__ import annotations

import itertools

import pytest

from kehou.catalog.models import LibraryEntry
from kehou.catalog.selectors import usable_q
from kehou.enrolment.services.selection import _context
from kehou.testing import factories as f

from .factories import NOW, city_region, family, key, make_class, open_window, school_entry

pytestmark = pytest.mark.django_db
STATUSES = ("active", "suspended", "withdrawn")


def test_the_rush_query_and_usable_q_agree_on_every_chain() -> None:
    school = f.SchoolFactory()
    entry = school_entry(school)  # district entry → school entry
    district_entry = entry.upstream
    city_entry = LibraryEntry.objects.create(
        item=entry.item, level="city", region=city_region(), source="admitted", added_at=NOW, status_changed_at=NOW
    )
    LibraryEntry.objects.filter(pk=district_entry.pk).update(upstream=city_entry, source="adopted")
    course_class = make_class(school, entry=entry)
    open_window(school, 3)
    parent, [kid] = family(school)
    for statuses in itertools.product(STATUSES, repeat=3):
        for row, status in zip((entry, district_entry, city_entry), statuses, strict=True):
            LibraryEntry.objects.filter(pk=row.pk).update(status=status)
        expected = LibraryEntry.objects.filter(pk=entry.pk).filter(usable_q()).exists()
        ctx = _context(actor_id=parent.pk, pupil_id=kid.pk, class_id=course_class.pk, request_key=key(), now=NOW)
        assert ctx is not None and ctx.usable == expected, statuses
