"""Reads of the libraries and review. Every list goes through a scope."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kehou.core.errors import KehouError
from kehou.core.scope import Scope
from kehou.orgs.models import Region, School

from .models import Filing, LibraryEntry, Panel, Submission

ACTIVE = LibraryEntry.Status.ACTIVE


def usable_q(prefix: str = "") -> Q:
    """An entry is usable while it and every entry upstream of it (at most two levels) are active."""
    p = prefix
    return (
        Q(**{f"{p}status": ACTIVE})
        & (Q(**{f"{p}upstream__isnull": True}) | Q(**{f"{p}upstream__status": ACTIVE}))
        & (Q(**{f"{p}upstream__upstream__isnull": True}) | Q(**{f"{p}upstream__upstream__status": ACTIVE}))
    )


def usable_entries(*, school: School) -> QuerySet[LibraryEntry]:
    """What a school may offer: active entries of its own school library whose chain upstream is active."""
    return (
        LibraryEntry.objects.filter(level=LibraryEntry.Level.SCHOOL, school=school)
        .filter(usable_q())
        .select_related("item", "item__category")
    )


def entry_is_usable(entry: LibraryEntry) -> bool:
    return LibraryEntry.objects.filter(pk=entry.pk).filter(usable_q()).exists()


def library_list(
    *,
    scope: Scope,
    level: str = "",
    region_code: str = "",
    school_id: int | None = None,
    kind: str = "",
    category: str = "",
    status: str = "",
    search: str = "",
) -> QuerySet[LibraryEntry]:
    qs = scope.filter(LibraryEntry.objects.select_related("item", "item__category", "region", "school", "upstream"))
    if level:
        qs = qs.filter(level=level)
    if region_code:
        qs = qs.filter(region__code=region_code)
    if school_id:
        qs = qs.filter(school_id=school_id)
    if kind:
        qs = qs.filter(item__kind=kind)
    if category:
        qs = qs.filter(item__category__code=category)
    if status:
        qs = qs.filter(status=status)
    if search:
        qs = qs.filter(item__name__icontains=search)
    return qs.order_by("level", "item__category__order", "item__name", "pk")


def submission_list(
    *, scope: Scope, status: str = "", kind: str = "", library: str = "", search: str = ""
) -> QuerySet[Submission]:
    qs = scope.filter(
        Submission.objects.select_related(
            "library_region", "submitter_school", "submitter_organisation", "submitter_user", "category"
        )
    )
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if library:
        qs = qs.filter(library_region__code=library)
    if search:
        qs = qs.filter(title__icontains=search)
    return qs.order_by("-updated_at", "-pk")


def panel_list(*, scope: Scope, status: str = "") -> QuerySet[Panel]:
    qs = scope.filter(Panel.objects.select_related("submission", "region"))
    if status:
        qs = qs.filter(status=status)
    return qs


def filing_list(*, scope: Scope, status: str = "", district_code: str = "") -> QuerySet[Filing]:
    qs = scope.filter(Filing.objects.select_related("entry", "entry__item", "district", "school", "filed_by"))
    if status:
        qs = qs.filter(status=status)
    if district_code:
        qs = qs.filter(district__code=district_code)
    return qs.order_by("-filed_at", "-pk")


# --- the district or school an admin acts for (named, or their only one) ----------------------------------
def district_named(*, scope: Scope, code: str | None) -> Region:
    """The district named, or the caller's own district when they administer exactly one."""
    if code:
        region = Region.objects.filter(code=code).exclude(kind=Region.Kind.CITY).first()
        if region is None:
            raise KehouError(_("No such district."), code="unknown_district", fields={"district": code})
        return region
    if len(scope.district_ids) == 1:
        return Region.objects.get(pk=next(iter(scope.district_ids)))
    raise KehouError(_("Name the district."), code="district_required", fields={"district": None})


def school_named(*, scope: Scope, school_id: int | None) -> School:
    """The school named, or the caller's own school when they administer exactly one."""
    if school_id is None:
        if len(scope.school_ids) != 1:
            raise KehouError(_("Name the school."), code="school_required", fields={"school": None})
        school_id = next(iter(scope.school_ids))
    school = School.objects.select_related("district").filter(pk=school_id).first()
    if school is None:
        raise KehouError(_("No such school."), code="unknown_school", fields={"school": school_id})
    return school
