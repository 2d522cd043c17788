"""Pages of submissions (我的申报): the list, a new course or teacher dossier, one submission, revising, proofs,
withdrawing."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from kehou.core import clock, uploads
from kehou.core.errors import KehouError
from kehou.core.masking import mask_student_number
from kehou.core.pages import (
    ActionPage,
    ScopedDetailPage,
    ScopedListPage,
    ScopedPage,
    local,
)
from kehou.core.scope import Scope
from kehou.orgs.models import School
from kehou.people.models import TeacherProfile

from .. import selectors as sel
from ..forms import CourseForm, DossierForm, ProofForm
from ..models import (
    FeeStandard,
    Submission,
    SubmissionVersion,
)
from ..services import proofs, submissions
from .common import _attach_error, _error, _library_label, _submitter_label, _yuan, can_submit


class SubmissionWithdrawAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return Submission.objects.select_related("library_region", "submitter_school")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        submissions.submission_withdraw(
            actor=request.user, submission=obj, reason=request.POST.get("reason", ""), now=clock.now()
        )
        return _("The submission was withdrawn."), reverse("portal:submission", args=[obj.pk])

    def fallback(self, obj: Any) -> str:
        return reverse("portal:submission", args=[obj.pk])


class SubmissionListPage(ScopedListPage):
    title = gettext_lazy("My submissions")
    export_name = "submissions"
    search_placeholder = gettext_lazy("Title")
    template_name = "catalog/submit_list.html"
    columns = (
        (gettext_lazy("Title"), lambda s: s.title),
        (gettext_lazy("Status"), lambda s: s.get_status_display()),
        (gettext_lazy("Kind"), lambda s: s.get_kind_display()),
        (gettext_lazy("Category"), lambda s: s.category.name),
        (gettext_lazy("Library"), lambda s: _library_label(s.library_region)),
        (gettext_lazy("Submitter"), _submitter_label),
        (gettext_lazy("Versions"), lambda s: s.version_count),
        (gettext_lazy("Updated"), lambda s: local(s.updated_at)),
    )

    def base_context(self) -> dict[str, Any]:
        ctx = super().base_context()
        if not can_submit(self.request.user, self.scope):
            ctx["title"] = _("Submissions")
        return ctx

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        return sel.submissions_in_library(
            scope=scope,
            status=g.get("status", ""),
            kind=g.get("kind", ""),
            library=g.get("library", ""),
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
            {"name": "kind", "label": _("Kind"), "choices": Submission.Kind.choices, "value": g.get("kind", "")},
            {
                "name": "library",
                "label": _("Library"),
                "choices": [("city", _("City library")), ("district", _("District library"))],
                "value": g.get("library", ""),
            },
        ]

    def row_link(self, obj: Any) -> str:
        return reverse("portal:submission", args=[obj.pk])

    def extra_context(self) -> dict[str, Any]:
        return {"can_submit": can_submit(self.request.user, self.scope)}


class _SubmissionFormMixin:
    """Building the course / dossier form for a submitter (teacher choices limited to those they may name)."""

    request: HttpRequest
    scope: Scope

    def teacher_choices(self, school: School | None) -> list[tuple[int, str]]:
        teachers = self.scope.filter(sel.teachers_nameable(actor=self.request.user, school=school))
        return [(t.pk, t.user.full_name or t.user.get_username()) for t in teachers.select_related("user")]

    def make_form(self, kind: str, school: School | None, *, revising: bool = False, **kwargs: Any) -> Any:
        form_class = CourseForm if kind == Submission.Kind.COURSE else DossierForm
        return form_class(teachers=self.teacher_choices(school), revising=revising, **kwargs)

    def fee_standards(self, school: School | None) -> list[dict[str, Any]]:
        """The allowed fees per category, for the libraries the submitter may choose."""
        district = school.district if school is not None else None
        if district is None:
            mine = TeacherProfile.objects.filter(user_id__in=[self.request.user.pk]).select_related("organisation")
            profile = mine.first()
            if profile is not None and profile.organisation is not None:
                district = profile.organisation.district
        rows = []
        for standard in FeeStandard.objects.select_related("category", "region").order_by(
            "region__kind", "region__code", "category__order"
        ):
            if standard.region.is_city or (district is not None and standard.region_id == district.pk):
                rows.append(
                    {
                        "library": _library_label(standard.region),
                        "category": standard.category.name,
                        "low": _yuan(standard.min_fee_fen),
                        "high": _yuan(standard.max_fee_fen),
                    }
                )
        return rows


class SubmissionNewPage(_SubmissionFormMixin, ScopedPage):
    """New featured course (kind="course") or new teacher dossier (kind="teacher")."""

    kind: ClassVar[str] = Submission.Kind.COURSE
    template_name = "catalog/submit_form.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return School.objects.filter(pk__in=scope.school_ids).select_related("district").order_by("code")

    @property
    def page_title(self) -> str | Promise:
        return _("New featured course") if self.kind == Submission.Kind.COURSE else _("New teacher dossier")

    def chosen_school(self, data: Any) -> tuple[School | None, list[School]]:
        schools = list(self.get_queryset())
        wanted = str(data.get("school", ""))
        chosen = next((s for s in schools if str(s.pk) == wanted), schools[0] if schools else None)
        return chosen, schools

    def render_form(self, form: Any, school: School | None, schools: list[School], **extra: Any) -> HttpResponse:
        status = extra.pop("status", 200)
        ctx = self.base_context() | {
            "title": self.page_title,
            "kind": self.kind,
            "form": form,
            "school": school,
            "schools": schools,
            "can_submit": can_submit(self.request.user, self.scope),
            "fee_standards": self.fee_standards(school),
            "action": self.request.path,
        }
        return render(self.request, self.template_name, ctx | extra, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        school, schools = self.chosen_school(request.GET)
        return self.render_form(self.make_form(self.kind, school), school, schools)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        school, schools = self.chosen_school(request.POST)
        form = self.make_form(self.kind, school, data=request.POST)
        if not can_submit(request.user, self.scope):
            return self.render_form(form, school, schools, status=403)
        if not form.is_valid():
            return self.render_form(form, school, schools, status=400)
        try:
            created = submissions.submission_create(
                actor=request.user,
                school=school,
                library=form.cleaned_data["library"],
                fields=form.to_fields(),
                now=clock.now(),
            )
        except KehouError as exc:
            _attach_error(form, exc)
            return self.render_form(form, school, schools, error=_error(exc), status=exc.status)
        messages.success(request, _("Submitted. The bureau will draw a review panel."))
        return HttpResponseRedirect(reverse("portal:submission", args=[created.pk]))


class SubmissionNewCoursePage(SubmissionNewPage):
    kind = Submission.Kind.COURSE


class SubmissionNewDossierPage(SubmissionNewPage):
    kind = Submission.Kind.TEACHER


@method_decorator(csrf_exempt, name="dispatch")  # CSRF is checked in post(), after the size check (see there)
class SubmissionDetailPage(ScopedDetailPage):
    """A submission: status, versions (newest first), the panel's progress and comments after a decision, proofs
    (with the upload form for the submitter), and the revise button while it may be revised."""

    title = gettext_lazy("Submission")
    template_name = "catalog/submit_detail.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return sel.submission_detail_qs()

    def extra_context(self, obj: Any) -> dict[str, Any]:
        scope, user = self.scope, self.request.user
        submitter = proofs.may_submit_for(user, obj)
        readable = set(
            scope.filter(sel.proofs_readable(scope).filter(version__submission=obj)).values_list("pk", flat=True)
        )
        show_identity = sel.may_see_identity(scope=scope, actor=user, submission=obj)
        versions = []
        for v in reversed(list(obj.versions.all())):
            versions.append(
                {
                    "v": v,
                    "current": v.number == obj.version_count,
                    "teachers": [t.user.full_name for t in v.teachers.all()],
                    "teacher": v.teacher.user.full_name if v.teacher else "",
                    "identity_number": v.identity_number if show_identity else mask_student_number(v.identity_number),
                    "fee": _yuan(v.fee_per_hour_fen),
                    "materials_price": _yuan(v.materials_price_fen),
                    "proofs": [p for p in v.proofs.all() if p.pk in readable],
                }
            )
        decisions = sel.decisions_of(obj)
        for d in decisions:
            d["mean_percent"] = f"{d['mean_bp'] / 100:.2f}"
        is_open = obj.status in proofs.OPEN_STATUSES
        return {
            "title": obj.title,
            "versions": versions,
            "panels": sel.panels_of(obj),
            "decisions": decisions,
            "library": _library_label(obj.library_region),
            "submitter": _submitter_label(obj),
            "may_add_proofs": submitter and is_open,
            "may_revise": submitter and is_open,
            "may_withdraw": submitter and obj.status in (Submission.Status.SUBMITTED, Submission.Status.RETURNED),
            "proof_form": ProofForm(),
            "max_mb": round(proofs.max_bytes() / 1024 / 1024),
        }

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj: Submission = self.get_object()  # type: ignore[assignment]  # out of scope: 404 before reading the body
        try:
            uploads.refuse_oversized(request, limit=proofs.max_bytes())
        except KehouError as too_large:
            return self.render_with(obj, ProofForm(), too_large)
        # Only now may the body be read: CSRF is checked here rather than by the middleware, which would read
        # (and spool to disk) an upload of any size first.
        return csrf_protect(self._upload)(request, obj)

    def _upload(self, request: HttpRequest, obj: Submission) -> HttpResponse:
        form = ProofForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_with(obj, form, None, status=400)
        try:
            proofs.proof_attach(
                actor=request.user,
                version=sel.current_version(obj),
                kind=form.cleaned_data["kind"],
                uploaded_file=form.cleaned_data["file"],
                now=clock.now(),
            )
        except KehouError as exc:
            form.add_error("file" if exc.code in {"invalid_file_type", "file_too_large"} else None, exc.message)
            return self.render_with(obj, form, exc)
        messages.success(request, _("The proof file was added."))
        return HttpResponseRedirect(reverse("portal:submission", args=[obj.pk]))

    def render_with(self, obj: Any, form: ProofForm, exc: KehouError | None, status: int | None = None) -> HttpResponse:
        ctx = self.base_context() | {"object": obj} | self.extra_context(obj)
        ctx["proof_form"] = form
        if exc is not None:
            ctx["error"] = _error(exc)
        return render(self.request, self.template_name, ctx, status=status or (exc.status if exc else 200))


class SubmissionRevisePage(_SubmissionFormMixin, ScopedDetailPage):
    """The form of a new version, filled in from the current one."""

    title = gettext_lazy("Revise the submission")
    template_name = "catalog/submit_form.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return sel.submission_detail_qs()

    def render_form(self, obj: Submission, form: Any, status: int = 200, **extra: Any) -> HttpResponse:
        may = proofs.may_submit_for(self.request.user, obj) and obj.status in proofs.OPEN_STATUSES
        ctx = self.base_context() | {
            "object": obj,
            "kind": obj.kind,
            "form": form,
            "revising": True,
            "can_submit": may,
            "school": obj.submitter_school,
            "fee_standards": self.fee_standards(obj.submitter_school),
            "action": self.request.path,
        }
        return render(self.request, self.template_name, ctx | extra, status=status)

    def _lesson(self, obj: Submission) -> HttpResponse:
        """A prepared lesson is revised where it is written, on the teaching platform, and submitted again there."""
        plan = (sel.current_version(obj).content or {}).get("source_plan")
        return HttpResponseRedirect(f"/teach/lessons/{int(plan)}/" if plan else "/teach/lessons/")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj: Submission = self.get_object()  # type: ignore[assignment]
        if obj.kind == Submission.Kind.LESSON:
            return self._lesson(obj)
        version: SubmissionVersion = sel.current_version(obj)
        form_class = CourseForm if obj.kind == Submission.Kind.COURSE else DossierForm
        initial = form_class.initial_from(version)
        return self.render_form(obj, self.make_form(obj.kind, obj.submitter_school, revising=True, initial=initial))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj: Submission = self.get_object()  # type: ignore[assignment]
        if obj.kind == Submission.Kind.LESSON:
            return self._lesson(obj)
        form = self.make_form(obj.kind, obj.submitter_school, revising=True, data=request.POST)
        if not form.is_valid():
            return self.render_form(obj, form, status=400)
        try:
            submissions.submission_revise(
                actor=request.user,
                submission=obj,
                fields=form.to_fields(),
                note=form.cleaned_data.get("note", ""),
                now=clock.now(),
            )
        except KehouError as exc:
            _attach_error(form, exc)
            return self.render_form(obj, form, status=exc.status, error=_error(exc))
        messages.success(request, _("The new version was submitted."))
        return HttpResponseRedirect(reverse("portal:submission", args=[obj.pk]))
