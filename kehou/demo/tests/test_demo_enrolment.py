"""The demo classes and selection: deterministic, loaded once, made through the services, and every invariant of the
selection holds in it (seats agree with places, no class over capacity, lotteries re-run from their seeds), every
state is present, and the named ``parent`` can start the README's walk-through."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import transaction

from kehou.catalog.selectors import usable_q
from kehou.catalog.services.submissions import check_fee
from kehou.core import clock
from kehou.core.models import AuditEntry
from kehou.core.scope import scope_for
from kehou.demo import data
from kehou.demo.common import TZ, DemoError, load_base
from kehou.demo.stages import catalog, enrolment
from kehou.demo.stages.attendance import build_attendance
from kehou.demo.stages.city import build_city
from kehou.enrolment.models import (
    ClassSession,
    ClassSlot,
    CourseClass,
    Enrolment,
    HardshipWaiver,
    LotteryDraw,
    SelectionWindow,
)
from kehou.enrolment.selectors import class_list, classes_for_pupil, windows_for_pupil
from kehou.enrolment.services.classes import care_standard_for
from kehou.enrolment.services.lottery import lottery_replay
from kehou.orgs.models import Region
from kehou.people.models import Pupil, User

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=TZ)
BASE = load_base(NOW)
SCALE = 0.25  # about 1,080 pupils: three or so per grade and school, enough to fill the story's classes


def _row_counts() -> dict[str, int]:
    models = list(apps.get_app_config("enrolment").get_models())
    return {m.__name__: m.objects.count() for m in models} | {"AuditEntry": AuditEntry.objects.count()}


@dataclass
class Demo:
    counts: dict[str, int]
    first: tuple[str, dict[str, int]]  # digest and counts of the first of two loads (rolled back)


@pytest.fixture(scope="class")
def demo(django_db_setup, django_db_blocker):
    """The city and the catalog once; the classes twice on top of them: the first load is fingerprinted and
    rolled back, the second is shared by the checks of the class and rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        assert build_city(scale=SCALE, now=NOW).loaded
        assert catalog.build_catalog(now=NOW).loaded
        with transaction.atomic():
            first = enrolment.build_enrolment(now=NOW)
            assert first.loaded
            fingerprint = (enrolment.enrolment_digest(BASE), first.counts)
            transaction.set_rollback(True)
        assert not CourseClass.objects.exists()
        result = enrolment.build_enrolment(now=NOW)
        assert result.loaded
        yield Demo(result.counts, fingerprint)
        transaction.set_rollback(True)


def test_times_are_relative_to_the_load():
    plan = enrolment.window_times(enrolment.OPEN, BASE)
    assert plan.opens_at < BASE < plan.closes_at and plan.closes_at - plan.opens_at == timedelta(days=14)
    assert BASE - plan.opens_at == timedelta(hours=1)
    lottery = enrolment.window_times(enrolment.LOTTERY, BASE)
    assert BASE - lottery.closes_at == timedelta(hours=15)
    assert lottery.mode == "lottery"
    assert enrolment.window_times(enrolment.CLOSED, BASE).closes_at < BASE
    assert enrolment.stagger_first_opens(BASE) > BASE
    assert enrolment.lottery_seed(data.SEED, "3601110003", 7) == enrolment.lottery_seed(data.SEED, "3601110003", 7)
    assert enrolment.lottery_seed(data.SEED, "3601110003", 7) != enrolment.lottery_seed(data.SEED, "3601110003", 8)


@pytest.mark.django_db
def test_the_classes_need_the_libraries_and_empty_tables():
    with pytest.raises(DemoError, match="libraries first"):
        enrolment.build_enrolment(now=NOW)
    assert build_city(scale=0.02, now=NOW).loaded
    with pytest.raises(DemoError, match="libraries first"):
        enrolment.build_enrolment(now=NOW)
    assert not CourseClass.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("demo")
