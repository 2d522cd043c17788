"""Pages of the libraries: the entries the viewer may use or manage, one entry, adopt, pick,
suspend/withdraw/reactivate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.core import clock
from kehou.core.api import parse_id
from kehou.core.pages import (
    ActionPage,
    ScopedDetailPage,
    ScopedListPage,
    cells,
    exporting,
    post_button,
    yuan,
)
from kehou.core.scope import Scope
from kehou.orgs import selectors as org_selectors
from kehou.orgs.models import Region, School

from ..models import (
    Filing,
    LibraryEntry,
    Submission,
)
from ..selectors import (
    library_entries,
    library_name,
    may_administer,
    provider_name,
    teachers_of,
    with_usable,
)
from ..services import libraries
from .common import LEVEL_TITLES, _category_choices


class LibraryActions:
    """Which adopt and pick buttons an entry gets for this viewer (computed once per request)."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.districts = list(Region.objects.filter(pk__in=scope.district_ids).order_by("code"))
        self.schools = list(School.objects.filter(pk__in=scope.school_ids).select_related("district").order_by("code"))
        self._city_id: int | None = None
        held = LibraryEntry.objects.filter(region__in=self.districts).values_list("region_id", "item_id")
        self.district_items = {(r, i) for r, i in held}
        picked = LibraryEntry.objects.filter(school__in=self.schools).values_list("school_id", "item_id")
        self.school_items = {(s, i) for s, i in picked}

    def city_id(self) -> int | None:
        if self._city_id is None:
            self._city_id = Region.objects.filter(kind=Region.Kind.CITY).values_list("pk", flat=True).first()
        return self._city_id

    def adopt_into(self, entry: LibraryEntry) -> list[Region]:
        if entry.level != LibraryEntry.Level.CITY or not getattr(entry, "is_usable", True):
            return []
        return [d for d in self.districts if (d.pk, entry.item_id) not in self.district_items]

    def pick_into(self, entry: LibraryEntry) -> list[School]:
        if entry.level == LibraryEntry.Level.SCHOOL or not getattr(entry, "is_usable", True):
            return []
        found = []
        for school in self.schools:
            level, region_id = (
                (LibraryEntry.Level.CITY, self.city_id())
                if school.uses_city_library
                else (LibraryEntry.Level.DISTRICT, school.district_id)
            )
            if (
                entry.level == level
                and entry.region_id == region_id
                and (school.pk, entry.item_id) not in self.school_items
            ):
                found.append(school)
        return found

    def held_by_viewer(self, entry: LibraryEntry) -> bool:
        return any((d.pk, entry.item_id) in self.district_items for d in self.districts) or any(
            (s.pk, entry.item_id) in self.school_items for s in self.schools
        )

    def buttons(self, request: HttpRequest, entry: LibraryEntry) -> list[SafeString]:
        parts: list[SafeString] = []
        targets = self.adopt_into(entry)
        for d in targets:
            label = _("Adopt") if len(self.districts) == 1 else _("Adopt into %(d)s") % {"d": d.name}
            parts.append(
                post_button(
                    request, reverse("portal:library-adopt", args=[entry.pk]), label, extra={"district": d.code}
                )
            )
        schools = self.pick_into(entry)
        for s in schools:
            label = _("Pick") if len(self.schools) == 1 else _("Pick into %(s)s") % {"s": s.name}
            parts.append(
                post_button(request, reverse("portal:library-pick", args=[entry.pk]), label, extra={"school": s.pk})
            )
        if not parts and entry.level != LibraryEntry.Level.SCHOOL and self.held_by_viewer(entry):
            parts.append(format_html('<span class="tag">{}</span>', _("In your library")))
        return parts


def status_choices(entry: LibraryEntry) -> list[tuple[str, str]]:
    """The changes an entry's status may take: suspend or withdraw an active one, reactivate or withdraw a suspended
    one; a withdrawn entry stays withdrawn."""
    if entry.status == LibraryEntry.Status.ACTIVE:
        return [("suspended", _("Suspend")), ("withdrawn", _("Withdraw"))]
    if entry.status == LibraryEntry.Status.SUSPENDED:
        return [("active", _("Reactivate")), ("withdrawn", _("Withdraw"))]
    return []


