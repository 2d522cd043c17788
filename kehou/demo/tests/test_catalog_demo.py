"""The demo libraries and review: deterministic, loaded once, made through the services, and every invariant of
the catalog holds in it (panels re-run from their seeds, no conflicted expert, libraries chained as the rules say,
fees inside their standards, every state present, and the named accounts have something to see)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.management.color import no_style
from django.db import connection, transaction

from kehou.catalog import selectors
from kehou.catalog.models import (
    CatalogItem,
    Category,
    Decision,
    ExpertRecusal,
    Filing,
    LibraryEntry,
    LibraryEntryEvent,
    Panel,
    PanelMember,
    Score,
    Submission,
)
from kehou.catalog.services import libraries, review
from kehou.catalog.services.submissions import fee_standard_for
from kehou.core.models import AuditEntry
from kehou.core.scope import scope_for
from kehou.demo import data
from kehou.demo.common import TZ, DemoError, LoadResult
from kehou.demo.loader import reset
from kehou.demo.stages import catalog
from kehou.demo.stages.city import build_city
from kehou.orgs.models import Region, School
from kehou.people.models import User

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=TZ)
SMALL = 0.02  # about 86 pupils: the catalog does not depend on pupils


def _load() -> LoadResult:
    assert build_city(scale=SMALL, now=NOW).loaded
    return catalog.build_catalog(now=NOW)


def _restart_sequences() -> None:
    """Make the next load start from the same ids as the last (the draw orders experts by id).

    SQLite's AUTOINCREMENT counters roll back with the transaction; PostgreSQL's sequences do not."""
    if connection.vendor == "sqlite":
        return
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(apps.get_models())):
            cursor.execute(sql)


def _row_counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in apps.get_app_config("catalog").get_models()} | {
        "AuditEntry": AuditEntry.objects.count()
    }


# --- loading -----------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_catalog_needs_the_city_and_an_empty_catalog():
    with pytest.raises(DemoError, match="city first"):
        catalog.build_catalog(now=NOW)
    assert build_city(scale=SMALL, now=NOW).loaded
    with transaction.atomic():
        Submission.objects.create(
            kind="course",
            library_region=Region.objects.get(code=data.CITY_CODE),
            submitter_user=User.objects.get(username="city"),
            title="别人的课程",
            category=Category.objects.create(code="arts", name="艺术"),
            created_at=NOW,
            updated_at=NOW,
        )
        assert catalog.catalog_state() == "partial"
        with pytest.raises(DemoError, match="empty catalog"):
            catalog.build_catalog(now=NOW)
        transaction.set_rollback(True)


def test_panel_seeds_are_derived_from_the_demo_seed():
    assert catalog.panel_seed(data.SEED, 3, 1) == catalog.panel_seed(data.SEED, 3, 1)
    assert len({catalog.panel_seed(data.SEED, i, r) for i in range(len(catalog.SPECS)) for r in (1, 2)}) == 2 * len(
        catalog.SPECS
    )
    assert catalog.panel_seed(data.SEED, 3, 1) != catalog.panel_seed(data.SEED + 1, 3, 1)


def test_the_static_data_is_sound():
    assert len(catalog.QUALITY_ITEMS) == 20
    assert sum(w for _, _, w, _ in catalog.QUALITY_ITEMS) == 100
    assert 2 <= sum(v for *_, v in catalog.QUALITY_ITEMS) <= 3
    assert all(len(t) <= 80 and len(d) <= 300 for t, d, _, _ in catalog.QUALITY_ITEMS)
    for standards in catalog.FEE_STANDARDS.values():
        for low, high, pay in standards.values():
            assert 0 < low < high and 60 <= pay <= 100
    names = [s.course.name for s in catalog.SPECS if s.course]
    assert len(names) == len(set(names))
    city = catalog.FEE_STANDARDS[data.CITY_CODE]
    for spec in catalog.SPECS:
        course = spec.course
        if course is None:
            continue
        low, high, _ = city[course.category]
        assert low <= course.fee <= high, course.name
        assert 40 <= course.minutes <= 45 and 14 <= course.hours <= 18 and len(course.name) <= 80
        assert 1 <= course.grades[0] <= course.grades[1] <= 9


# --- what the loaded catalog looks like ------------------------------------------------------------------------
@dataclass
class Demo:
    counts: dict[str, int]
    first: tuple[str, list[tuple[object, ...]], dict[str, int]]  # the first of two loads, rolled back


def _fingerprint(counts: dict[str, int]) -> tuple[str, list[tuple[object, ...]], dict[str, int]]:
    members = sorted(
        (m.panel.submission.title, m.panel.round, m.panel.seed, m.draw_position, m.status, m.expert.user.username)
        for m in PanelMember.objects.select_related("panel__submission", "expert__user")
    )
    return catalog.catalog_digest(), members, counts


@pytest.fixture(scope="class")
def demo(django_db_setup, django_db_blocker):
    """Two loads into a fresh database: the first is fingerprinted and rolled back, the second is shared by the
    checks of the class and rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        _restart_sequences()
        with transaction.atomic():
            first = _load()
            assert first.loaded
            fingerprint = _fingerprint(first.counts)
            transaction.set_rollback(True)
        assert not Submission.objects.exists()
        _restart_sequences()
        result = _load()
        assert result.loaded
        yield Demo(result.counts, fingerprint)
        transaction.set_rollback(True)


