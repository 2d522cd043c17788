"""The catalog stage's state: the demo city as loaded (regions, schools, organisations, accounts, experts and
teachers) and what the rounds have made so far. Submissions, panels and libraries each add their steps to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from kehou.demo import data
from kehou.demo.common import natural_key

from .specs import Spec


@dataclass
class Sub:
    index: int
    spec: Spec
    actor: Any
    school: Any  # the submitting school, or None
    submission: Any = None
    panel: Any = None
    teacher: Any = None  # a dossier's teacher


class LoaderBase:
    categories: dict[str, Any]  # set by the reference data, before the first round
    category_by_name: dict[str, Any]
    items: list[Any]  # the quality standards, by number

    def __init__(self, seed: int) -> None:
        from kehou.catalog.models import Category, QualityItem
        from kehou.orgs.models import Organisation, Region, School
        from kehou.people.models import ExpertProfile, TeacherProfile, User

        self.seed = seed
        self.Category, self.QualityItem = Category, QualityItem
        self.regions = {r.code: r for r in Region.objects.all()}
        self.city = self.regions[data.CITY_CODE]
        self.schools = {s.name: s for s in School.objects.select_related("district")}
        self.orgs = {o.name: o for o in Organisation.objects.select_related("district")}
        self.users: dict[str, Any] = {
            u.username: u
            for u in User.objects.filter(username__regex=r"^(city|district-\d+|school-\d+|teacher.*|expert.*)$")
        }
        self.experts = list(ExpertProfile.objects.select_related("user").order_by("pk"))
        for e in self.experts:  # one object per person, so that each keeps its cached scope and profile
            self.users[e.user.username] = e.user
            e.user.expert_profile = e
        self.expert_by_username = {e.user.username: e for e in self.experts}
        teachers = list(TeacherProfile.objects.select_related("user", "organisation").prefetch_related("schools"))
        teachers.sort(key=lambda t: natural_key(t.user.username))
        self.teachers = teachers
        for t in teachers:
            self.users[t.user.username] = t.user
            t.user.teacher_profile = t
        self.named_expert = self.expert_by_username.get("expert")
        self.subs: list[Sub] = []
        self.dossier_teachers: set[int] = set()
        self.adopted_on: dict[str, date] = {}
        self.standards: dict[tuple[int, int], Any] = {}
        self.policies: dict[int, Any] = {}
