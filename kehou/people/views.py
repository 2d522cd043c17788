from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kehou.core.api import parse_id
from kehou.core.pages import ScopedDetailPage, ScopedListPage
from kehou.core.scope import Scope
from kehou.core.templatetags.kehou_ui import grade_name
from kehou.orgs import selectors as org_selectors
from kehou.orgs.models import School

from . import selectors
from .models import Guardian, Pupil, TeacherProfile


class PupilListPage(ScopedListPage):
    title = _("Pupils")
    export_name = "pupils"
    search_placeholder = _("Name or student number")

    @property
    def columns(self) -> Any:  # type: ignore[override]
        scope = self.scope
        relations = dict(Guardian.Relation.choices)
        genders = dict(Pupil.Gender.choices)
        # The columns of one row are read one after the other: keep that row's view only (an export of the whole
        # city must not hold every pupil in memory).
        last: list[tuple[int, selectors.PupilShown]] = []

        def see(p: Pupil) -> selectors.PupilShown:
            if not last or last[0][0] != p.pk:
                last[:] = [(p.pk, selectors.pupil_shown(scope=scope, pupil=p))]
            return last[0][1]

        def guardians(p: Pupil) -> str:
            return "；".join(
                f"{g['name']}（{relations.get(g['relation'], g['relation'])}）{g['phone']}" for g in see(p).guardians
            )

        return (
            (_("Name"), lambda p: see(p).name),
            (_("Student number"), lambda p: see(p).student_number),
            (_("Gender"), lambda p: str(genders.get(see(p).gender or "", "—"))),
            (_("School"), lambda p: p.school.name),
            (_("Grade"), lambda p: p.grade),
            (_("Class"), lambda p: p.class_name),
            (_("Guardians"), guardians),
        )

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        return selectors.pupil_list(
            scope=scope,
            search=g.get("q", "").strip(),
            school_id=parse_id(g.get("school", "")),
            district_code=g.get("district", ""),
            grade=parse_id(g.get("grade", "")),
            class_name=g.get("class_name", "").strip(),
        )

    def filters(self) -> list[dict[str, Any]]:
        g = self.request.GET
        scope = self.scope
        controls: list[dict[str, Any]] = []
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
        controls.append(
            {
                "name": "grade",
                "label": _("Grade"),
                "choices": [(str(i), grade_name(i)) for i in range(1, 10)],
                "value": g.get("grade", ""),
            }
        )
        controls.append({"name": "class_name", "label": _("Class"), "value": g.get("class_name", "")})
        return controls

    def row_link(self, obj: Any) -> str:
        return reverse("portal:pupil", args=[obj.pk])


class PupilDetailPage(ScopedDetailPage):
    title = _("Pupil")
    template_name = "people/pupil_detail.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return Pupil.objects.select_related("school", "school__district").prefetch_related("guardians__user")

    def extra_context(self, obj: Any) -> dict[str, Any]:
        shown = selectors.pupil_shown(scope=self.scope, pupil=obj)
        relations = dict(Guardian.Relation.choices)
        return {
            "shown": shown,
            "gender": dict(Pupil.Gender.choices).get(shown.gender or "", ""),
            "student_number": shown.student_number,
            "guardians": [
                {"name": g["name"], "relation": relations.get(g["relation"], g["relation"]), "phone": g["phone"]}
                for g in shown.guardians
            ],
        }


class TeacherListPage(ScopedListPage):
    title = _("Teachers")
    export_name = "teachers"
    search_placeholder = _("Name or subject")

    @property
    def columns(self) -> Any:  # type: ignore[override]
        scope = self.scope

        def phone(t: TeacherProfile) -> str:
            return selectors.shown_teacher_phone(scope=scope, teacher=t)

        return (
            (_("Name"), lambda t: t.user.full_name),
            (_("Kind"), lambda t: t.get_kind_display()),
            (_("Organisation"), lambda t: t.organisation.name if t.organisation else ""),
            (_("Subjects"), lambda t: t.subjects),
            (_("Schools"), lambda t: "、".join(s.name for s in t.schools.all())),
            (_("Phone"), phone),
        )

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        return selectors.teacher_list(scope=scope, search=g.get("q", "").strip(), kind=g.get("kind", ""))

    def filters(self) -> list[dict[str, Any]]:
        return [
            {
                "name": "kind",
                "label": _("Kind"),
                "choices": TeacherProfile.Kind.choices,
                "value": self.request.GET.get("kind", ""),
            },
        ]


class SchoolDetailPage(ScopedDetailPage):
    title = _("School")
    template_name = "orgs/school_detail.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return School.objects.select_related("district")

    def extra_context(self, obj: Any) -> dict[str, Any]:
        return {
            "classes": selectors.school_class_summary(scope=self.scope, school_id=obj.pk),
            "can_manage": obj.pk in self.scope.school_ids,
        }
