"""The demo course classes and selection: care fee standards, course classes from the school libraries, basic care,
selection windows (open now, staggered, closed, a drawn lottery), hardship waivers, and the places of several
hundred pupils in every state (applied, waiting, held, confirmed, cancelled, expired).

Everything goes through the enrolment services (``care_standard_set``, ``class_create``, ``window_create``,
``windows_stagger``, ``waiver_request``, ``waiver_decide``, ``enrolment_select``, ``enrolment_confirm``,
``enrolment_cancel``, ``holds_expire``, ``lottery_draw``) and one catalog service (``library_set_status``, to
suspend a course upstream after classes were made from it), acting as the demo accounts: school administrators
make classes and windows, guardians select, confirm and cancel (through paid orders and refunds when the payments
demo is loaded with the classes: :class:`Places`), the district bureaus stagger windows and approve waivers.

Deterministic: every choice comes from a generator seeded with the demo seed and a fixed label; the lotteries are
drawn with seeds derived from the demo seed (:func:`lottery_seed`). Times are fixed offsets from the load time
(``base``, the load time to the minute), because a window has to be open *now*: the first-come windows of four
东湖区 schools (among them the named ``parent``'s two children's schools) opened an hour before the load and close
two weeks after it; 西湖区's opened two days before, 红谷滩区's one day before; 南昌县's closed two days before;
青云谱区's are staggered by the bureau and open two days after; 南昌市第二十八中学 ran a lottery in every grade
that closed fifteen hours before the load and was drawn at the close. Offsets are not rounded, so every load makes
the same rows with the same times relative to ``base`` (:func:`enrolment_digest` compares them); only the dates of
the sessions follow the calendar from the day of the load. The selections replay as events in time order (a parent
selects, pays within the hold or not, cancels; the tick expires holds and promotes the waitlist), each through the
services with its own ``now``; nothing is dated after ``base``.

The named ``parent``'s children have no place, so that the walk-through in the README starts clean. In each of their
schools one class open to the child's grade is full with a waitlist and another, on other days, nearly full: their
pupils pay at once, so the counts stay as they are after the load (the tick only expires unpaid holds). Where the
library offers the child's grade fewer than three courses (in a smaller city, with other children), the popular
ones run a second class.

The term is the current one (:func:`kehou.orgs.selectors.current_term`); the classes start on the Monday after the
last window closes, or at the start of the next term when less than two weeks of the current one would be left.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction

from kehou.core import audit
from kehou.core.errors import Conflict, KehouError

from . import data
from .build import TZ, DemoError, LoadResult, _digest, _natural, _rng, demo_state

LOADED_ACTION = "demo.enrolment_loaded"

# --- reference data -------------------------------------------------------------------------------------
# Basic care (基础托管) ceilings in yuan: (per day, per month). 南昌县 is stricter than the city.
CARE_STANDARDS: tuple[tuple[str, int, int], ...] = ((data.CITY_CODE, 20, 300), ("360121", 15, 240))

# The schools that offer classes, and how selection runs there (see the module docstring).
OPEN = "open"  # first come, opened an hour ago, closes in two weeks
DAYS = "days"  # first come, opened two days ago
DAY = "day"  # first come, opened yesterday
CLOSED = "closed"  # first come, closed two days ago
LOTTERY = "lottery"  # lottery for every grade, closed yesterday, drawn
STAGGERED = "staggered"  # the district bureau staggers the windows; they open in two days
SCHOOLS: tuple[tuple[str, str], ...] = (
    ("东湖区邮政路小学", OPEN),
    ("南昌市第十九中学", OPEN),
    ("南昌市育新学校", OPEN),
    ("东湖区阳明路小学", OPEN),
    ("西湖区站前路小学", DAYS),
    ("西湖区桃花小学", DAYS),
    ("南昌市实验中学", DAYS),
    ("红谷滩区沙井中心小学", DAY),
    ("南昌市外国语学校", DAY),
    ("南昌县莲塘第二小学", CLOSED),
    ("南昌县向塘中心小学", CLOSED),
    ("南昌市第二十八中学", LOTTERY),
)
STAGGERED_DISTRICT = "360104"  # 青云谱区: every joined school gets classes and a staggered window
SUSPENDING_DISTRICT = "360103"  # 西湖区 suspends one of its library's courses after classes were made from it
SUSPENSION_REASON = "授课机构场地消防复查未通过，暂停开课，整改完成后恢复。"
COURSES_PER_SCHOOL = 6
LOTTERY_COURSES_PER_GRADE = 3
PARTICIPATION = {OPEN: 0.7, DAYS: 0.82, DAY: 0.75, CLOSED: 0.88, LOTTERY: 0.88}
CARE_SHARE = 0.15  # of the pupils who take part, how many choose basic care (every afternoon) instead of courses
GRADE_NAMES = dict(
    enumerate(("一年级", "二年级", "三年级", "四年级", "五年级", "六年级", "初一", "初二", "初三"), start=1)
)

# Rooms by category code; a number is added where a school has several of a kind.
ROOMS: dict[str, tuple[str, ...]] = {
    "science": ("科技楼201", "科技楼202", "计算机教室", "科学实验室"),
    "arts": ("音乐教室", "美术教室", "舞蹈房", "综合楼302"),
    "sports": ("操场", "室内体育馆", "篮球场"),
    "humanities": ("书法教室", "阅览室", "多功能厅", "综合楼301"),
    "labour": ("劳动实践室", "学校农场", "烹饪教室"),
    "psychology": ("心理辅导室", "团体活动室"),
}
# Rooms by what a course's name says (first match), before falling back on its category.
ROOMS_BY_NAME: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("编程", "机器人", "Scratch", "信息", "无人机", "3D"), ("计算机教室", "科技楼201", "科技楼202")),
    (("实验", "科学", "天文"), ("科学实验室", "科技楼203")),
    (("烹饪", "厨"), ("烹饪教室",)),
    (("农场", "种植", "园艺", "田园", "劳动"), ("学校农场", "劳动实践室")),
    (("篮球",), ("篮球场", "室内体育馆")),
    (("足球", "田径"), ("操场",)),
    (("跆拳道", "武术", "体操"), ("室内体育馆", "体操房")),
    (("围棋", "象棋", "棋"), ("棋艺室", "阅览室")),
    (("戏剧", "赣剧"), ("多功能厅", "舞蹈房")),
    (("舞",), ("舞蹈房",)),
    (("合唱", "琴", "笛", "葫芦丝", "尤克里里", "弹唱", "合奏", "器乐", "音乐"), ("音乐教室", "综合楼302")),
    (("画", "素描", "剪纸", "陶", "美术"), ("美术教室", "综合楼303")),
    (("书法", "篆刻"), ("书法教室", "综合楼301")),
    (("模拟联合国", "辩论", "阅读", "绘本", "邮票"), ("阅览室", "多功能厅")),
    (("心理", "情绪", "团体辅导", "成长"), ("心理辅导室", "团体活动室")),
)
CARE_ROOMS = ("教学楼一楼托管教室", "教学楼二楼托管教室", "综合楼101")
WAIVER_REASONS = (
    "家庭经济困难，父母一方因病长期无法工作，已纳入城市低保。",
    "建档立卡脱贫家庭子女，由班主任家访核实。",
    "父亲去年因工伤致残，家庭收入骤减，社区出具困难证明。",
)


def lottery_seed(seed: int, school_code: str, grade: int) -> str:
    """The published seed of a demo lottery window: derived from the demo seed, the school and the grade."""
    return hashlib.sha256(f"{seed}:enrolment:lottery:{school_code}:{grade}".encode()).hexdigest()[:32]


def load_base(now: datetime) -> datetime:
    """The load time to the minute, in Beijing time: every time of the stage is relative to it."""
    return now.astimezone(TZ).replace(second=0, microsecond=0)


@dataclass(frozen=True)
class WindowPlan:
    opens_at: datetime
    closes_at: datetime
    mode: str
    hold_minutes: int = 15


def window_times(kind: str, base: datetime) -> WindowPlan:
    """The times of a school's windows, as fixed offsets from ``base`` (not rounded: then every selection falls at
    the same offset in every load, and the counts are the same whenever it runs)."""
    if kind == OPEN:
        return WindowPlan(base - timedelta(hours=1), base + timedelta(days=14) - timedelta(hours=1), "first_come")
    if kind == DAYS:
        return WindowPlan(base - timedelta(days=2), base + timedelta(days=5), "first_come")
    if kind == DAY:
        return WindowPlan(base - timedelta(days=1), base + timedelta(days=6), "first_come")
    if kind == CLOSED:
        return WindowPlan(base - timedelta(days=9), base - timedelta(days=2), "first_come")
    if kind == LOTTERY:
        closes = base - timedelta(hours=15)
        return WindowPlan(closes - timedelta(days=5), closes, "lottery", hold_minutes=60)
    raise ValueError(kind)


def stagger_first_opens(base: datetime) -> datetime:
    return base + timedelta(days=2)


def choose_term(today: date) -> tuple[Any, date | None] | None:
    """The term the classes belong to (the current one, as the pages show it, or the next when fewer than two
    weeks of it would be left after selection) and the day the classes start (None: the start of the term)."""
    from kehou.orgs.models import Term
    from kehou.orgs.selectors import current_term

    term = current_term(today=today)
    if term is None:
        return None
    start = today + timedelta(days=15)
    start += timedelta(days=(7 - start.weekday()) % 7)  # the Monday after every window has closed
    if start > term.ends_on - timedelta(days=14):
        following = Term.objects.filter(starts_on__gt=today).order_by("starts_on").first()
        if following is None:
            return None
        return following, None
    return term, start if start > term.starts_on else None


# --- loading --------------------------------------------------------------------------------------------
def enrolment_state() -> str:
    """``"loaded"`` (the demo classes were loaded), ``"absent"`` (no classes, windows or care standards) or
    ``"partial"`` (the enrolment tables hold data the demo did not load)."""
    from kehou.core.models import AuditEntry
    from kehou.enrolment.models import CareFeeStandard, CourseClass, HardshipWaiver, SelectionWindow

    if AuditEntry.objects.filter(action=LOADED_ACTION).exists():
        return "loaded"
    if (
        CourseClass.objects.exists()
        or SelectionWindow.objects.exists()
        or CareFeeStandard.objects.exists()
        or HardshipWaiver.objects.exists()
    ):
        return "partial"
    return "absent"


class Places:
    """How the replay confirms and cancels a place. By default straight through the enrolment services (the classes
    loaded without payments); :class:`kehou.demo.payments.DemoPayer` pays instead: an order, a simulator payment
    and its notification confirm the place, and a paid place is cancelled with its refund."""

    def begin(self, base: datetime) -> None:
        """Called once before the first selection (``base`` is the load time)."""

    def confirm(self, *, enrolment_id: int, now: datetime, actor: Any) -> Any:
        from kehou.enrolment.services.selection import enrolment_confirm

        return enrolment_confirm(enrolment_id=enrolment_id, now=now, actor=actor)

    def cancel(self, *, enrolment: Any, now: datetime, actor: Any, reason: str) -> None:
        from kehou.enrolment.services.selection import enrolment_cancel

        enrolment_cancel(actor=actor, enrolment=enrolment, now=now, reason=reason)


def build_enrolment(*, seed: int = data.SEED, now: datetime, places: Places | None = None) -> LoadResult:
    """Load the demo classes and selection into the demo city and libraries, unless they are there. ``places``
    decides how places are confirmed and cancelled (default: directly, without payments)."""
    from .catalog import catalog_state

    if demo_state() != "loaded" or catalog_state() != "loaded":
        raise DemoError("Load the demo city and its libraries first: the classes come from the school libraries.")
    state = enrolment_state()
    if state == "loaded":
        return LoadResult(False, state, {})
    if state == "partial":
        raise DemoError(
            "The enrolment tables already hold classes, windows or fee standards that the demo did not load; the "
            "demo classes are loaded only into empty ones. Start from a fresh database, or load with --no-classes."
        )
    base = load_base(now)
    chosen = choose_term(base.date())
    if chosen is None:
        return LoadResult(False, "no_term", {})
    term, first_date = chosen
    try:
        with transaction.atomic():
            counts = _Loader(seed, base, term, first_date, places or Places()).run()
            audit.record(
                actor=None,
                action=LOADED_ACTION,
                object_type="demo.enrolment",
                object_id=data.CITY_CODE,
                object_repr=f"{data.CITY_NAME} (demo classes and selection)",
                after={"seed": seed, "base": base.isoformat(), "digest": enrolment_digest(base), **counts},
                now=now,
            )
    except KehouError as exc:
        if isinstance(exc, DemoError):
            raise
        raise DemoError(f"The demo classes could not be loaded: {exc.message} ({exc.code}, {exc.fields})") from exc
    return LoadResult(True, state, counts)


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
class _Event:
    at: datetime
    seq: int
    kind: str = field(compare=False)
    args: tuple[Any, ...] = field(compare=False, default=())


class _Loader:
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
        teachers.sort(key=lambda t: _natural(t.user.username))
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
        self.events: list[_Event] = []
        self.seq = 0
        self.keys = 0
        self.seen_holds: set[int] = set()
        self.refusals: Counter[str] = Counter()
        self.protected: set[int] = set()  # class ids whose places the story keeps (full and nearly full)
        self.suspended_class: PlanClass | None = None

    # --- helpers ---------------------------------------------------------------------------------------------
    def rng(self, label: str) -> random.Random:
        return _rng(self.seed, f"enrolment:{label}")

    def admin(self, school: Any) -> Any:
        return self.users[f"school-{school.code}"]

    def push(self, at: datetime, kind: str, *args: Any) -> None:
        if at >= self.base:
            return  # after the load: it has not happened yet
        self.seq += 1
        heapq.heappush(self.events, _Event(at, self.seq, kind, args))

    def key(self) -> str:
        self.keys += 1
        return f"demo-enrol-{self.keys:06d}"

    # --- the run -------------------------------------------------------------------------------------------
    def run(self) -> dict[str, int]:
        self.care_standards()
        plans = self.plan_schools()
        self.plan_demand(plans)
        self.make_classes()
        windows = self.make_windows(plans)
        self.waivers(plans)
        self.schedule(plans, windows)
        self.replay()
        return enrolment_counts(self.base)

    def care_standards(self) -> None:
        from kehou.enrolment.services.classes import care_standard_set

        at = self.base - timedelta(days=16)
        for i, (code, per_day, per_month) in enumerate(CARE_STANDARDS):
            actor = self.users["city" if code == data.CITY_CODE else f"district-{code}"]
            care_standard_set(
                actor=actor,
                region=self.regions[code],
                max_per_day_fen=per_day * 100,
                max_per_month_fen=per_month * 100,
                now=at + timedelta(hours=i * 26),
            )

    # --- classes ---------------------------------------------------------------------------------------------
    def plan_schools(self) -> list[tuple[Any, str]]:
        plans = [(self.schools[name], kind) for name, kind in SCHOOLS]
        staggered = sorted(
            (s for s in self.schools.values() if s.district.code == STAGGERED_DISTRICT and s.joined_at),
            key=lambda s: s.code,
        )
        plans += [(s, STAGGERED) for s in staggered]
        for school, kind in plans:
            self.plan_school(school, kind)
        self.designate()
        return plans

    def eligible_teachers(self, school: Any) -> list[Any]:
        return [
            t
            for t in self.teachers
            if school.pk in self.teacher_schools[t.pk]
            and (t.kind == "staff" or (school.pk, t.pk) in self.library_teachers)
        ]

    def plan_school(self, school: Any, kind: str) -> None:
        from kehou.catalog.selectors import usable_entries
        from kehou.catalog.services.submissions import fee_standard_for
        from kehou.enrolment.services.classes import care_standard_for

        from .catalog import SUBJECT_CATEGORY

        rng = self.rng(f"school:{school.code}")
        teachers = self.eligible_teachers(school)
        if not teachers:
            return
        rooms_used: set[tuple[str, int, int]] = set()
        entries = sorted(
            usable_entries(school=school)
            .filter(item__kind="course")
            .select_related("item__version", "item__category")
            .prefetch_related("item__version__teachers"),
            key=lambda e: e.item.name,
        )
        named_school = school.name in data.NAMED_PARENT_SCHOOLS
        grades = list(school.grade_range)
        offers: list[tuple[Any, tuple[int, int]]] = []  # (entry, grades)
        for entry in entries:
            wanted = [g for g in (entry.item.version.grades or grades) if g in school.grade_range]
            if wanted:
                offers.append((entry, (min(wanted), max(wanted))))
        if kind == LOTTERY:  # one class per grade, so that each class is drawn in one window
            per_grade = []
            for g in grades:
                fit = [(e, (g, g)) for e, span in offers if span[0] <= g <= span[1]]
                per_grade += rng.sample(fit, min(LOTTERY_COURSES_PER_GRADE, len(fit)))
            offers = per_grade
        elif not named_school and len(offers) > COURSES_PER_SCHOOL:
            offers = sorted(rng.sample(offers, COURSES_PER_SCHOOL), key=lambda o: o[0].item.name)
        child_grade = self.named_grades.get(school.pk)
        sections: dict[int, int] = {}  # offer index → section number, for a course that runs a second class
        if child_grade is not None:
            # The named child needs at least three courses to choose from (one full, one nearly full, one free):
            # where the library has fewer for the grade, the popular ones run a second class.
            covering = [o for o in offers if o[1][0] <= child_grade <= o[1][1]]
            for n in range(max(0, 3 - len(covering)) if covering else 0):
                sections[len(offers)] = 2 + n // len(covering)
                offers.append(covering[n % len(covering)])
        child_days: set[int] = set()  # days already taken by courses the named child could choose

        def subject_fit(teacher: Any, category: str) -> bool:
            subjects = teacher.subjects.replace("，", "、").split("、")
            return any(SUBJECT_CATEGORY.get(s.strip()) == category for s in subjects)

        # Basic care first: one teacher every afternoon.
        own_teachers = {t.pk for entry, _span in offers for t in entry.item.version.teachers.all()}
        care_teacher = min(
            teachers,
            key=lambda t: (t.pk in own_teachers, t.kind != "staff", len(self.busy[t.pk]), _natural(t.user.username)),
        )
        if not self.busy[care_teacher.pk]:
            care = care_standard_for(school.district)
            assert care is not None
            per_month = rng.random() < 0.5
            if per_month:
                price = care.max_per_month_fen - rng.choice((0, 20, 40, 60)) * 100
            else:
                price = care.max_per_day_fen - rng.choice((0, 2, 3, 5)) * 100
            cells = [(d, p) for d in range(5) for p in (P1, P2)]
            self.busy[care_teacher.pk].update(cells)
            self.classes.append(
                PlanClass(
                    school=school,
                    kind="care",
                    name="基础托管（作业辅导）",
                    grades=(grades[0], grades[-1]),
                    teacher=care_teacher,
                    room=rng.choice(CARE_ROOMS),
                    cells=[(d, P1) for d in range(5)],
                    minutes=90,
                    capacity=rng.randint(40, 45),
                    price_fen=price,
                    pricing="month" if per_month else "day",
                    introduction="放学后在校看护，完成书面作业，教师答疑；不讲授新课。",
                )
            )
        for index, (entry, span) in enumerate(offers):
            item = entry.item
            version = item.version
            category = item.category.code
            own = {t.pk for t in version.teachers.all()}
            ranked = sorted(
                teachers,
                key=lambda t: (
                    t.pk not in own,
                    not subject_fit(t, category),
                    len(self.busy[t.pk]),
                    _natural(t.user.username),
                ),
            )
            weekly = 2 if rng.random() < 0.3 else 1
            placed = None
            for teacher in ranked:
                days = list(range(5))
                rng.shuffle(days)
                if child_grade is not None and span[0] <= child_grade <= span[1]:
                    days.sort(key=lambda d: d in child_days)  # the child's courses on different days, if possible
                periods = [P1, P2] if rng.random() < 0.5 else [P2, P1]
                for day in days:
                    for period in periods:
                        cells = [(day, period)] + ([((day + 2) % 5, period)] if weekly == 2 else [])
                        if any(c in self.busy[teacher.pk] for c in cells):
                            continue
                        placed = (teacher, cells)
                        break
                    if placed:
                        break
                if placed:
                    break
            if placed is None:
                continue
            teacher, cells = placed
            self.busy[teacher.pk].update(cells)
            if child_grade is not None and span[0] <= child_grade <= span[1]:
                child_days.update(d for d, _p in cells)
            room = self.room(item.name, category, cells, rooms_used)
            standard = fee_standard_for(school.district, item.category)
            assert standard is not None
            fee = version.fee_per_hour_fen or standard.max_fee_fen
            fee = max(standard.min_fee_fen, min(standard.max_fee_fen, fee)) // 100 * 100
            materials = None
            if version.materials_description and version.materials_price_fen:
                materials = (version.materials_description[:60], version.materials_price_fen)
            name = item.name if kind != LOTTERY else f"{item.name}（{GRADE_NAMES[span[0]]}）"
            if index in sections:
                name = f"{item.name}（{'一二三四五'[sections[index] - 1]}班）"
            self.classes.append(
                PlanClass(
                    school=school,
                    kind="course",
                    name=name[:80],
                    grades=span,
                    teacher=teacher,
                    room=room,
                    cells=sorted(cells),
                    minutes=version.minutes_per_hour or 45,
                    capacity=rng.randint(20, 45),
                    price_fen=fee,
                    entry=entry,
                    introduction=version.introduction,
                    materials=materials,
                )
            )

    def room(self, name: str, category: str, cells: list[tuple[int, int]], used: set) -> str:
        """A room that suits the course and is free at its times (numbered general rooms as the last resort)."""
        by_name = next((rooms for words, rooms in ROOMS_BY_NAME if any(w in name for w in words)), ())
        options = list(by_name) + [r for r in ROOMS.get(category, ()) if r not in by_name]
        for name in options + [f"综合楼{200 + n}" for n in range(1, 20)]:
            if all((name, *c) not in used for c in cells):
                used.update((name, *c) for c in cells)
                return name
        return options[0]

    def designate(self) -> None:
        """In each named child's school: a class open to the child's grade that will be full with a waitlist, and
        another (at other times) that will be nearly full. In the lottery school: one class per grade drawn."""
        from kehou.people.models import Pupil

        for child in Pupil.objects.filter(pk__in=self.named_children).select_related("school").order_by("pk"):
            open_to = [
                c
                for c in self.classes
                if c.school.pk == child.school_id and c.kind == "course" and c.covers(child.grade)
            ]
            pair = next(
                (
                    (a, b)
                    for a in open_to
                    for b in open_to
                    if a is not b and not {d for d, _p in a.cells} & {d for d, _p in b.cells}
                ),
                None,
            )
            if pair is None:
                raise DemoError(f"No two classes at different times for the named parent's child at {child.school}.")
            pair[0].role, pair[1].role = "full", "nearly_full"
        lottery = {self.schools[name].pk for name, kind in SCHOOLS if kind == LOTTERY}
        first_of_grade: dict[tuple[int, int], PlanClass] = {}
        for c in self.classes:
            if c.school.pk in lottery and c.kind == "course":
                first_of_grade.setdefault((c.school.pk, c.grades[0]), c)
        for c in first_of_grade.values():
            c.role = "drawn"

    # --- who wants what --------------------------------------------------------------------------------------
    def plan_demand(self, plans: list[tuple[Any, str]]) -> None:
        from kehou.people.models import Pupil

        for school, kind in plans:
            if kind == STAGGERED:
                continue
            rng = self.rng(f"demand:{school.code}")
            offered = [c for c in self.classes if c.school.pk == school.pk]
            pupils = Pupil.objects.filter(school=school).exclude(pk__in=self.named_children).order_by("student_number")
            pupils_here = [(pk, grade) for pk, grade in pupils.values_list("pk", "grade") if pk in self.guardian]
            busy: dict[int, set[tuple[int, int]]] = {}  # pupil → (weekday, period) of the courses planned
            for pk, grade in pupils_here:
                if rng.random() >= PARTICIPATION[kind]:
                    continue
                care = [c for c in offered if c.kind == "care" and c.covers(grade)]
                courses = [c for c in offered if c.kind == "course" and c.covers(grade)]
                if care and (rng.random() < CARE_SHARE or not courses):
                    care[0].demand.append(pk)
                    continue
                wanted = 2 if rng.random() < 0.45 else 1
                taken = busy.setdefault(pk, set())
                pool = list(courses)
                while pool and wanted:
                    weights = [{"full": 5, "nearly_full": 3, "drawn": 6}.get(c.role, 1) for c in pool]
                    choice = rng.choices(pool, weights=weights)[0]
                    pool.remove(choice)
                    if taken & set(choice.cells):
                        continue
                    taken.update(choice.cells)
                    choice.demand.append(pk)
                    wanted -= 1
            # In a small city the story's classes may draw too few: pupils who have room for one more join them.
            for c in offered:
                least = {"full": 4, "nearly_full": 2, "drawn": 4}.get(c.role, 0)
                for pk, grade in pupils_here:
                    if len(c.demand) >= least:
                        break
                    taken = busy.get(pk, set())
                    if pk in c.demand or not c.covers(grade) or len(taken) >= 2 or taken & set(c.cells):
                        continue
                    if any(pk in other.demand for other in offered if other.kind == "care"):
                        continue
                    busy.setdefault(pk, set()).update(c.cells)
                    c.demand.append(pk)
        for c in self.classes:
            n = len(c.demand)
            if c.role == "full":
                c.capacity = max(1, n - min(5, max(2, n // 5)))
            elif c.role == "nearly_full":
                c.capacity = n + 2
            elif c.role == "drawn":
                c.capacity = max(1, n - max(2, n // 3))

    def make_classes(self) -> None:
        from kehou.enrolment.services.classes import Slot, class_create

        at = self.base - timedelta(days=14)
        for i, c in enumerate(self.classes):
            slots = [Slot(d, *period_times(p, c.minutes)) for d, p in c.cells]
            if c.kind == "care":
                slots = [Slot(d, time(16, 0), time(17, 30)) for d in range(5)]
            materials = c.materials or ("", 0)
            c.obj = class_create(
                actor=self.admin(c.school),
                school=c.school,
                term=self.term,
                teacher=c.teacher,
                room=c.room,
                capacity=c.capacity,
                grade_min=c.grades[0],
                grade_max=c.grades[1],
                unit_price_fen=c.price_fen,
                slots=slots,
                now=at + timedelta(minutes=7 * i),
                entry=c.entry,
                kind=c.kind,
                pricing=c.pricing if c.kind == "care" else None,
                name=c.name,
                introduction=c.introduction,
                materials_name=materials[0],
                materials_fee_fen=materials[1],
                first_date=self.first_date,
            )
            if c.role in ("full", "nearly_full"):
                self.protected.add(c.obj.pk)

    # --- windows and waivers --------------------------------------------------------------------------------
    def make_windows(self, plans: list[tuple[Any, str]]) -> dict[int, Any]:
        """Windows per school and grade; returns {school id: WindowPlan} for the schools that select now."""
        from kehou.enrolment.services.windows import window_create, windows_stagger

        created_at = self.base - timedelta(days=10)
        times: dict[int, Any] = {}
        for school, kind in plans:
            if kind == STAGGERED:
                continue
            plan = window_times(kind, self.base)
            times[school.pk] = plan
            for grade in school.grade_range:
                window_create(
                    actor=self.admin(school),
                    school=school,
                    term=self.term,
                    grade=grade,
                    opens_at=plan.opens_at,
                    closes_at=plan.closes_at,
                    now=created_at,
                    mode=plan.mode,
                    max_classes=2,
                    hold_minutes=plan.hold_minutes,
                    publish=True,
                )
        district = self.regions[STAGGERED_DISTRICT]
        windows_stagger(
            actor=self.users[f"district-{district.code}"],
            district=district,
            term=self.term,
            first_opens_at=stagger_first_opens(self.base),
            step_minutes=30,
            length_minutes=6 * 24 * 60,
            now=self.base - timedelta(days=1),
        )
        return times

    def waivers(self, plans: list[tuple[Any, str]]) -> None:
        """Two approved waivers (pupils who then select at no fee) in 东湖区, one pending in 西湖区."""
        from kehou.enrolment.services.waivers import waiver_decide, waiver_request
        from kehou.people.models import Pupil

        self.waived: set[int] = set()
        chosen: list[tuple[Any, str]] = [
            (s, k) for s, k in plans if k == OPEN and s.name not in data.NAMED_PARENT_SCHOOLS
        ]
        chosen = [*chosen[:2], next((s, k) for s, k in plans if k == DAYS)]
        for n, (school, kind) in enumerate(chosen):
            candidates = sorted(
                {
                    pk
                    for c in self.classes
                    if c.school.pk == school.pk and c.kind == "course" and not c.role
                    for pk in c.demand
                }
            )
            if not candidates:
                continue
            pupil = Pupil.objects.get(pk=self.rng(f"waiver:{school.code}").choice(candidates))
            pending = kind == DAYS
            at = self.base - (timedelta(hours=20) if pending else timedelta(days=12))
            waiver = waiver_request(
                actor=self.admin(school), pupil=pupil, term=self.term, reason=WAIVER_REASONS[n], now=at
            )
            if not pending:
                waiver_decide(
                    actor=self.users[f"district-{school.district.code}"],
                    waiver=waiver,
                    approve=True,
                    now=at + timedelta(days=1, hours=2),
                )
                self.waived.add(pupil.pk)

    # --- the selections, as events in time order ------------------------------------------------------------
    def schedule(self, plans: list[tuple[Any, str]], windows: dict[int, WindowPlan]) -> None:
        for school, kind in plans:
            if kind == STAGGERED:
                continue
            plan = windows[school.pk]
            rng = self.rng(f"times:{school.code}")
            end = min(plan.closes_at, self.base) - timedelta(minutes=1)
            span = (end - plan.opens_at).total_seconds()
            picks: dict[int, list[PlanClass]] = defaultdict(list)
            for c in self.classes:
                if c.school.pk == school.pk:
                    for pk in c.demand:
                        picks[pk].append(c)
            for pk in sorted(picks):
                if pk in self.waived or any(c.role in ("full", "nearly_full") for c in picks[pk]):
                    offset = rng.uniform(30, min(span, 20 * 60))  # the keen ones: in the first twenty minutes
                elif rng.random() < 0.55:
                    offset = rng.uniform(30, min(span, 15 * 60 if kind == OPEN else 3 * 3600))  # the rush
                else:
                    offset = rng.uniform(30, span)
                at = plan.opens_at + timedelta(seconds=round(offset))
                for i, c in enumerate(picks[pk]):
                    self.push(at + timedelta(seconds=40 * i), "select", pk, c, False)
            if kind == LOTTERY:
                for grade in school.grade_range:
                    self.push(plan.closes_at + timedelta(minutes=2), "draw", school, grade)
        suspend = [
            c
            for c in self.classes
            if c.school.district.code == SUSPENDING_DISTRICT
            and c.kind == "course"
            and not c.role
            and c.demand
            and c.entry.upstream is not None
            and c.entry.upstream.level == "district"
        ]
        if suspend:
            self.suspended_class = sorted(suspend, key=lambda c: (c.school.code, c.name))[0]
            self.push(self.base - timedelta(hours=5), "suspend", self.suspended_class)

    def replay(self) -> None:
        from kehou.enrolment.models import Enrolment
        from kehou.enrolment.services.selection import enrolment_select, holds_expire, lottery_draw

        rng = self.rng("fates")
        self.places.begin(self.base)
        while self.events:
            event = heapq.heappop(self.events)
            t = event.at
            if event.kind == "select":
                pk, c, join = event.args
                actor = self.guardian[pk]
                try:
                    result = enrolment_select(
                        actor=actor, pupil_id=pk, class_id=c.obj.pk, request_key=self.key(), now=t, join_waitlist=join
                    )
                except KehouError as exc:
                    self.refusals[exc.code] += 1
                    if exc.code == "class_full" and (c.role == "full" or rng.random() < 0.6):
                        self.push(t + timedelta(seconds=rng.randint(10, 60)), "select", pk, c, True)
                    continue
                row = result.enrolment
                if row.status == Enrolment.Status.HELD:
                    self.fate(rng, row, t, protected=c.role in ("full", "nearly_full"))
                elif row.status == Enrolment.Status.WAITING and c.role != "full" and rng.random() < 0.12:
                    self.push(t + timedelta(minutes=rng.randint(10, 24 * 60)), "cancel", row.pk, "不再排队")
            elif event.kind == "confirm":
                (enrolment_id,) = event.args
                try:
                    row = self.places.confirm(enrolment_id=enrolment_id, now=t, actor=self.actor_of(enrolment_id))
                except Conflict as exc:
                    self.refusals[exc.code] += 1
                    continue
                if row.course_class_id not in self.protected and rng.random() < 0.05:
                    self.push(t + timedelta(minutes=rng.randint(60, 3 * 24 * 60)), "cancel", row.pk, "时间冲突，退课")
            elif event.kind == "cancel":
                enrolment_id, reason = event.args
                row = Enrolment.objects.select_related("course_class__school").get(pk=enrolment_id)
                self.places.cancel(enrolment=row, now=t, actor=self.actor_of(enrolment_id), reason=reason)
                self.promoted(rng, t)
            elif event.kind == "sweep":
                if holds_expire(now=t):
                    self.promoted(rng, t)
            elif event.kind == "draw":
                school, grade = event.args
                from kehou.enrolment.models import SelectionWindow

                window = SelectionWindow.objects.select_related("school").get(
                    school=school, term=self.term, grade=grade, mode="lottery"
                )
                lottery_draw(window=window, now=t, seed=lottery_seed(self.seed, school.code, grade))
                for row in Enrolment.objects.filter(window=window, status=Enrolment.Status.HELD).order_by("pk"):
                    self.seen_holds.add(row.pk)
                    self.lottery_fate(rng, row, t)
            elif event.kind == "suspend":
                (c,) = event.args
                from kehou.catalog.services.libraries import library_set_status

                upstream = c.entry.upstream
                library_set_status(
                    actor=self.users[f"district-{c.school.district.code}"],
                    entry=upstream,
                    status="suspended",
                    reason=SUSPENSION_REASON,
                    now=t,
                )
        # A last sweep just before the load: no hold past its time is left behind.
        holds_expire(now=self.base - timedelta(seconds=1))

    def actor_of(self, enrolment_id: int) -> Any:
        from kehou.enrolment.models import Enrolment

        return self.guardian[Enrolment.objects.values_list("pupil_id", flat=True).get(pk=enrolment_id)]

    def fate(self, rng: random.Random, row: Any, t: datetime, *, protected: bool = False) -> None:
        """A held seat: the parent pays within the hold, cancels, or lets it expire."""
        self.seen_holds.add(row.pk)
        expires = row.hold_expires_at
        hold = (expires - t).total_seconds()
        roll = rng.random()
        if protected or roll < 0.8:
            self.push(t + timedelta(seconds=rng.randint(60, int(hold * 0.8))), "confirm", row.pk)
        elif roll < 0.85:
            self.push(t + timedelta(seconds=rng.randint(60, int(hold * 0.7))), "cancel", row.pk, "家长取消")
        self.push(min(expires + timedelta(minutes=1), self.base - timedelta(seconds=1)), "sweep")

    def lottery_fate(self, rng: random.Random, row: Any, t: datetime) -> None:
        roll = rng.random()
        if roll < 0.6:
            self.push(t + timedelta(minutes=rng.randint(20, 14 * 60)), "confirm", row.pk)
        elif roll < 0.68:
            self.push(t + timedelta(minutes=rng.randint(30, 12 * 60)), "cancel", row.pk, "摇中后放弃")

    def promoted(self, rng: random.Random, t: datetime) -> None:
        """Holds handed to the head of a waitlist at ``t`` (a cancellation or an expiry freed a seat)."""
        from kehou.enrolment.models import Enrolment

        rows = Enrolment.objects.filter(status=Enrolment.Status.HELD, status_changed_at=t, queued_at__isnull=False)
        for row in rows.exclude(pk__in=self.seen_holds).order_by("pk"):
            self.fate(rng, row, t)


# --- reading back ------------------------------------------------------------------------------------------
def enrolment_counts(base: datetime) -> dict[str, int]:
    from kehou.enrolment.models import (
        CareFeeStandard,
        ClassSession,
        CourseClass,
        Enrolment,
        HardshipWaiver,
        LotteryDraw,
        SelectionWindow,
    )
    from kehou.notify.models import Notification

    counts = {
        "care_fee_standards": CareFeeStandard.objects.count(),
        "schools_with_classes": CourseClass.objects.values("school").distinct().count(),
        "course_classes": CourseClass.objects.filter(kind="course").count(),
        "care_classes": CourseClass.objects.filter(kind="care").count(),
        "class_sessions": ClassSession.objects.count(),
        "classes_full": sum(1 for c in CourseClass.objects.all() if c.taken >= c.capacity),
        "classes_flagged": CourseClass.objects.filter(kind="course").exclude(pk__in=_usable_class_ids()).count(),
        "windows": SelectionWindow.objects.count(),
        "windows_open": SelectionWindow.objects.filter(opens_at__lte=base, closes_at__gt=base).count(),
        "windows_upcoming": SelectionWindow.objects.filter(opens_at__gt=base).count(),
        "windows_lottery": SelectionWindow.objects.filter(mode="lottery").count(),
        "lottery_draws": LotteryDraw.objects.count(),
        "enrolments": Enrolment.objects.count(),
    }
    for status, n in sorted(Counter(Enrolment.objects.values_list("status", flat=True)).items()):
        counts[f"enrolments_{status}"] = n
    counts["pupils_with_places"] = Enrolment.objects.values("pupil").distinct().count()
    counts["enrolments_waived"] = Enrolment.objects.filter(waived=True).count()
    for status, n in sorted(Counter(HardshipWaiver.objects.values_list("status", flat=True)).items()):
        counts[f"waivers_{status}"] = n
    counts["notifications"] = Notification.objects.count()
    return counts


def _usable_class_ids() -> list[int]:
    from kehou.catalog.selectors import usable_q
    from kehou.enrolment.models import CourseClass

    return list(CourseClass.objects.filter(kind="course").filter(usable_q("entry__")).values_list("pk", flat=True))


def enrolment_digest(base: datetime) -> str:
    """A fingerprint of the classes and selection (ids replaced by codes, names and student numbers; times as
    seconds from ``base``), for telling that two loads made the same."""
    from kehou.enrolment.models import (
        CareFeeStandard,
        ClassSlot,
        CourseClass,
        Enrolment,
        HardshipWaiver,
        LotteryDraw,
        SelectionWindow,
    )
    from kehou.people.models import Pupil

    def rel(at: datetime | None) -> str:
        return "" if at is None else str(int((at - base).total_seconds()))

    number = dict(Pupil.objects.filter(enrolments__isnull=False).values_list("pk", "student_number").distinct())
    number.update(Pupil.objects.filter(hardship_waivers__isnull=False).values_list("pk", "student_number"))
    classes = {
        c.pk: f"{c.school.code}/{c.name}/{c.grade_min}-{c.grade_max}"
        for c in CourseClass.objects.select_related("school")
    }
    windows = {w.pk: f"{w.school.code}/{w.grade}" for w in SelectionWindow.objects.select_related("school")}
    draws = list(LotteryDraw.objects.all())
    for d in draws:
        number.update(Pupil.objects.filter(pk__in=d.applicants).values_list("pk", "student_number"))
    sections: dict[str, Iterable[Any]] = {
        "care": CareFeeStandard.objects.values_list("region__code", "max_per_day_fen", "max_per_month_fen"),
        "classes": [
            (
                classes[c.pk],
                c.kind,
                c.entry.item.name if c.entry else "",
                c.teacher.user.username,
                c.room,
                c.capacity,
                c.taken,
                c.pricing,
                c.unit_price_fen,
                c.session_count,
                c.fee_fen,
                c.materials_name,
                c.materials_fee_fen,
            )
            for c in CourseClass.objects.select_related("entry__item", "teacher__user")
        ],
        "slots": [
            (classes[s.course_class_id], s.weekday, s.starts_at.isoformat(), s.ends_at.isoformat())
            for s in ClassSlot.objects.all()
        ],
        "windows": [
            (windows[w.pk], w.mode, w.status, w.max_classes, w.hold_minutes, rel(w.opens_at), rel(w.closes_at))
            for w in SelectionWindow.objects.all()
        ],
        "enrolments": [
            (
                classes[e.course_class_id],
                number[e.pupil_id],
                windows[e.window_id],
                e.status,
                e.fee_fen,
                e.waived,
                e.wait_rank or "",
                rel(e.created_at),
                rel(e.status_changed_at),
                rel(e.hold_expires_at),
                rel(e.confirmed_at),
                e.ended_reason,
            )
            for e in Enrolment.objects.all()
        ],
        "draws": [
            (
                classes[d.course_class_id],
                windows[d.window_id],
                d.seed,
                d.seats,
                ",".join(number[p] for p in d.applicants),
                ",".join(number[p] for p in d.order),
            )
            for d in draws
        ],
        "waivers": [
            (number[w.pupil_id], w.status, w.requested_by.username, w.decided_by.username if w.decided_by else "")
            for w in HardshipWaiver.objects.select_related("requested_by", "decided_by")
        ],
    }
    return _digest(sections)
