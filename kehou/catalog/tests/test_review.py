"""Scoring against the 20 standards and the decision rule: complete sheets only, once per member, only while the
panel is open; the weighted total is exact; the decision admits, returns or rejects, once."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehou.catalog.models import (
    CatalogItem,
    Decision,
    LibraryEntry,
    Panel,
    QualityItem,
    ReviewPolicy,
    Score,
    Submission,
    SubmissionVersion,
)
from kehou.catalog.services import review, submissions
from kehou.catalog.tests.factories import (
    NOW,
    active_members,
    all_items,
    course_fields,
    district_admin_of,
    draw_panel,
    nothing_changes,
    score_all,
    setup_catalog,
    staff_teacher,
    submit_course,
)
from kehou.conftest import City
from kehou.core.errors import Conflict, Forbidden, KehouError, NotFound
from kehou.core.models import AuditEntry
from kehou.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def cat(city: City) -> dict[str, Any]:
    return setup_catalog()


@pytest.fixture
def panel(city: City, cat: dict[str, Any]) -> Panel:
    """An open city-library panel of 3 for school A1's course."""
    return draw_panel(submit_course(city, cat["categories"]["science"]), city.users["city_admin"], size=3)


def score(member: Any, sheet: dict[str, Any] | None = None, vetoes: list[Any] | None = None, comment: str = "好"):
    return review.score_submit(
        actor=member.expert.user,
        member=member,
        item_scores=all_items(9) if sheet is None else sheet,
        vetoed_items=vetoes or [],
        comment=comment,
        now=NOW,
    )


# --- the score sheet ------------------------------------------------------------------------------------------------
def test_a_complete_sheet_is_recorded_with_its_weighted_total(panel: Panel) -> None:
    member = active_members(panel)[0]
    sheet = score(member, {**all_items(10), "1": 9}, vetoes=[], comment="  课程设计完整  ")
    sheet.refresh_from_db()
    # Items 1–10 weigh 5, items 11–20 weigh 3, each out of 10: (5·9/10 + 9·5 + 10·3) / 80 = 79.5 / 80 = 0.99375,
    # i.e. 9937.5 basis points, rounded half up to 9938.
    assert sheet.total_bp == 9938
    assert sheet.item_scores == {**{str(n): 10 for n in range(1, 21)}, "1": 9}
    assert sheet.comment == "课程设计完整" and sheet.vetoed_items == [] and sheet.scored_at == NOW
    logged = AuditEntry.objects.get(action="panel.scored")
    assert logged.after == {"member": member.pk, "total_bp": 9938, "vetoed": []}


@pytest.mark.parametrize(
    ("sheet", "expected"),
    [
        (all_items(10), 10000),
        (all_items(0), 0),
        (all_items(7), 7000),
        # items 1–10 full, 11–20 nothing: 50 / 80
        ({**all_items(10), **{str(n): 0 for n in range(11, 21)}}, 6250),
        # one light item at 1/10: (5·10·10 + 3·9·10 + 3·1) / (80·10) = 773/800 = 9662.5 → 9663
        ({**all_items(10), "20": 1}, 9663),
    ],
)
def test_the_weighted_total_is_exact(panel: Panel, sheet: dict[str, int], expected: int) -> None:
    assert score(active_members(panel)[0], sheet).total_bp == expected