@pytest.mark.django_db
class TestTheLoadedCatalog:
    def test_two_loads_into_fresh_databases_are_identical(self, demo):
        assert _fingerprint(demo.counts) == demo.first
        assert demo.first[1]  # there were panels to compare

    def test_loading_again_adds_nothing_and_reset_refuses_clearly(self, demo):
        before = _row_counts()
        assert not catalog.build_catalog(now=NOW).loaded
        out = StringIO()
        call_command("load_demo", "--no-classes", stdout=out)
        assert "city is already loaded" in out.getvalue()
        assert "libraries and review are already loaded" in out.getvalue()
        assert _row_counts() == before
        assert AuditEntry.objects.filter(action=catalog.LOADED_ACTION).count() == 1

        with pytest.raises(DemoError, match="fresh database"):
            reset(now=NOW)
        with pytest.raises(CommandError, match="append-only audit log"):
            call_command("load_demo", "--reset", stdout=StringIO())
        assert _row_counts() == before
        assert User.objects.filter(username="expert").exists()

    def test_counts_match_the_database(self, demo):
        assert demo.counts == catalog.catalog_counts()
        assert AuditEntry.objects.get(action=catalog.LOADED_ACTION).after["digest"] == catalog.catalog_digest()

    def test_every_panel_reruns_from_its_seed(self):
        panels = list(Panel.objects.all())
        assert len(panels) > 60
        derived = {catalog.panel_seed(data.SEED, i, r) for i in range(len(catalog.SPECS)) for r in (1, 2)}
        for panel in panels:
            assert review.panel_verify(panel), panel
            assert panel.seed in derived
            assert panel.members.filter(status="active").count() == panel.size

    def test_no_conflicted_expert_is_ever_drawn(self):
        recusals = list(ExpertRecusal.objects.all())
        assert len(recusals) >= 3
        members = PanelMember.objects.select_related("expert", "panel__submission__category")
        for m in members:
            sub = m.panel.submission
            version = sub.versions.get(number=m.panel.version_number)
            teacher_users = set(version.teachers.values_list("user_id", flat=True))
            if version.teacher_id:
                teacher_users.add(version.teacher.user_id)
            expert = m.expert
            assert sub.category.name in expert.specialities, m
            assert sub.submitter_school_id is None or expert.affiliation_school_id != sub.submitter_school_id, m
            assert (
                sub.submitter_organisation_id is None
                or expert.affiliation_organisation_id != sub.submitter_organisation_id
            ), m
            assert expert.user_id != sub.submitter_user_id and expert.user_id not in teacher_users, m
            for r in recusals:
                if r.expert_id != expert.pk:
                    continue
                assert r.submission_id != sub.pk, m
                assert r.school_id is None or r.school_id != sub.submitter_school_id, m
                assert r.organisation_id is None or r.organisation_id != sub.submitter_organisation_id, m
        # the recusals did exclude someone who would otherwise have been eligible
        excluded = 0
        for r in recusals:
            subs = Submission.objects.filter(category__name__in=r.expert.specialities)
            subs = (
                subs.filter(submitter_school=r.school)
                if r.school_id
                else subs.filter(submitter_organisation=r.organisation)
            )
            for panel in Panel.objects.filter(submission__in=subs):
                assert r.expert_id not in panel.pool
                excluded += 1
        assert excluded > 0

    def test_every_state_is_present(self):
        statuses = Counter(Submission.objects.values_list("status", flat=True))
        assert {"submitted", "in_review", "returned", "admitted", "rejected"} <= set(statuses)
        assert CatalogItem.objects.filter(kind="course", entries__level="city").count() >= 30
        assert CatalogItem.objects.filter(kind="teacher", entries__level="city").count() >= 15
        categories = set(CatalogItem.objects.filter(kind="course").values_list("category__code", flat=True))
        assert categories == {code for code, _ in catalog.CATEGORIES}
        # revised: a second version submitted, one returned and then admitted on its second version
        assert Submission.objects.filter(status="submitted", version_count=2).exists()
        assert Submission.objects.filter(status="admitted", version_count=2, item__version__number=2).exists()
        # rejected by a veto, and by a low mean
        rules = Counter(Decision.objects.filter(outcome="rejected").values_list("reasons__rule", flat=True))
        assert rules["veto"] >= 1 and rules["mean_below_return_threshold"] >= 1
        vetoed = Decision.objects.get(reasons__rule="veto")
        assert Score.objects.filter(member__panel=vetoed.panel).exclude(vetoed_items=[]).exists()
        # in review: some scores in, some missing
        open_panels = Panel.objects.filter(status="open")
        assert open_panels.exists()
        for panel in open_panels:
            scored = Score.objects.filter(member__panel=panel).count()
            assert 0 < scored < panel.size
        # awaiting a panel
        assert Submission.objects.filter(status="submitted", panels__isnull=True).exists()
        # a decline, replaced by the next expert in the draw order
        declined = PanelMember.objects.filter(status="declined")
        assert declined.exists() and all(hasattr(m, "replaced_by") for m in declined)
        # district libraries admitted through the districts' own panels (红谷滩区's panels have three members)
        district_admitted = LibraryEntry.objects.filter(level="district", source="admitted")
        assert district_admitted.count() >= 3
        assert len(set(district_admitted.values_list("region__code", flat=True))) >= 2
        assert Panel.objects.filter(region__code="360113", size=3).exists()
        assert Panel.objects.filter(region__code=data.CITY_CODE, size=5).exists()
        # one city entry suspended and one withdrawn, with reasons, and their downstream no longer usable
        for status in ("suspended", "withdrawn"):
            entry = LibraryEntry.objects.get(level="city", status=status)
            assert LibraryEntryEvent.objects.get(entry=entry, to_status=status).reason
            downstream = LibraryEntry.objects.filter(upstream=entry) | LibraryEntry.objects.filter(
                upstream__upstream=entry
            )
            assert downstream.exists()
            assert not any(selectors.entry_is_usable(e) for e in downstream)
        # filings: most acknowledged, some still filed; status changes downstream are filed too
        filings = Counter(Filing.objects.values_list("status", flat=True))
        assert filings["acknowledged"] > filings["filed"] > 0
        assert {"added", "suspended", "withdrawn"} <= set(Filing.objects.values_list("change", flat=True))

    def test_libraries_follow_the_rules(self):
        joined = list(School.objects.filter(joined_at__isnull=False).select_related("district"))
        per_school = Counter(LibraryEntry.objects.filter(level="school").values_list("school_id", flat=True))
        assert sum(1 for s in joined if 5 <= per_school[s.pk] <= 15) >= 0.8 * len(joined)
        assert max(per_school.values()) <= 15
        assert set(per_school) <= {s.pk for s in joined}
        schools = {s.pk: s for s in joined}
        for entry in LibraryEntry.objects.filter(level="school").select_related("upstream__upstream"):
            level, region_id = libraries.available_upstream_for(schools[entry.school_id])
            up = entry.upstream
            assert (up.level, up.region_id) == (level, region_id), entry
            assert up.item_id == entry.item_id
            if up.level == "district":
                assert up.upstream is None or (up.upstream.level == "city" and up.upstream.item_id == entry.item_id)
        for entry in LibraryEntry.objects.filter(level="district").select_related("upstream"):
            if entry.source == "adopted":
                assert entry.upstream.level == "city" and entry.upstream.item_id == entry.item_id
            else:
                assert entry.upstream is None and entry.item.submission.library_region_id == entry.region_id
        # most districts adopt a good part of the city library
        city_courses = LibraryEntry.objects.filter(level="city", item__kind="course").count()
        adopted = Counter(
            LibraryEntry.objects.filter(level="district", source="adopted", item__kind="course").values_list(
                "region__code", flat=True
            )
        )
        assert sum(1 for n in adopted.values() if n >= city_courses / 3) >= len(data.DISTRICTS) * 0.75
        # every filing belongs to a district or school entry and names the right district
        for f in Filing.objects.select_related("entry__school"):
            assert f.entry.level in ("district", "school")
            expected = f.entry.school.district_id if f.entry.school else f.entry.region_id
            assert f.district_id == expected and f.school_id == f.entry.school_id

    def test_fees_are_within_their_standards(self):
        for sub in Submission.objects.filter(kind="course").select_related("library_region", "category"):
            for v in sub.versions.all():
                standard = fee_standard_for(sub.library_region, sub.category)
                assert standard.min_fee_fen <= v.fee_per_hour_fen <= standard.max_fee_fen, v
                assert 40 <= v.minutes_per_hour <= 45 and 14 <= v.hours_per_term <= 18, v
                assert (v.materials_price_fen is None) == (v.materials_description == ""), v
        for entry in LibraryEntry.objects.filter(level="district", item__kind="course").select_related(
            "region", "item__version", "item__category"
        ):
            standard = fee_standard_for(entry.region, entry.item.category)
            assert standard.min_fee_fen <= entry.item.version.fee_per_hour_fen <= standard.max_fee_fen, entry
        # 南昌县 has its own, lower standards for every category; 进贤县 for some, the city's for the rest
        county = Region.objects.get(code="360121")
        jinxian = Region.objects.get(code="360124")
        for code, _ in catalog.CATEGORIES:
            category = Category.objects.get(code=code)
            assert fee_standard_for(county, category).region_id == county.pk
            city = fee_standard_for(Region.objects.get(code=data.CITY_CODE), category)
            assert fee_standard_for(county, category).max_fee_fen < city.max_fee_fen
            assert fee_standard_for(jinxian, category).region.code in ("360124", data.CITY_CODE)

    def test_the_named_accounts_have_something_to_see(self):
        expert = User.objects.get(username="expert")
        seats = list(selectors.my_seats(scope=scope_for(expert)))
        to_score = [m for m in seats if m.panel.status == "open" and m.status == "active" and not hasattr(m, "score")]
        scored = [m for m in seats if hasattr(m, "score")]
        assert to_score and scored

        outside = User.objects.get(username="teacher-outside")
        mine = selectors.submission_list(scope=scope_for(outside))
        assert len({s.status for s in mine}) >= 3
        assert {s.library_region.code for s in mine} >= {data.CITY_CODE, "360102"}

        school = School.objects.get(name=data.NAMED_TEACHER_SCHOOL)
        admin = User.objects.get(username=f"school-{school.code}")
        theirs = selectors.submission_list(scope=scope_for(admin)).filter(submitter_school=school)
        assert theirs.count() >= 3 and len({s.status for s in theirs}) >= 2
        assert theirs.filter(versions__teachers__user__username="teacher").exists()
        picked = selectors.library_list(scope=scope_for(admin), level="school", school_id=school.pk)
        assert 5 <= picked.count() <= 15
        assert selectors.usable_entries(school=school).exists()

        district = User.objects.get(username="district-360102")
        scope = scope_for(district)
        queue = selectors.submission_list(scope=scope, library="360102")
        assert {"submitted", "in_review", "admitted"} <= {s.status for s in queue}
        filings = selectors.filing_list(scope=scope)
        assert {f.status for f in filings} == {"filed", "acknowledged"}
        assert all(f.district.code == "360102" for f in filings)

    def test_every_step_is_in_the_audit_log(self):
        actions = Counter(AuditEntry.objects.values_list("action", flat=True))
        assert actions["submission.created"] == Submission.objects.count()
        assert actions["submission.revised"] == Submission.objects.filter(version_count=2).count()
        assert actions["panel.drawn"] == Panel.objects.count()
        assert actions["panel.scored"] == Score.objects.count()
        assert actions["panel.decided"] == Decision.objects.count()
        assert actions["panel.member_declined"] == PanelMember.objects.filter(status="declined").count()
        assert actions["library.adopted"] == LibraryEntry.objects.filter(source="adopted").count()
        assert actions["library.picked"] == LibraryEntry.objects.filter(source="picked").count()
        assert actions["library.status_changed"] == LibraryEntryEvent.objects.count()
        assert actions["filing.acknowledged"] == Filing.objects.filter(status="acknowledged").count()
        by_actor = defaultdict(set)
        for action, username in AuditEntry.objects.exclude(actor=None).values_list("action", "actor__username"):
            by_actor[action].add(username.split("-")[0])
        assert by_actor["panel.scored"] == {"expert"}
        assert by_actor["filing.acknowledged"] == {"city"}
        assert by_actor["library.adopted"] == {"district"}
        assert by_actor["library.picked"] == {"school"}
        assert by_actor["submission.created"] <= {"school", "teacher"}

    def test_times_follow_the_steps(self):
        for panel in Panel.objects.select_related("submission"):
            assert panel.submission.created_at < panel.drawn_at <= catalog.TIMELINE_END
            for score in Score.objects.filter(member__panel=panel).select_related("member"):
                assert panel.drawn_at < score.scored_at <= catalog.TIMELINE_END
                assert score.member.joined_at <= score.scored_at
            if hasattr(panel, "decision"):
                assert all(s.scored_at < panel.decision.decided_at for s in Score.objects.filter(member__panel=panel))
        for entry in LibraryEntry.objects.exclude(upstream=None).select_related("upstream"):
            assert entry.upstream.added_at < entry.added_at
        for f in Filing.objects.filter(status="acknowledged"):
            assert f.filed_at < f.acknowledged_at <= catalog.TIMELINE_END
