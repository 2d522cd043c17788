"""Pages for the city bureau, the district bureaus and the school admins: the review queue and panels, the
libraries (市级 / 区级 / 校本 in one list with a level filter), an entry's page with its history, filings (备案) and
the standards.

Reads go through the scoped page base classes; each inline action is a POST form (with CSRF) to a small action page
that reads its row through the same scope (another district's row is a 404), calls one service, and returns to the
page it came from with the outcome as a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib import messages
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.core import clock
from kehou.core.api import parse_id
from kehou.core.errors import KehouError
from kehou.core.money import fen_to_yuan_str, yuan_str_to_fen
from kehou.core.scope import Scope
from kehou.orgs import selectors as org_selectors
from kehou.orgs.models import Region, School
from kehou.portal.pages import ScopedDetailPage, ScopedListPage, ScopedPage

from . import selectors
from .models import (
    Category,
    Decision,
    FeeStandard,
    Filing,
    LibraryEntry,
    Panel,
    PanelMember,
    ReviewPolicy,
    Submission,
)
from .selectors_admin import (
    is_bureau,
    latest_panel,
    library_entries,
    library_name,
    may_administer,
    panel_rows,
    provider_name,
    review_queue,
    seat_counts,
    standards_in_view,
    teachers_of,
    verify_data,
    with_usable,
)
from .serializers_admin import PanelSerializer
from .services import libraries, review, standards, submissions


# --- small presentation helpers ----------------------------------------------------------------------------------
def yuan(fen: int | None) -> str:
    return "" if fen is None else f"¥{fen_to_yuan_str(fen)}"


def points(bp: int | None) -> str:
    """Basis points of the weighted score as a score out of 100: 8650 → "86.50"."""
    return "" if bp is None else f"{bp // 100}.{bp % 100:02d}"


def local(dt: Any) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


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


def _post_button(request: HttpRequest, url: str, label: str, *, extra: dict[str, Any] | None = None) -> SafeString:
    hidden = {"csrfmiddlewaretoken": get_token(request), "next": request.get_full_path(), **(extra or {})}
    inputs = format_html_join("", '<input type="hidden" name="{}" value="{}">', hidden.items())
    return format_html(
        '<form method="post" action="{}" class="inline-action">{}'
        '<button type="submit" class="small">{}</button></form>',
        url,
        inputs,
        label,
    )


def _cell_html(parts: list[SafeString]) -> SafeString:
    return format_html_join("", "{}", ((p,) for p in parts))


def _exporting(request: HttpRequest) -> bool:
    return request.GET.get("format") == "xlsx"


# --- what the viewer may do in the libraries ---------------------------------------------------------------------
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
                _post_button(
                    request, reverse("portal:library-adopt", args=[entry.pk]), label, extra={"district": d.code}
                )
            )
        schools = self.pick_into(entry)
        for s in schools:
            label = _("Pick") if len(self.schools) == 1 else _("Pick into %(s)s") % {"s": s.name}
            parts.append(
                _post_button(request, reverse("portal:library-pick", args=[entry.pk]), label, extra={"school": s.pk})
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


# --- review ------------------------------------------------------------------------------------------------------
def _library_choices(scope: Scope) -> list[tuple[str, str]]:
    city = Region.objects.filter(kind=Region.Kind.CITY).first()
    choices = [(city.code, str(_("City library")))] if city else []
    return choices + [(d.code, d.name) for d in org_selectors.district_list(scope=scope)]


def _category_choices() -> list[tuple[str, str]]:
    return list(Category.objects.order_by("order", "code").values_list("code", "name"))


class ReviewQueuePage(ScopedListPage):
    title = gettext_lazy("Review queue")
    export_name = "review-queue"
    search_placeholder = gettext_lazy("Title")
    template_name = "catalog/admin_review.html"

    @property
    def columns(self) -> Any:  # type: ignore[override]
        scope, request = self.scope, self.request

        def panel(s: Submission) -> str:
            p = latest_panel(s)
            if p is None:
                return ""
            return _("Round %(n)s · %(status)s") % {"n": p.round, "status": p.get_status_display()}

        def actions(s: Submission) -> SafeString:
            parts: list[SafeString] = []
            if s.status == Submission.Status.SUBMITTED and may_administer(scope, s.library_region):
                parts.append(_post_button(request, reverse("portal:review-draw", args=[s.pk]), _("Draw a panel")))
            p = latest_panel(s)
            if p is not None:
                parts.append(
                    format_html('<a href="{}">{}</a>', reverse("portal:review-panel", args=[p.pk]), _("Panel"))
                )
            return _cell_html(parts)

        cols: list[tuple[Any, Callable[[Submission], Any]]] = [
            (gettext_lazy("Title"), lambda s: s.title),
            (gettext_lazy("Kind"), lambda s: s.get_kind_display()),
            (gettext_lazy("Category"), lambda s: s.category.name),
            (
                gettext_lazy("Library"),
                lambda s: _("City library") if s.library_region.is_city else s.library_region.name,
            ),
            (gettext_lazy("Submitted by"), submitter_label),
            (gettext_lazy("Status"), lambda s: s.get_status_display()),
            (gettext_lazy("Version"), lambda s: s.version_count),
            (gettext_lazy("Updated"), lambda s: local(s.updated_at)),
            (gettext_lazy("Panel"), panel),
        ]
        if not _exporting(request):
            cols.insert(1, (gettext_lazy("Actions"), actions))
        return cols

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        return review_queue(
            scope=scope,
            status=g.get("status", ""),
            kind=g.get("kind", ""),
            library=g.get("library", ""),
            category=g.get("category", ""),
            search=g.get("q", "").strip(),
        )

    def filters(self) -> list[dict[str, Any]]:
        g = self.request.GET
        return [
            {
                "name": "status",
                "label": _("Status"),
                "choices": Submission.Status.choices,
                "value": g.get("status", ""),
            },
            {
                "name": "library",
                "label": _("Library"),
                "choices": _library_choices(self.scope),
                "value": g.get("library", ""),
            },
            {
                "name": "category",
                "label": _("Category"),
                "choices": _category_choices(),
                "value": g.get("category", ""),
            },
            {"name": "kind", "label": _("Kind"), "choices": Submission.Kind.choices, "value": g.get("kind", "")},
        ]

    def row_link(self, obj: Any) -> str | None:
        p = latest_panel(obj)
        return reverse("portal:review-panel", args=[p.pk]) if p else None

    def extra_context(self) -> dict[str, Any]:
        return {"tab": "queue"}


class PanelListPage(ScopedListPage):
    title = gettext_lazy("Review panels")
    export_name = "review-panels"
    search_placeholder = gettext_lazy("Title")
    template_name = "catalog/admin_review.html"

    columns = (
        (gettext_lazy("Submission"), lambda p: p.submission.title),
        (gettext_lazy("Category"), lambda p: p.submission.category.name),
        (gettext_lazy("Library"), lambda p: _("City library") if p.region.is_city else p.region.name),
        (gettext_lazy("Round"), lambda p: p.round),
        (gettext_lazy("Status"), lambda p: p.get_status_display()),
        (gettext_lazy("Scored"), lambda p: "{}/{}".format(*seat_counts(p))),
        (gettext_lazy("Outcome"), lambda p: p.decision.get_outcome_display() if hasattr(p, "decision") else ""),
        (gettext_lazy("Mean score"), lambda p: points(p.decision.mean_bp) if hasattr(p, "decision") else ""),
        (gettext_lazy("Drawn"), lambda p: local(p.drawn_at)),
    )

    def select(self, scope: Scope) -> QuerySet[Any]:
        if not is_bureau(scope):
            return Panel.objects.none()
        g = self.request.GET
        return panel_rows(
            scope=scope, status=g.get("status", ""), library=g.get("library", ""), search=g.get("q", "").strip()
        )

    def filters(self) -> list[dict[str, Any]]:
        g = self.request.GET
        return [
            {"name": "status", "label": _("Status"), "choices": Panel.Status.choices, "value": g.get("status", "")},
            {
                "name": "library",
                "label": _("Library"),
                "choices": _library_choices(self.scope),
                "value": g.get("library", ""),
            },
        ]

    def row_link(self, obj: Any) -> str:
        return reverse("portal:review-panel", args=[obj.pk])

    def extra_context(self) -> dict[str, Any]:
        return {"tab": "panels"}


class PanelPage(ScopedDetailPage):
    title = gettext_lazy("Review panel")
    template_name = "catalog/admin_panel.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return Panel.objects.select_related(
            "region", "submission__category", "submission__submitter_school", "submission__submitter_organisation"
        )

    def extra_context(self, obj: Any) -> dict[str, Any]:
        data = PanelSerializer(obj, context={"scope": self.scope}).data
        decision = Decision.objects.filter(panel=obj).select_related("decided_by").first()
        members = [
            m
            | {
                "total": points(m["score"]["total_bp"]) if m.get("score") else "",
                "status_label": dict(PanelMember.Status.choices).get(m["status"], m["status"]),
            }
            for m in data["members"]
        ]
        return {
            "panel": data,
            "members": members,
            "bureau": may_administer(self.scope, obj.region),
            "verify": verify_data(obj),
            "decision": decision,
            "reasons": reasons_text(decision) if decision else [],
            "mean": points(decision.mean_bp) if decision else "",
            "library_label": _("City library") if obj.region.is_city else obj.region.name,
            "waiting_for": data["scored"]["size"] - data["scored"]["scored"],
        }


# --- actions -----------------------------------------------------------------------------------------------------
class _ActionPage(ScopedPage):
    """A POST-only inline action on one scoped row: one service call, then back with a message."""

    http_method_names: ClassVar[list[str]] = ["post"]  # type: ignore[misc]
    pk_url_kwarg: ClassVar[str] = "pk"

    def get_object(self) -> Model:
        try:
            return self.get_queryset().get(pk=self.kwargs[self.pk_url_kwarg])  # type: ignore[no-any-return]
        except (self.get_queryset().model.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404 from exc

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        """Call the service; answer the success message and, optionally, where to go next."""
        raise NotImplementedError

    def fallback(self, obj: Any) -> str:
        return reverse("portal:home")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        target: str | None = None
        try:
            message, target = self.act(request, obj)
        except KehouError as exc:
            if exc.status == 404:
                raise Http404 from exc
            messages.error(request, exc.message)
        else:
            messages.success(request, message)
        return HttpResponseRedirect(target or _safe_next(request) or self.fallback(obj))


def _safe_next(request: HttpRequest) -> str | None:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return None


class ReviewDrawAction(_ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return Submission.objects.select_related("library_region")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        size = parse_id(request.POST.get("size", "").strip())
        panel = review.panel_draw(actor=request.user, submission=obj, size=size, now=clock.now())
        return _("A panel of %(n)s experts was drawn.") % {"n": panel.size}, reverse(
            "portal:review-panel", args=[panel.pk]
        )

    def fallback(self, obj: Any) -> str:
        return reverse("portal:review")


class PanelDecideAction(_ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return Panel.objects.select_related("region")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        decision = review.panel_decide(actor=request.user, panel=obj, now=clock.now())
        message = _("Decided: %(outcome)s.") % {"outcome": decision.get_outcome_display()}
        return message, reverse("portal:review-panel", args=[obj.pk])

    def fallback(self, obj: Any) -> str:
        return reverse("portal:review-panel", args=[obj.pk])


class PanelCancelAction(_ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return Panel.objects.select_related("region")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        review.panel_cancel(actor=request.user, panel=obj, reason=request.POST.get("reason", ""), now=clock.now())
        return _("The panel was cancelled; the submission awaits a new draw."), reverse("portal:review")

    def fallback(self, obj: Any) -> str:
        return reverse("portal:review-panel", args=[obj.pk])


class SubmissionWithdrawAction(_ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return Submission.objects.select_related("library_region", "submitter_school")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        submissions.submission_withdraw(
            actor=request.user, submission=obj, reason=request.POST.get("reason", ""), now=clock.now()
        )
        return _("The submission was withdrawn."), reverse("portal:submission", args=[obj.pk])

    def fallback(self, obj: Any) -> str:
        return reverse("portal:submission", args=[obj.pk])


class SeatRecuseAction(_ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return PanelMember.objects.select_related("panel__submission")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        review.member_recuse(actor=request.user, member=obj, reason=request.POST.get("reason", ""), now=clock.now())
        return _("Your recusal was recorded and your seat redrawn."), reverse("portal:review-tasks")

    def fallback(self, obj: Any) -> str:
        return reverse("portal:review-task", args=[obj.pk])


class LibraryAdoptAction(_ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return LibraryEntry.objects.select_related("item", "upstream")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        district = selectors.district_named(scope=self.scope, code=request.POST.get("district", "").strip())
        libraries.library_adopt(actor=request.user, district=district, city_entry=obj, now=clock.now())
        return _("%(item)s was adopted into the library of %(d)s and filed with the city.") % {
            "item": obj.item.name,
            "d": district.name,
        }, None

    def fallback(self, obj: Any) -> str:
        return reverse("portal:library-entry", args=[obj.pk])


class LibraryPickAction(_ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return LibraryEntry.objects.select_related("item", "upstream")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        school = selectors.school_named(scope=self.scope, school_id=parse_id(request.POST.get("school", "")))
        libraries.library_pick(actor=request.user, school=school, entry=obj, now=clock.now())
        return _("%(item)s was picked into the library of %(s)s and filed with the city.") % {
            "item": obj.item.name,
            "s": school.name,
        }, None

    def fallback(self, obj: Any) -> str:
        return reverse("portal:library-entry", args=[obj.pk])


class LibraryStatusAction(_ActionPage):
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


class FilingAcknowledgeAction(_ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return Filing.objects.select_related("entry__item")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        libraries.filing_acknowledge(actor=request.user, filing=obj, now=clock.now())
        return _("Filing acknowledged: %(item)s.") % {"item": obj.entry.item.name}, None

    def fallback(self, obj: Any) -> str:
        return reverse("portal:filings")


# --- libraries ---------------------------------------------------------------------------------------------------
LEVEL_TITLES: dict[str, Promise] = {
    LibraryEntry.Level.CITY: gettext_lazy("City library"),
    LibraryEntry.Level.DISTRICT: gettext_lazy("District library"),
    LibraryEntry.Level.SCHOOL: gettext_lazy("School library"),
}


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
        if not _exporting(request):
            cols.insert(1, (gettext_lazy("Actions"), lambda e: _cell_html(viewer.buttons(request, e))))
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


# --- filings -----------------------------------------------------------------------------------------------------
class FilingListPage(ScopedListPage):
    title = gettext_lazy("Filings")
    export_name = "filings"
    search_placeholder = gettext_lazy("Course or teacher name")

    @property
    def columns(self) -> Any:  # type: ignore[override]
        scope, request = self.scope, self.request

        def actions(f: Filing) -> SafeString:
            if scope.everything and f.status == Filing.Status.FILED:
                return _post_button(request, reverse("portal:filing-acknowledge", args=[f.pk]), _("Acknowledge"))
            return SafeString("")

        cols: list[tuple[Any, Callable[[Filing], Any]]] = [
            (gettext_lazy("Course or teacher"), lambda f: f.entry.item.name),
            (gettext_lazy("Change"), lambda f: f.get_change_display()),
            (gettext_lazy("Library"), lambda f: f.school.name if f.school else f.district.name),
            (gettext_lazy("District"), lambda f: f.district.name),
            (gettext_lazy("Filed at"), lambda f: local(f.filed_at)),
            (gettext_lazy("Filed by"), lambda f: f.filed_by.full_name),
            (gettext_lazy("Status"), lambda f: f.get_status_display()),
            (gettext_lazy("Acknowledged at"), lambda f: local(f.acknowledged_at)),
        ]
        if not _exporting(request):
            cols.insert(1, (gettext_lazy("Actions"), actions))
        return cols

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        qs = selectors.filing_list(scope=scope, status=g.get("status", ""), district_code=g.get("district", ""))
        if g.get("change"):
            qs = qs.filter(change=g["change"])
        if search := g.get("q", "").strip():
            qs = qs.filter(entry__item__name__icontains=search)
        return qs

    def filters(self) -> list[dict[str, Any]]:
        g = self.request.GET
        controls: list[dict[str, Any]] = [
            {"name": "status", "label": _("Status"), "choices": Filing.Status.choices, "value": g.get("status", "")},
            {"name": "change", "label": _("Change"), "choices": Filing.Change.choices, "value": g.get("change", "")},
        ]
        if self.scope.everything or len(self.scope.district_ids) > 1:
            districts = [(d.code, d.name) for d in org_selectors.district_list(scope=self.scope)]
            controls.append(
                {"name": "district", "label": _("District"), "choices": districts, "value": g.get("district", "")}
            )
        return controls

    def row_link(self, obj: Any) -> str:
        return reverse("portal:library-entry", args=[obj.entry_id])


# --- standards ---------------------------------------------------------------------------------------------------
class StandardsPage(ScopedListPage):
    """Fee standards (the city's, and a district's own for its schools) and the review policies, with forms for the
    bureaus to set them. Amounts are typed in yuan and kept in fen."""

    title = gettext_lazy("Fee standards and review rules")
    export_name = "fee-standards"
    search_placeholder = gettext_lazy("Category")
    template_name = "catalog/admin_standards.html"

    columns = (
        (gettext_lazy("Applies to"), lambda s: _("City standard") if s.region.is_city else s.region.name),
        (gettext_lazy("Category"), lambda s: s.category.name),
        (gettext_lazy("Lowest fee per class hour"), lambda s: yuan(s.min_fee_fen)),
        (gettext_lazy("Highest fee per class hour"), lambda s: yuan(s.max_fee_fen)),
        (gettext_lazy("Teacher pay per class hour"), lambda s: yuan(s.teacher_pay_fen)),
        (gettext_lazy("Set at"), lambda s: local(s.set_at)),
    )

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        qs = FeeStandard.objects.select_related("region", "category").filter(standards_in_view(scope))
        if g.get("region"):
            qs = qs.filter(region__code=g["region"])
        if search := g.get("q", "").strip():
            qs = qs.filter(category__name__icontains=search)
        if g.get("category"):
            qs = qs.filter(category__code=g["category"])
        return qs.order_by("region__code", "category__order")

    def _regions(self) -> list[Region]:
        """Regions whose standards the viewer sets: the city and every district (city bureau), or its districts."""
        scope = self.scope
        if scope.everything:
            return list(Region.objects.order_by("code"))
        return list(Region.objects.filter(pk__in=scope.district_ids).order_by("code"))

    def filters(self) -> list[dict[str, Any]]:
        g = self.request.GET
        scope = self.scope
        in_view = FeeStandard.objects.filter(standards_in_view(scope)).values("region_id")
        regions = Region.objects.filter(pk__in=in_view)
        choices = [(r.code, _("City standard") if r.is_city else r.name) for r in regions.order_by("code")]
        return [
            {"name": "region", "label": _("Applies to"), "choices": choices, "value": g.get("region", "")},
            {
                "name": "category",
                "label": _("Category"),
                "choices": _category_choices(),
                "value": g.get("category", ""),
            },
        ]

    def extra_context(self) -> dict[str, Any]:
        regions = self._regions()
        policies = (
            ReviewPolicy.objects.select_related("region").filter(standards_in_view(self.scope)).order_by("region__code")
        )
        return {
            "regions": [(r.code, _("City standard") if r.is_city else r.name) for r in regions],
            "districts": [(r.code, r.name) for r in regions if not r.is_city],
            "categories": _category_choices(),
            "policies": [
                {
                    "region": _("City") if p.region.is_city else p.region.name,
                    "panel_size": p.panel_size,
                    "admit": points(p.admit_threshold_bp),
                    "back": points(p.return_threshold_bp),
                }
                for p in policies
            ],
            "may_set": bool(regions),
        }

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        action = request.POST.get("action", "")
        try:
            message = self._act(request, action)
        except KehouError as exc:
            if exc.status == 404:
                raise Http404 from exc
            messages.error(request, exc.message)
        else:
            messages.success(request, message)
        return HttpResponseRedirect(reverse("portal:standards"))

    def _act(self, request: HttpRequest, action: str) -> str:
        p = request.POST
        if action not in ("fee", "clear", "policy"):
            raise KehouError(_("Choose what to change."), code="invalid_action")
        region = Region.objects.filter(code=p.get("region", "")).first()
        if region is None:
            raise KehouError(_("Choose where the standard applies."), code="region_required")
        if action == "policy":
            values = {k: parse_id(p.get(k, "").strip()) for k in ("panel_size",)}
            admit, back = _points_to_bp(p.get("admit", "")), _points_to_bp(p.get("back", ""))
            if values["panel_size"] is None or admit is None or back is None:
                raise KehouError(_("Fill in the panel size and both thresholds."), code="invalid_review_policy")
            standards.review_policy_set(
                actor=request.user,
                region=region,
                panel_size=values["panel_size"],
                admit_threshold_bp=admit,
                return_threshold_bp=back,
                now=clock.now(),
            )
            return _("The review rules of %(r)s were saved.") % {"r": region.name}
        category = Category.objects.filter(code=p.get("category", "")).first()
        if category is None:
            raise KehouError(_("Choose a category."), code="category_required")
        if action == "clear":
            standards.fee_standard_clear(actor=request.user, region=region, category=category, now=clock.now())
            return _("%(r)s now follows the city's standard for %(c)s.") % {"r": region.name, "c": category.name}
        try:
            amounts = {k: yuan_str_to_fen(p.get(k, "")) for k in ("min_fee", "max_fee", "teacher_pay")}
        except ValueError as exc:
            raise KehouError(_("Amounts are in yuan, e.g. 30 or 30.50."), code="invalid_amount") from exc
        standards.fee_standard_set(
            actor=request.user,
            region=region,
            category=category,
            min_fee_fen=amounts["min_fee"],
            max_fee_fen=amounts["max_fee"],
            teacher_pay_fen=amounts["teacher_pay"],
            now=clock.now(),
        )
        return _("The fee standard for %(c)s in %(r)s was saved.") % {"c": category.name, "r": region.name}


def _points_to_bp(text: str) -> int | None:
    """A score out of 100 as typed ("75" or "75.5") to basis points."""
    try:
        return yuan_str_to_fen(text)  # same shape: up to two decimals, no float
    except ValueError:
        return None