def test_integer_keys_are_accepted_as_well_as_strings(panel: Panel) -> None:
    sheet = {n: 8 for n in range(1, 21)}
    assert score(active_members(panel)[0], sheet).item_scores == {str(n): 8 for n in range(1, 21)}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sheet", "vetoes", "comment", "field"),
    [
        ({**all_items(9), "21": 5}, [], "好", "21"),  # unknown item
        ({k: v for k, v in all_items(9).items() if k != "5"}, [], "好", "5"),  # missing item
        ({**all_items(9), "3": 7.5}, [], "好", "3"),  # not an integer
        ({**all_items(9), "3": "7"}, [], "好", "3"),  # a string
        ({**all_items(9), "3": True}, [], "好", "3"),  # a bool is not a score
        ({**all_items(9), "3": None}, [], "好", "3"),
        ({**all_items(9), "4": 11}, [], "好", "4"),  # above the highest score
        ({**all_items(9), "4": -1}, [], "好", "4"),
        (all_items(9), [3], "好", "vetoed_items"),  # item 3 is not a veto item
        (all_items(9), [99], "好", "vetoed_items"),
        (all_items(9), [True], "好", "vetoed_items"),  # True == 1, but it is not an item number
        (all_items(9), ["1"], "好", "vetoed_items"),
        (all_items(9), [], "   ", "comment"),  # empty comment
        (all_items(9), [], "", "comment"),
    ],
)
def test_an_incomplete_or_wrong_sheet_is_refused_with_its_fields(
    panel: Panel, sheet: dict[str, Any], vetoes: list[Any], comment: str, field: str
) -> None:
    member = active_members(panel)[0]
    with nothing_changes(), pytest.raises(KehouError) as refused:
        score(member, sheet, vetoes, comment)
    assert refused.value.code == "invalid_score_sheet"
    assert field in refused.value.fields
    assert list(refused.value.fields) == [field]  # only the wrong field is named


@pytest.mark.parametrize("sheet", [[9] * 20, "9", None])
def test_a_sheet_that_is_not_a_mapping_is_refused_not_a_crash(panel: Panel, sheet: Any) -> None:
    member = active_members(panel)[0]
    with nothing_changes(), pytest.raises(KehouError) as refused:
        review.score_submit(
            actor=member.expert.user, member=member, item_scores=sheet, vetoed_items=[], comment="好", now=NOW
        )
    assert refused.value.code == "invalid_score_sheet"


def test_vetoes_are_not_a_list_is_refused(panel: Panel) -> None:
    member = active_members(panel)[0]
    with nothing_changes(), pytest.raises(KehouError) as refused:
        score(member, vetoes=1)  # type: ignore[arg-type]
    assert refused.value.code == "invalid_score_sheet" and "vetoed_items" in refused.value.fields


def test_scoring_twice_is_refused(panel: Panel) -> None:
    member = active_members(panel)[0]
    score(member)
    with nothing_changes(), pytest.raises(Conflict) as refused:
        score(member, all_items(3))
    assert refused.value.code == "already_scored"
    assert Score.objects.get(member=member).item_scores == all_items(9)


def test_scoring_after_the_decision_is_refused(city: City, panel: Panel) -> None:
    score_all(panel)
    review.panel_decide(actor=city.users["city_admin"], panel=panel, now=NOW)
    member = active_members(panel)[0]
    with nothing_changes(), pytest.raises(Conflict) as refused:
        score(member)
    assert refused.value.code == "panel_closed"


@pytest.mark.parametrize("who", ["other_expert", "city_admin", "school_admin", "expert_without_profile"])
def test_someone_not_on_the_panel_cannot_score(city: City, cat: dict[str, Any], panel: Panel, who: str) -> None:
    member = active_members(panel)[0]
    seated = set(panel.members.values_list("expert__user_id", flat=True))
    outsider = next(u for u in [*cat["experts"], city.users["expert"]] if u.pk not in seated)
    actor = {
        "other_expert": outsider,
        "city_admin": city.users["city_admin"],
        "school_admin": city.users["school_admin"],
        "expert_without_profile": f.UserFactory(),
    }[who]
    with nothing_changes(), pytest.raises(NotFound):
        review.score_submit(
            actor=actor, member=member, item_scores=all_items(9), vetoed_items=[], comment="好", now=NOW
        )


def test_a_member_who_declined_cannot_score(panel: Panel) -> None:
    member = active_members(panel)[0]
    review.member_decline(actor=member.expert.user, member=member, reason="出差", now=NOW)
    with nothing_changes(), pytest.raises(Conflict) as refused:
        score(member)
    assert refused.value.code == "member_declined"


# --- the weighted total (property) ----------------------------------------------------------------------------------
ITEMS = st.lists(st.tuples(st.integers(1, 10), st.integers(1, 20), st.booleans()), min_size=1, max_size=25).map(
    lambda rows: [QualityItem(number=i + 1, weight=w, max_score=m, is_veto=v) for i, (w, m, v) in enumerate(rows)]
)


