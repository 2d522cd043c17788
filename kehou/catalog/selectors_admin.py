"""Reads the city and district bureaus' and the school admins' API and pages share about review, the libraries,
filings and standards, so that a list, its page and its Excel export show the same rows and derived values."""

from __future__ import annotations

from typing import Any

from django.db.models import BooleanField, Case, Prefetch, Q, QuerySet, Value, When

from kehou.core.scope import Scope
from kehou.orgs.models import Region

from . import draw, selectors
from .models import CatalogItem, LibraryEntry, Panel, PanelMember, Submission
from .services.review import panel_verify

DRAW_METHOD = (
    'Order the pool by sha256("<seed>:<expert id>") as lowercase hex (ties by id); the panel is the first `size` '
    "experts of that order and each decliner is replaced by the next unused position."
)


# --- reads shared by the API and the pages ---------------------------------------------------------------------
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
        is_usable=Case(When(selectors.usable_q(), then=Value(True)), default=Value(False), output_field=BooleanField())
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
    qs = selectors.library_list(
        scope=scope, level=level, school_id=school_id, kind=kind, category=category, status=status, search=search
    )
    if district_code:
        qs = qs.filter(
            Q(level=LibraryEntry.Level.DISTRICT, region__code=district_code) | Q(school__district__code=district_code)
        )
    if usable == "yes":
        qs = qs.filter(selectors.usable_q())
    elif usable == "no":
        qs = qs.exclude(pk__in=LibraryEntry.objects.filter(selectors.usable_q()).values("pk"))
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


def review_queue(
    *, scope: Scope, status: str = "", kind: str = "", library: str = "", category: str = "", search: str = ""
) -> QuerySet[Submission]:
    """Submissions a bureau follows: its library's, and (a district) its own schools' to the city library."""
    if not is_bureau(scope):
        return Submission.objects.none()
    qs = selectors.submission_list(scope=scope, status=status, kind=kind, library=library, search=search)
    if category:
        qs = qs.filter(category__code=category)
    return qs.prefetch_related(Prefetch("panels", queryset=Panel.objects.order_by("-round"), to_attr="rounds"))


def latest_panel(submission: Submission) -> Panel | None:
    rounds = getattr(submission, "rounds", None)
    if rounds is None:
        return submission.panels.order_by("-round").first()
    return rounds[0] if rounds else None


def panel_rows(*, scope: Scope, status: str = "", library: str = "", search: str = "") -> QuerySet[Panel]:
    qs = selectors.panel_list(scope=scope, status=status)
    if library:
        qs = qs.filter(region__code=library)
    if search:
        qs = qs.filter(submission__title__icontains=search)
    return qs.select_related("submission__category", "decision").prefetch_related(
        Prefetch("members", queryset=PanelMember.objects.select_related("score"))
    )


def seat_counts(panel: Panel) -> tuple[int, int]:
    """(active members who have scored, panel size)."""
    active = [m for m in panel.members.all() if m.status == PanelMember.Status.ACTIVE]
    return sum(1 for m in active if hasattr(m, "score")), panel.size


def verify_data(panel: Panel) -> dict[str, Any]:
    """Re-run the draw from the recorded seed and pool (see catalog.draw)."""
    order = draw.draw_order(panel.seed, panel.pool)
    seats = list(panel.members.order_by("draw_position").values_list("expert_id", flat=True))
    return {
        "panel": panel.pk,
        "seed": panel.seed,
        "pool": list(panel.pool),
        "size": panel.size,
        "order": order,
        "members": seats,
        "reproduced": panel_verify(panel),
        "method": DRAW_METHOD,
    }


def standards_in_view(scope: Scope) -> Q:
    """The city's standards and those of the districts the viewer belongs to (the city bureau sees all)."""
    if scope.everything:
        return Q()
    districts = set(scope.district_ids)
    from kehou.orgs.models import School

    schools = scope.school_ids | scope.operator_school_ids
    if schools:
        districts |= set(School.objects.filter(pk__in=schools).values_list("district_id", flat=True))
    return Q(region__kind=Region.Kind.CITY) | Q(region_id__in=districts)