class TestTheLoadedClasses:
    def test_two_loads_are_identical(self, demo):
        assert (enrolment.enrolment_digest(BASE), demo.counts) == demo.first
        assert demo.counts == enrolment.enrolment_counts(BASE)
        loaded = AuditEntry.objects.get(action=enrolment.LOADED_ACTION)
        assert loaded.after["digest"] == demo.first[0]

    def test_loading_again_adds_nothing(self, demo):
        # Each load_demo arranges the demo teacher's session in progress now (the attendance stage: a place for the
        # demo parent's child, a session moved to now), once for the moment it runs; after that nothing is added.
        build_attendance(now=clock.now())
        from kehou.demo.stages.teaching import build_teaching

        build_teaching(now=clock.now())  # the course outlines, as load_demo adds them
        from kehou.demo.stages.supervision import build_supervision

        build_supervision(now=clock.now())  # and the dashboards' rollups and reports
        before = _row_counts()
        assert not enrolment.build_enrolment(now=NOW).loaded
        out = StringIO()
        call_command("load_demo", stdout=out)
        assert "classes and selection are already loaded" in out.getvalue()
        out = StringIO()
        call_command("load_demo", "--no-classes", stdout=out)
        assert "classes" not in out.getvalue()
        assert _row_counts() == before

    def test_the_term_follows_the_day_of_the_load(self):
        autumn, first = enrolment.choose_term(BASE.date())
        assert autumn.name == "2026-2027学年第一学期" and first == date(2026, 12, 14)
        assert set(CourseClass.objects.values_list("term_id", flat=True)) == {autumn.pk}
        assert not ClassSession.objects.filter(date__lt=first).exists()
        assert enrolment.choose_term(date(2026, 8, 20)) == (autumn, date(2026, 9, 7))
        spring, first = enrolment.choose_term(date(2027, 1, 12))  # too little of the autumn term is left
        assert spring.name == "2026-2027学年第二学期" and first is None
        assert enrolment.choose_term(date(2027, 8, 1)) is None

    def test_classes_in_many_schools_from_their_libraries(self):
        classes = list(CourseClass.objects.select_related("school__district", "entry__item__category", "teacher"))
        schools = {c.school for c in classes}
        assert len(schools) >= 12 and len({s.district_id for s in schools}) >= 5
        for c in classes:
            assert 1 <= c.capacity <= 45 and 0 <= c.taken <= c.capacity
            assert c.school.pk in set(c.teacher.schools.values_list("pk", flat=True))
            assert c.grade_min in c.school.grade_range and c.grade_max in c.school.grade_range
            assert c.room and c.session_count > 0 and c.fee_fen > 0
            if c.kind == "course":
                assert c.entry.school_id == c.school.pk and c.entry.level == "school"
                check_fee(c.school.district, c.entry.item.category, c.unit_price_fen)
            else:
                standard = care_standard_for(c.school.district)
                ceiling = standard.max_per_day_fen if c.pricing == "day" else standard.max_per_month_fen
                assert c.pricing in ("day", "month") and c.unit_price_fen <= ceiling
        assert Counter(c.school_id for c in classes if c.kind == "care") == Counter({s.pk: 1 for s in schools})
        assert any(c.materials_fee_fen for c in classes)
        assert len({c.pricing for c in classes}) == 3
        county = care_standard_for(Region.objects.get(code="360121"))
        city = care_standard_for(Region.objects.get(code=data.CITY_CODE))
        assert county.region.code == "360121" and county.max_per_day_fen < city.max_per_day_fen

    def test_slots_are_after_school_and_teachers_never_clash(self):
        by_teacher = defaultdict(list)
        for s in ClassSlot.objects.select_related("course_class"):
            assert s.weekday <= 4 and time(16, 0) <= s.starts_at < s.ends_at <= time(17, 30)
            by_teacher[s.course_class.teacher_id].append(s)
        for slots in by_teacher.values():
            for i, a in enumerate(slots):
                for b in slots[i + 1 :]:
                    clash = a.weekday == b.weekday and a.starts_at < b.ends_at and b.starts_at < a.ends_at
                    assert not clash, (a.course_class, b.course_class)

    def test_seats_agree_with_places(self):
        live = Counter(
            Enrolment.objects.filter(status__in=["held", "confirmed"]).values_list("course_class_id", flat=True)
        )
        for c in CourseClass.objects.all():
            assert c.taken == live[c.pk] <= c.capacity, c
        held = Enrolment.objects.filter(status="held")
        assert not held.filter(hold_expires_at__lte=BASE).exists()  # no stale hold is left behind
        pairs = Counter(
            Enrolment.objects.filter(status__in=["applied", "waiting", "held", "confirmed"]).values_list(
                "course_class_id", "pupil_id"
            )
        )
        assert max(pairs.values()) == 1

    def test_every_state_is_present(self):
        statuses = Counter(Enrolment.objects.values_list("status", flat=True))
        assert set(statuses) == {"held", "confirmed", "waiting", "cancelled", "expired"}
        assert Enrolment.objects.values("pupil").distinct().count() >= 150
        assert not Enrolment.objects.filter(created_at__gte=BASE).exists()
        waivers = Counter(HardshipWaiver.objects.values_list("status", flat=True))
        assert waivers == Counter({"approved": 2, "pending": 1})
        waived = Enrolment.objects.filter(waived=True)
        assert waived.exists() and set(waived.values_list("status", "fee_fen")) == {("confirmed", 0)}
        approved = HardshipWaiver.objects.filter(status="approved")
        assert all(w.decided_by != w.requested_by for w in approved)
        windows = SelectionWindow.objects.all()
        assert windows.filter(opens_at__lte=BASE, closes_at__gt=BASE, mode="first_come").exists()
        assert windows.filter(closes_at__lte=BASE, mode="first_come").exists()
        assert set(windows.values_list("status", flat=True)) == {"published"}

    def test_the_lottery_is_drawn_and_replays(self):
        draws = list(LotteryDraw.objects.select_related("window__school", "course_class"))
        assert draws
        for d in draws:
            window = d.window
            assert window.mode == "lottery" and window.drawn_at is not None and window.closes_at < BASE
            assert d.seed == enrolment.lottery_seed(data.SEED, window.school.code, window.grade)
            assert lottery_replay(d) == d.order and sorted(d.applicants) == sorted(d.order)
            assert len(d.applicants) > d.seats
            places = {e.pupil_id: e for e in Enrolment.objects.filter(course_class=d.course_class, window=window)}
            losers = d.order[d.seats :]
            for pupil_id in d.order[: d.seats]:
                assert places[pupil_id].status in ("held", "confirmed", "cancelled")
            waiting = [p for p in losers if places[p].status == "waiting"]
            assert waiting, "the rest wait in drawn order"
            assert [places[p].wait_rank for p in waiting] == sorted(places[p].wait_rank for p in waiting)
            assert all(places[p].wait_rank == losers.index(p) + 1 for p in waiting)
        assert not Enrolment.objects.filter(status="applied").exists()  # every lottery window was drawn
        assert Enrolment.objects.filter(window__mode="lottery", status="held").exists()

    def test_a_district_staggers_its_windows(self):
        staggered = SelectionWindow.objects.filter(school__district__code=enrolment.STAGGERED_DISTRICT)
        assert staggered.exists() and all(w.opens_at > BASE for w in staggered)
        by_school = {w.school_id: w.opens_at for w in staggered}
        opens = sorted(by_school.values())
        assert len(opens) == len(set(opens)) >= 3
        assert all(b - a == timedelta(minutes=30) for a, b in itertools.pairwise(opens))
        assert CourseClass.objects.filter(school_id__in=by_school).values("school").distinct().count() == len(by_school)
        assert AuditEntry.objects.filter(action="window.stagger", actor__username="district-360104").exists()

    def test_a_suspended_course_is_flagged(self):
        city = User.objects.get(username="city")
        flagged = list(class_list(scope=scope_for(city), flagged=True))
        assert flagged
        assert all(not c.entry_usable for c in flagged)
        assert not CourseClass.objects.filter(pk__in=[c.pk for c in flagged]).filter(usable_q("entry__")).exists()
        assert any(c.taken for c in flagged)  # places were taken before it was suspended

    def test_the_named_parent_starts_clean_with_an_open_window(self):
        parent = User.objects.get(username="parent")
        kids = list(Pupil.objects.filter(guardians__user=parent).order_by("pk"))
        assert len(kids) == 2
        assert not Enrolment.objects.filter(pupil__in=kids).exists()
        for kid in kids:
            windows = windows_for_pupil(pupil=kid, now=BASE)
            assert [(w.state, w.window.mode) for w in windows] == [("open", "first_come")]
            assert windows[0].seconds_to_close > 13 * 24 * 3600
            offered = [o for o in classes_for_pupil(pupil=kid) if o.course_class.kind == "course"]
            full = [o for o in offered if o.seats_left == 0]
            assert full and all(o.place is None for o in offered)
            assert Enrolment.objects.filter(course_class__in=[o.course_class for o in full], status="waiting").exists()
            assert [o for o in offered if 1 <= o.seats_left <= 2]
            assert [o for o in offered if o.seats_left > 2]
            assert [o for o in classes_for_pupil(pupil=kid) if o.course_class.kind == "care"]
        assert AuditEntry.objects.filter(actor=parent).count() == 0

    def test_the_story_classes_keep_their_counts(self):
        """In each named child's school a class of the child's grade is full with a waitlist and another, on other
        days, nearly full; both hold only confirmed places, so the tick (which expires unpaid holds after the
        load) leaves them as they are. The README names the schools' administrators."""
        readme = (Path(settings.BASE_DIR) / "README.md").read_text()
        for kid in Pupil.objects.filter(guardians__user__username="parent").select_related("school"):
            offered = [o.course_class for o in classes_for_pupil(pupil=kid) if o.course_class.kind == "course"]
            settled = [c for c in offered if not Enrolment.objects.filter(course_class=c, status="held").exists()]
            full = [
                c
                for c in settled
                if c.seats_left == 0 and Enrolment.objects.filter(course_class=c, status="waiting").exists()
            ]
            nearly = [c for c in settled if 1 <= c.seats_left <= 2]
            assert any(
                not {s.weekday for s in a.slots.all()} & {s.weekday for s in b.slots.all()}
                for a in full
                for b in nearly
            ), (full, nearly)
            assert f"school-{kid.school.code}" in readme
