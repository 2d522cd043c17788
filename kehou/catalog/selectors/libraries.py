"""Reads of the libraries: whether an entry is usable (derived from the whole chain, never stored), the entries in
view with what the viewer may do, providers and teachers."""

from __future__ import annotations

from typing import Any

from django.db.models import BooleanField, Case, Q, QuerySet, Value, When

from kehou.core.scope import Scope
from kehou.orgs.models import Region, School

from ..models import CatalogItem, LibraryEntry, Submission

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


def may_administer(scope: Scope, region: Region | None) -> bool:
    """Whether the viewer is the bureau of a library: the city bureau for the city's, a district's for its own."""
    if region is None:
        return False
    return scope.everything or (not region.is_city and region.pk in scope.district_ids)


def is_bureau(scope: Scope) -> bool:
    return bool(scope.everything or scope.district_ids)


def with_usable(qs: QuerySet[LibraryEntry]) -> QuerySet[LibraryEntry]:
    """Annotate ``is_usable``: the entry and everything upstream of it are active (selectors.usable_q)."""
    return qs.annotate(
        is_usable=Case(When(usable_q(), then=Value(True)), default=Value(False), output_field=BooleanField())
    )


def library_entries(
    *,
    scope: Scope,
    level: str = "",
    district_code: str = "",
    school_id: int | None = None,
    kind: str = "",
    category: str = "",
    status: str = "",
    usable: str = "",
    search: str = "",
) -> QuerySet[LibraryEntry]:
    """Library entries in scope, filtered; ``district_code`` is the district whose library (or schools) it is."""
    qs = library_list(
        scope=scope, level=level, school_id=school_id, kind=kind, category=category, status=status, search=search
    )
    if district_code:
        qs = qs.filter(
            Q(level=LibraryEntry.Level.DISTRICT, region__code=district_code) | Q(school__district__code=district_code)
        )
    if usable == "yes":
        qs = qs.filter(usable_q())
    elif usable == "no":
        qs = qs.exclude(pk__in=LibraryEntry.objects.filter(usable_q()).values("pk"))
    qs = with_usable(qs)
    return qs.select_related(
        "item__version",
        "item__provider_school",
        "item__provider_organisation",
        "item__teacher__user",
        "school__district",
        "upstream__region",
        "upstream__upstream",
    ).prefetch_related("item__version__teachers__user")


def teachers_of(item: CatalogItem) -> list[Any]:
    if item.kind == Submission.Kind.TEACHER:
        return [item.teacher] if item.teacher else []
    return list(item.version.teachers.all())


def provider_name(item: CatalogItem) -> str:
    provider = item.provider_school or item.provider_organisation
    return provider.name if provider else ""


def library_name(entry: LibraryEntry) -> str:
    if entry.level == LibraryEntry.Level.SCHOOL and entry.school is not None:
        return entry.school.name
    return entry.region.name if entry.region else ""