@st.composite
def items_and_scores(draw: Any) -> tuple[list[QualityItem], dict[int, int]]:
    items = draw(ITEMS)
    scores = {i.number: draw(st.integers(0, i.max_score)) for i in items}
    return items, scores


@settings(max_examples=300, deadline=None, database=None)
@given(case=items_and_scores(), data=st.data())
def test_the_total_is_within_0_and_10000_exact_and_monotone_in_each_item(case: Any, data: Any) -> None:
    items, scores = case
    total = review.score_total_bp(items, scores)
    # Within range, and exactly the weighted mean rounded half up
    assert 0 <= total <= 10000
    exact = sum(Fraction(i.weight * scores[i.number], i.max_score) for i in items) / sum(i.weight for i in items)
    assert abs(Fraction(total) - exact * 10000) <= Fraction(1, 2)
    # All at the highest score is 10000; all at zero is 0
    assert review.score_total_bp(items, {i.number: i.max_score for i in items}) == 10000
    assert review.score_total_bp(items, {i.number: 0 for i in items}) == 0
    # Raising any one item never lowers the total
    item = data.draw(st.sampled_from(items))
    if scores[item.number] < item.max_score:
        higher = {**scores, item.number: data.draw(st.integers(scores[item.number] + 1, item.max_score))}
        assert review.score_total_bp(items, higher) >= total


# --- the decision -----------------------------------------------------------------------------------------------------
def test_deciding_before_every_member_has_scored_is_refused(city: City, panel: Panel) -> None:
    first, second, _third = active_members(panel)
    score(first)
    score(second)
    with nothing_changes(), pytest.raises(Conflict) as refused:
        review.panel_decide(actor=city.users["city_admin"], panel=panel, now=NOW)
    assert refused.value.code == "not_all_scored" and refused.value.fields == {"waiting_for": 1}


def test_a_replacement_must_score_too(city: City, panel: Panel) -> None:
    first, second, third = active_members(panel)
    score(first)
    score(second)
    review.member_decline(actor=third.expert.user, member=third, reason="出差", now=NOW)
    with nothing_changes(), pytest.raises(Conflict) as refused:
        review.panel_decide(actor=city.users["city_admin"], panel=panel, now=NOW)
    assert refused.value.code == "not_all_scored"
    score(active_members(panel)[2])
    assert review.panel_decide(actor=city.users["city_admin"], panel=panel, now=NOW).outcome == "admitted"


def test_a_veto_rejects_whatever_the_mean(city: City, panel: Panel) -> None:
    # Given full marks from everyone, but one member fails veto item 2
    members = active_members(panel)
    score(members[0], all_items(10))
    score(members[1], all_items(10), vetoes=[2])
    score(members[2], all_items(10))
    # When the city decides
    decision = review.panel_decide(actor=city.users["city_admin"], panel=panel, now=NOW)
    # Then the submission is rejected, with the veto as the reason, and nothing enters a library
    assert decision.outcome == "rejected" and decision.mean_bp == 10000
    assert decision.reasons["rule"] == "veto" and decision.reasons["vetoed_items"] == [2]
    assert Submission.objects.get(pk=panel.submission_id).status == "rejected"
    assert not CatalogItem.objects.exists() and not LibraryEntry.objects.exists()