def may_manage_entry(scope: Scope, entry: LibraryEntry) -> bool:
    if entry.level == LibraryEntry.Level.SCHOOL:
        return entry.school_id in scope.school_ids
    return may_administer(scope, entry.region)


class LibraryAdoptAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return LibraryEntry.objects.select_related("item", "upstream")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        district = org_selectors.district_named(scope=self.scope, code=request.POST.get("district", "").strip())
        libraries.library_adopt(actor=request.user, district=district, city_entry=obj, now=clock.now())
        return _("%(item)s was adopted into the library of %(d)s and filed with the city.") % {
            "item": obj.item.name,
            "d": district.name,
        }, None

    def fallback(self, obj: Any) -> str:
        return reverse("portal:library-entry", args=[obj.pk])


class LibraryPickAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return LibraryEntry.objects.select_related("item", "upstream")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        school = org_selectors.school_named(scope=self.scope, school_id=parse_id(request.POST.get("school", "")))
        libraries.library_pick(actor=request.user, school=school, entry=obj, now=clock.now())
        return _("%(item)s was picked into the library of %(s)s and filed with the city.") % {
            "item": obj.item.name,
            "s": school.name,
        }, None

    def fallback(self, obj: Any) -> str:
        return reverse("portal:library-entry", args=[obj.pk])


class LibraryStatusAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return LibraryEntry.objects.select_related("item", "region", "school", "upstream")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        status = request.POST.get("status", "").strip()
        affected = libraries.library_set_status(
            actor=request.user, entry=obj, status=status, reason=request.POST.get("reason", ""), now=clock.now()
        )
        label = dict(LibraryEntry.Status.choices).get(status, status)
        message = _("The entry is now %(status)s.") % {"status": label}
        if affected:
            message += " " + _("%(n)s entries downstream follow it.") % {"n": affected}
        return message, None

    def fallback(self, obj: Any) -> str:
        return reverse("portal:library-entry", args=[obj.pk])


