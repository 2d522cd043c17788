"""The classes stage's state: the demo city and libraries as loaded, the planned classes (:class:`PlanClass`) and
the queue of selection events (:class:`Event`). Classes, windows and selection each add their steps to it."""

from __future__ import annotations

import heapq
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from kehou.demo.common import natural_key, seeded_rng

from .places import Places

# --- the plan of one school's classes ---------------------------------------------------------------------
P1, P2 = 0, 1  # the two periods of an afternoon: 16:00 and the one ending at 17:30


def period_times(period: int, minutes: int) -> tuple[time, time]:
    if period == P1:
        start = datetime.combine(date(2000, 1, 3), time(16, 0))
        return start.time(), (start + timedelta(minutes=minutes)).time()
    end = datetime.combine(date(2000, 1, 3), time(17, 30))
    return (end - timedelta(minutes=minutes)).time(), end.time()


@dataclass
class PlanClass:
    school: Any
    kind: str  # "course" or "care"
    name: str
    grades: tuple[int, int]
    teacher: Any
    room: str
    cells: list[tuple[int, int]]  # (weekday, period)
    minutes: int
    capacity: int
    price_fen: int
    pricing: str = "hour"
    entry: Any = None
    introduction: str = ""
    materials: tuple[str, int] | None = None
    role: str = ""  # "full", "nearly_full", "drawn" or ""
    demand: list[int] = field(default_factory=list)  # pupil ids that plan to select it
    obj: Any = None  # the CourseClass, once made

    def covers(self, grade: int) -> bool:
        return self.grades[0] <= grade <= self.grades[1]


@dataclass(order=True)
class Event:
    at: datetime
    seq: int
    kind: str = field(compare=False)
    args: tuple[Any, ...] = field(compare=False, default=())


class LoaderBase:
    waived: set[int]  # pupils whose waiver was approved, set with the waivers

    def __init__(self, seed: int, base: datetime, term: Any, first_date: date | None, places: Places) -> None:
        from kehou.catalog.models import LibraryEntry
        from kehou.catalog.selectors import usable_q
        from kehou.orgs.models import Region, School
        from kehou.people.models import Guardian, Pupil, TeacherProfile, User

        self.seed, self.base, self.term, self.first_date = seed, base, term, first_date
        self.places = places
        self.regions = {r.code: r for r in Region.objects.all()}
        self.schools = {s.name: s for s in School.objects.select_related("district")}
        self.users = {
            u.username: u for u in User.objects.filter(username__regex=r"^(city|district-\d+|school-\d+|parent)$")
        }
        teachers = list(TeacherProfile.objects.select_related("user").prefetch_related("schools"))
        teachers.sort(key=lambda t: natural_key(t.user.username))
        self.teachers = teachers
        self.teacher_schools = {t.pk: {s.pk for s in t.schools.all()} for t in teachers}
        in_library = LibraryEntry.objects.filter(level="school", item__kind="teacher").filter(usable_q())
        self.library_teachers = set(in_library.values_list("school_id", "item__teacher_id"))
        self.busy: dict[int, set[tuple[int, int]]] = defaultdict(set)  # teacher → (weekday, period)
        named = Pupil.objects.filter(guardians__user__username="parent").values_list("pk", "school_id", "grade")
        self.named_children = {pk for pk, _school, _grade in named}
        self.named_grades = {school: grade for _pk, school, grade in named}
        self.guardian: dict[int, Any] = {}
        for g in Guardian.objects.select_related("user").order_by("pk"):
            self.guardian.setdefault(g.pupil_id, g.user)
        self.classes: list[PlanClass] = []
        self.events: list[Event] = []
        self.seq = 0
        self.keys = 0
        self.seen_holds: set[int] = set()
        self.pupil_of: dict[int, int] = {}  # enrolment → pupil, as the replay sees places
        self.sweeps: set[datetime] = set()  # the times of the sweeps queued and not yet run
        self.refusals: Counter[str] = Counter()
        self.protected: set[int] = set()  # class ids whose places the story keeps (full and nearly full)
        self.suspended_class: PlanClass | None = None

    # --- helpers ---------------------------------------------------------------------------------------------
    def rng(self, label: str) -> random.Random:
        return seeded_rng(self.seed, f"enrolment:{label}")

    def admin(self, school: Any) -> Any:
        return self.users[f"school-{school.code}"]

    def push(self, at: datetime, kind: str, *args: Any) -> None:
        if at >= self.base:
            return  # after the load: it has not happened yet
        self.seq += 1
        heapq.heappush(self.events, Event(at, self.seq, kind, args))

    def key(self) -> str:
        self.keys += 1
        return f"demo-enrol-{self.keys:06d}"