def test_a_mean_at_or_above_the_threshold_admits_into_the_city_library(city: City, panel: Panel) -> None:
    # Given totals 9000, 8000 and 7000 (mean 8000 ≥ 7500)
    score_all(panel, [all_items(9), all_items(8), all_items(7)])
    decision = review.panel_decide(actor=city.users["city_admin"], panel=panel, now=NOW)
    # Then it is admitted with its reasons, and the course is an active entry of the city library
    assert (decision.outcome, decision.mean_bp, decision.decided_by, decision.decided_at) == (
        "admitted",
        8000,
        city.users["city_admin"],
        NOW,
    )
    assert decision.reasons == {
        "rule": "mean_at_or_above_admit_threshold",
        "mean_bp": 8000,
        "scores": 3,
        "admit_threshold_bp": 7500,
        "return_threshold_bp": 6000,
        "vetoed_items": [],
    }
    sub = Submission.objects.get(pk=panel.submission_id)
    assert sub.status == "admitted"
    item = CatalogItem.objects.get(submission=sub)
    assert (item.name, item.provider_school, item.version.number, item.kind) == ("机器人编程", city.a1, 1, "course")
    entry = LibraryEntry.objects.get(item=item)
    assert (entry.level, entry.region.is_city, entry.status, entry.source, entry.upstream) == (
        "city",
        True,
        "active",
        "admitted",
        None,
    )
    assert Panel.objects.get(pk=panel.pk).status == "decided"
    logged = AuditEntry.objects.get(action="panel.decided")
    assert logged.after["outcome"] == "admitted" and logged.after["library_entry"] == entry.pk


def test_a_district_admission_goes_into_that_districts_library_under_its_policy(
    city: City, cat: dict[str, Any]
) -> None:
    # Given district A's own, stricter policy
    ReviewPolicy.objects.create(region=city.district_a, panel_size=3, admit_threshold_bp=9500, return_threshold_bp=0)
    sub = submit_course(city, cat["categories"]["science"], library="district")
    panel = draw_panel(sub, city.users["district_admin"])
    score_all(panel, all_items(9))
    decision = review.panel_decide(actor=city.users["district_admin"], panel=panel, now=NOW)
    # Then 9000 is below district A's 9500: returned, not admitted
    assert decision.outcome == "returned" and decision.reasons["admit_threshold_bp"] == 9500
    # And once revised and redrawn, full marks admit it into district A's library (not the city's)
    submissions.submission_revise(
        actor=city.users["school_admin"],
        submission=sub,
        fields=course_fields(cat["categories"]["science"], [staff_teacher(city.users["teacher"]).pk]),
        note="补充教案",
        now=NOW,
    )
    second = draw_panel(sub, city.users["district_admin"], seed="round-2")
    score_all(second, all_items(10))
    assert review.panel_decide(actor=city.users["district_admin"], panel=second, now=NOW).outcome == "admitted"
    entry = LibraryEntry.objects.get(item__submission=sub)
    assert (entry.level, entry.region, entry.school, entry.upstream) == ("district", city.district_a, None, None)


@pytest.mark.parametrize(
    ("admit", "ret", "outcome"),
    [(7000, 6000, "admitted"), (7001, 6000, "returned"), (7001, 7000, "returned"), (7001, 7001, "rejected")],
)
def test_the_thresholds_are_inclusive(city: City, panel: Panel, admit: int, ret: int, outcome: str) -> None:
    ReviewPolicy.objects.filter(region__kind="city").update(admit_threshold_bp=admit, return_threshold_bp=ret)
    score_all(panel, all_items(7))  # every total exactly 7000
    assert review.panel_decide(actor=city.users["city_admin"], panel=panel, now=NOW).outcome == outcome


def test_the_mean_is_rounded_half_up(city: City, panel: Panel) -> None:
    # Totals 10000, 10000 and 9938: mean 29938/3 = 9979.33 → 9979
    score_all(panel, [all_items(10), all_items(10), {**all_items(10), "1": 9}])
    assert review.panel_decide(actor=city.users["city_admin"], panel=panel, now=NOW).mean_bp == 9979