class LibraryPage(ScopedListPage):
    export_name = "library"
    search_placeholder = gettext_lazy("Course or teacher name")
    template_name = "catalog/library_list.html"

    @property
    def title(self) -> Any:  # type: ignore[override]
        return LEVEL_TITLES.get(self.request.GET.get("level", ""), gettext_lazy("Libraries"))

    @property
    def columns(self) -> Any:  # type: ignore[override]
        request = self.request
        viewer = LibraryActions(self.scope)

        def upstream(e: LibraryEntry) -> str:
            up = e.upstream
            if up is None:
                return ""
            where = _("City library") if up.level == LibraryEntry.Level.CITY else (up.region.name if up.region else "")
            return f"{where} · {up.get_status_display()}"

        cols: list[tuple[Any, Callable[[LibraryEntry], Any]]] = [
            (gettext_lazy("Course or teacher"), lambda e: e.item.name),
            (gettext_lazy("Kind"), lambda e: e.item.get_kind_display()),
            (gettext_lazy("Category"), lambda e: e.item.category.name),
            (gettext_lazy("Library"), lambda e: f"{e.get_level_display()} · {library_name(e)}"),
            (gettext_lazy("Provider"), lambda e: provider_name(e.item)),
            (gettext_lazy("Fee per class hour"), lambda e: yuan(e.item.version.fee_per_hour_fen)),
            (gettext_lazy("Teachers"), lambda e: "、".join(t.user.full_name for t in teachers_of(e.item))),
            (gettext_lazy("Status"), lambda e: e.get_status_display()),
            (gettext_lazy("Usable"), lambda e: _("Yes") if getattr(e, "is_usable", False) else _("No")),
            (gettext_lazy("Upstream"), upstream),
        ]
        if not exporting(request):
            cols.insert(1, (gettext_lazy("Actions"), lambda e: cells(viewer.buttons(request, e))))
        return cols

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        return library_entries(
            scope=scope,
            level=g.get("level", ""),
            district_code=g.get("district", ""),
            school_id=parse_id(g.get("school", "")),
            kind=g.get("kind", ""),
            category=g.get("category", ""),
            status=g.get("status", ""),
            usable=g.get("usable", ""),
            search=g.get("q", "").strip(),
        )

    def filters(self) -> list[dict[str, Any]]:
        g = self.request.GET
        scope = self.scope
        controls: list[dict[str, Any]] = [
            {"name": "level", "label": _("Library"), "choices": LibraryEntry.Level.choices, "value": g.get("level", "")}
        ]
        district = g.get("district", "")
        if scope.everything or len(scope.district_ids) > 1:
            districts = [(d.code, d.name) for d in org_selectors.district_list(scope=scope)]
            controls.append({"name": "district", "label": _("District"), "choices": districts, "value": district})
        schools = scope.filter(School.objects.all())
        if district:
            schools = schools.filter(district__code=district)
        school_choices = [(str(pk), name) for pk, name in schools.order_by("code").values_list("pk", "name")]
        if len(school_choices) > 1 or g.get("school"):
            controls.append(
                {"name": "school", "label": _("School"), "choices": school_choices, "value": g.get("school", "")}
            )
        controls += [
            {
                "name": "category",
                "label": _("Category"),
                "choices": _category_choices(),
                "value": g.get("category", ""),
            },
            {"name": "kind", "label": _("Kind"), "choices": Submission.Kind.choices, "value": g.get("kind", "")},
            {
                "name": "status",
                "label": _("Status"),
                "choices": LibraryEntry.Status.choices,
                "value": g.get("status", ""),
            },
            {
                "name": "usable",
                "label": _("Usable"),
                "choices": [("yes", _("Yes")), ("no", _("No"))],
                "value": g.get("usable", ""),
            },
        ]
        return controls

    def row_link(self, obj: Any) -> str:
        return reverse("portal:library-entry", args=[obj.pk])

    def extra_context(self) -> dict[str, Any]:
        level = self.request.GET.get("level", "")
        return {"levels": [("", _("All"))] + [(k, str(v)) for k, v in LEVEL_TITLES.items()], "level": level}


class LibraryEntryPage(ScopedDetailPage):
    title = gettext_lazy("Library entry")
    template_name = "catalog/library_entry.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return with_usable(
            LibraryEntry.objects.select_related(
                "item__category",
                "item__version",
                "item__provider_school",
                "item__provider_organisation",
                "item__teacher__user",
                "region",
                "school__district",
                "upstream__region",
                "upstream__upstream__region",
            )
        )

    def extra_context(self, obj: Any) -> dict[str, Any]:
        scope = self.scope
        viewer = LibraryActions(scope)
        chain = []
        up = obj.upstream
        while up is not None:
            chain.append(up)
            up = up.upstream
        labels = dict(LibraryEntry.Status.choices)
        events = [
            {
                "at": e.at,
                "from_label": labels.get(e.from_status, e.from_status),
                "to_label": labels.get(e.to_status, e.to_status),
                "reason": e.reason,
                "actor": e.actor.full_name,
            }
            for e in obj.events.select_related("actor").order_by("at", "pk")
        ]
        downstream = scope.filter(LibraryEntry.objects.filter(upstream=obj)).select_related("region", "school")
        filings = scope.filter(Filing.objects.filter(entry=obj)).select_related("filed_by").order_by("-filed_at")
        version = obj.item.version
        return {
            "entry": obj,
            "item": obj.item,
            "version": version,
            "fee": yuan(version.fee_per_hour_fen),
            "materials_price": yuan(version.materials_price_fen),
            "teachers": teachers_of(obj.item),
            "provider": provider_name(obj.item),
            "library_label": library_name(obj),
            "chain": chain,
            "events": events,
            "downstream": list(downstream[:50]),
            "downstream_total": downstream.count(),
            "filings": list(filings[:20]),
            "actions": viewer.buttons(self.request, obj),
            "may_manage": may_manage_entry(scope, obj),
            "status_choices": status_choices(obj),
        }
