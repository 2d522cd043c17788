"""Reads of the libraries and review. Every list goes through a scope."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from kehou.core.scope import Scope
from kehou.orgs.models import School

from .models import Filing, LibraryEntry, Panel, PanelMember, Submission

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


def my_seats(*, expert_id: int) -> QuerySet[PanelMember]:
    return (
        PanelMember.objects.filter(expert_id=expert_id)
        .select_related("panel", "panel__submission", "panel__submission__category")
        .order_by("-panel__drawn_at")
    )


def filing_list(*, scope: Scope, status: str = "", district_code: str = "") -> QuerySet[Filing]:
    qs = scope.filter(Filing.objects.select_related("entry", "entry__item", "district", "school", "filed_by"))
    if status:
        qs = qs.filter(status=status)
    if district_code:
        qs = qs.filter(district__code=district_code)
    return qs.order_by("-filed_at", "-pk")