def test_between_the_thresholds_returns_for_revision_and_a_new_round_can_be_drawn(
    city: City, cat: dict[str, Any], panel: Panel
) -> None:
    # Given a mean of 7000: between 6000 and 7500
    score_all(panel, all_items(7))
    decision = review.panel_decide(actor=city.users["city_admin"], panel=panel, now=NOW)
    assert decision.outcome == "returned" and decision.reasons["rule"] == "mean_between_thresholds"
    sub = Submission.objects.get(pk=panel.submission_id)
    assert sub.status == "returned" and not CatalogItem.objects.exists()
    # When the school revises it
    version = submissions.submission_revise(
        actor=city.users["school_admin"],
        submission=sub,
        fields=course_fields(
            cat["categories"]["science"], [staff_teacher(city.users["teacher"]).pk], name="机器人编程（修订）"
        ),
        note="按专家意见修改",
        now=NOW,
    )
    # Then the new version is kept beside the old, and the submission awaits review again
    sub.refresh_from_db()
    assert (version.number, sub.version_count, sub.status, sub.title) == (2, 2, "submitted", "机器人编程（修订）")
    assert list(SubmissionVersion.objects.filter(submission=sub).values_list("number", "name")) == [
        (1, "机器人编程"),
        (2, "机器人编程（修订）"),
    ]
    # And a second round is drawn for version 2; admitted, the library item is version 2
    second = draw_panel(sub, city.users["city_admin"], seed="round-2")
    assert (second.round, second.version_number) == (2, 2)
    score_all(second, all_items(9))
    assert review.panel_decide(actor=city.users["city_admin"], panel=second, now=NOW).outcome == "admitted"
    item = CatalogItem.objects.get(submission=sub)
    assert (item.version.number, item.name) == (2, "机器人编程（修订）")


def test_below_the_return_threshold_rejects(city: City, panel: Panel) -> None:
    score_all(panel, all_items(5))
    decision = review.panel_decide(actor=city.users["city_admin"], panel=panel, now=NOW)
    assert (decision.outcome, decision.reasons["rule"]) == ("rejected", "mean_below_return_threshold")
    assert Submission.objects.get(pk=panel.submission_id).status == "rejected"


def test_deciding_twice_is_refused(city: City, panel: Panel) -> None:
    score_all(panel)
    review.panel_decide(actor=city.users["city_admin"], panel=panel, now=NOW)
    with nothing_changes(), pytest.raises(Conflict) as refused:
        review.panel_decide(actor=city.users["city_admin"], panel=panel, now=NOW)
    assert refused.value.code == "already_decided"
    assert Decision.objects.count() == 1


@pytest.mark.parametrize("who", ["district_admin", "school_admin", "expert", "nobody"])
def test_only_the_city_decides_for_the_city_library(city: City, panel: Panel, who: str) -> None:
    score_all(panel)
    with nothing_changes(), pytest.raises(Forbidden):
        review.panel_decide(actor=city.users[who], panel=panel, now=NOW)


def test_only_that_districts_bureau_decides_for_its_library(city: City, cat: dict[str, Any]) -> None:
    sub = submit_course(city, cat["categories"]["science"], library="district")
    panel = draw_panel(sub, city.users["district_admin"], size=3)
    score_all(panel)
    with nothing_changes(), pytest.raises(NotFound):
        review.panel_decide(actor=district_admin_of(city.district_b), panel=panel, now=NOW)
    with nothing_changes(), pytest.raises(NotFound):
        review.panel_decide(actor=city.users["school_admin"], panel=panel, now=NOW)


def test_the_worked_example_of_the_docs() -> None:
    # docs/libraries.md, "Scoring and the decision": 20 standards, items 1–10 weigh 5, 11–20 weigh 3, each out of 10
    items = [QualityItem(number=n, weight=5 if n <= 10 else 3, max_score=10, is_veto=n in (1, 2)) for n in range(1, 21)]
    a = review.score_total_bp(items, {**{n: 10 for n in range(1, 21)}, 1: 9})
    b = review.score_total_bp(items, {n: 8 for n in range(1, 21)})
    c = review.score_total_bp(items, {**{n: 7 for n in range(1, 21)}, 15: 4})
    assert (a, b, c) == (9938, 8000, 6888)
    policy = ReviewPolicy()  # the defaults: admit at 7500, return at 6000
    assert review.decision_rule(policy=policy, totals=[a, b, c], vetoes=[])[:2] == ("admitted", 8275)
    assert review.decision_rule(policy=policy, totals=[a, b, c], vetoes=[2])[:2] == ("rejected", 8275)
    assert review.decision_rule(policy=policy, totals=[7000, 7000, 6500], vetoes=[])[:2] == ("returned", 6833)
