"""The panel draw: reproducible from its published seed and pool, never drawing a conflicted expert, refused rather
than shrunk when it cannot be filled, drawn only by the library's bureau, and redrawn in order when someone
declines."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from kehou.catalog import draw
from kehou.catalog.models import ExpertRecusal, Panel, PanelMember, ReviewPolicy, Submission
from kehou.catalog.services import review, submissions
from kehou.catalog.tests.factories import (
    NOW,
    all_items,
    course_fields,
    district_admin_of,
    draw_panel,
    nothing_changes,
    organisation,
    outside_teacher,
    score_all,
    setup_catalog,
    submit_course,
)
from kehou.conftest import City
from kehou.core.errors import Conflict, Forbidden, KehouError, NotFound
from kehou.core.models import AuditEntry
from kehou.people.models import ExpertProfile, Role, TeacherProfile
from kehou.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def cat(city: City) -> dict[str, Any]:
    return setup_catalog()


def members_in_order(panel: Panel) -> list[int]:
    return list(panel.members.order_by("draw_position").values_list("expert_id", flat=True))


# --- the algorithm ------------------------------------------------------------------------------------------------
def test_draw_order_is_sha256_of_seed_and_id_and_does_not_depend_on_the_pool_order() -> None:
    # Given a seed and a pool, written in any order and with repeats
    seed, pool = "5f0c3a9e1b7d42c8a6e4f2019d8b7c31", [3, 5, 8, 13, 21, 34, 55]
    # When the order is computed by the code and, independently, by hashing "<seed>:<id>" and sorting by the hex
    by_hand = sorted(pool, key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).hexdigest())
    # Then both agree, whatever order the pool was given in; this is the worked example of docs/libraries.md
    assert draw.draw_order(seed, pool) == by_hand == [3, 8, 21, 34, 55, 5, 13]
    assert draw.draw_order(seed, [55, 3, 34, 3, 21, 13, 8, 5, 55]) == by_hand
    assert draw.first(seed, pool, 5) == [3, 8, 21, 34, 55]
    assert draw.next_position(by_hand, [0, 1, 2, 3, 4]) == 5
    assert draw.next_position(by_hand, range(7)) is None


def test_the_worked_example_in_the_docs_is_what_the_code_computes() -> None:
    # docs/libraries.md lists each expert's key and position for its example seed and pool
    doc = (Path(__file__).resolve().parents[3] / "docs" / "libraries.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| `([0-9a-f]{64})` \| (\d+) \|$", doc, flags=re.MULTILINE)
    seed, pool = "5f0c3a9e1b7d42c8a6e4f2019d8b7c31", [3, 5, 8, 13, 21, 34, 55]
    assert f"Seed `{seed}`, pool `{pool}`" in doc
    assert [(int(i), key, int(p)) for i, key, p in rows] == [
        (i, draw.draw_key(seed, i), p) for p, i in enumerate(draw.draw_order(seed, pool))
    ]


def test_redrawing_from_the_recorded_seed_and_pool_gives_the_same_panel(city: City, cat: dict[str, Any]) -> None:
    # Given a panel drawn for a city-library submission with a fresh random seed
    sub = submit_course(city, cat["categories"]["science"])
    panel = review.panel_draw(actor=city.users["city_admin"], submission=sub, now=NOW)
    panel.refresh_from_db()
    # Then the seed and the pool (the sorted eligible experts) are recorded, on the panel and in the audit log
    assert len(panel.seed) == 32 and panel.pool == sorted(panel.pool) == review.eligible_pool(sub)
    logged = AuditEntry.objects.get(action="panel.drawn", object_id=str(panel.pk))
    assert logged.after["seed"] == panel.seed and logged.after["pool"] == panel.pool
    # And re-running the draw from them gives the same members, by the service and by recomputing the order
    assert review.panel_verify(panel)
    assert members_in_order(panel) == draw.draw_order(panel.seed, panel.pool)[: panel.size]
    assert logged.after["members"] == members_in_order(panel)
    # And another seed over the same pool is a different draw, which the recorded panel does not pass for
    other = draw.draw_order(panel.seed + "x", panel.pool)
    assert other != draw.draw_order(panel.seed, panel.pool)


def test_a_tampered_panel_fails_verification(city: City, cat: dict[str, Any]) -> None:
    sub = submit_course(city, cat["categories"]["science"])
    panel = draw_panel(sub, city.users["city_admin"])
    outsider = (set(panel.pool) - set(members_in_order(panel))).pop()
    PanelMember.objects.filter(panel=panel, draw_position=0).update(expert_id=outsider)
    assert not review.panel_verify(panel)


def test_the_same_seed_and_pool_give_the_same_panel_on_another_submission(city: City, cat: dict[str, Any]) -> None:
    # The draw depends on nothing but the seed and the pool.
    first = draw_panel(submit_course(city, cat["categories"]["science"], name="甲"), city.users["city_admin"])
    second = draw_panel(submit_course(city, cat["categories"]["science"], name="乙"), city.users["city_admin"])
    assert first.pool == second.pool
    assert members_in_order(first) == members_in_order(second)


# --- no conflicted expert is ever drawn (property) ----------------------------------------------------------------
SPECIALITIES = ["科技", "体育", "艺术"]
EXPERT = st.fixed_dictionaries(
    {
        "specialities": st.lists(st.sampled_from(SPECIALITIES), unique=True, max_size=3),
        "school": st.sampled_from([None, None, None, "a1", "a2", "b1"]),
        "org": st.sampled_from([None, None, None, "org1", "org2"]),
        "recusals": st.sets(st.sampled_from(["a1", "a2", "org1", "org2", "this", "other"]), max_size=2)
        | st.just(set()),
        "active": st.sampled_from([True] * 5 + [False]),
        "in_pool": st.sampled_from([True] * 5 + [False]),  # holds the expert role
        "named": st.sampled_from([False] * 5 + [True]),  # a teacher named in the submission
    }
)
SCENARIO = st.fixed_dictionaries(
    {
        "experts": st.lists(EXPERT, min_size=1, max_size=10),
        "by": st.sampled_from(["school", "organisation"]),
        "category": st.sampled_from(SPECIALITIES),
        "submitter": st.none() | st.integers(0, 9),  # which expert, if any, is also the submitter
        "size": st.integers(1, 5),
        "seed": st.text(alphabet="0123456789abcdef", min_size=1, max_size=32),
        "declines": st.integers(0, 3),
    }
)


def conflicted(e: dict[str, Any], *, by: str, category: str, is_submitter: bool) -> bool:
    """The rules, written independently of the service."""
    own = "a1" if by == "school" else "org1"
    return (
        not e["active"]
        or not e["in_pool"]
        or category not in e["specialities"]
        or (by == "school" and e["school"] == "a1")
        or (by == "organisation" and e["org"] == "org1")
        or own in e["recusals"]
        or "this" in e["recusals"]
        or is_submitter
        or e["named"]
    )


@settings(
    max_examples=40,
    # Every example writes to the database: a failure is reported as generated, not shrunk (shrinking takes minutes).
    phases=[Phase.explicit, Phase.generate],
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=SCENARIO)
def test_no_conflicted_expert_is_ever_drawn(city: City, scenario: dict[str, Any]) -> None:
    cat = _bare_catalog()
    with transaction.atomic():  # each example starts from the same city and rolls back
        _check_scenario(city, cat, scenario)
        transaction.set_rollback(True)


def _bare_catalog() -> dict[str, Any]:
    return setup_catalog(experts=0)


def _check_scenario(city: City, cat: dict[str, Any], s: dict[str, Any]) -> None:
    orgs = {"org1": organisation(city.district_a), "org2": organisation(city.district_b)}
    schools = {"a1": city.a1, "a2": city.a2, "b1": city.b1}
    by_school = s["by"] == "school"
    ExpertProfile.objects.update(specialities=[])  # the fixtures' experts: out of every draw here
    category = next(c for c in cat["categories"].values() if c.name == s["category"])
    # Given a pool of experts with random specialities, affiliations, status and roles
    experts: list[ExpertProfile] = []
    for e in s["experts"]:
        user = f.UserFactory(is_active=e["active"])
        if e["in_pool"]:
            f.grant(user, Role.EXPERT)
        experts.append(
            ExpertProfile.objects.create(
                user=user,
                specialities=e["specialities"],
                affiliation_school=schools.get(e["school"] or ""),
                affiliation_organisation=orgs.get(e["org"] or ""),
            )
        )
    submitter_index = s["submitter"] if s["submitter"] is not None and s["submitter"] < len(experts) else None
    # And a submitter (school A1's admin, or an outside teacher of org1), possibly one of the experts
    if by_school:
        submitter = experts[submitter_index].user if submitter_index is not None else city.users["school_admin"]
        if submitter_index is not None:
            f.grant(submitter, Role.SCHOOL_ADMIN, school=city.a1)
        teacher_ids = [TeacherProfile.objects.get(user=city.users["teacher"]).pk]
    else:
        if submitter_index is not None:
            submitter = experts[submitter_index].user
            TeacherProfile.objects.create(user=submitter, kind="outside", organisation=orgs["org1"])
            f.grant(submitter, Role.TEACHER)
        else:
            submitter = outside_teacher(orgs["org1"])
        teacher_ids = [submitter.teacher_profile.pk]
    # And some experts are teachers named in the course
    for i, e in enumerate(s["experts"]):
        if not e["named"]:
            continue
        user = experts[i].user
        profile = TeacherProfile.objects.filter(user=user).first()
        if profile is None and by_school:
            profile = TeacherProfile.objects.create(user=user, kind="staff")
            profile.schools.add(city.a1)
        elif profile is None:
            profile = TeacherProfile.objects.create(user=user, kind="outside", organisation=orgs["org1"])
        teacher_ids.append(profile.pk)
    school = city.a1 if by_school else None
    fields = course_fields(category, sorted(set(teacher_ids)))
    sub = submissions.submission_create(actor=submitter, school=school, library="city", fields=fields, now=NOW)
    other = submissions.submission_create(actor=submitter, school=school, library="city", fields=fields, now=NOW)
    # And declared recusals (one for another submission, which must not exclude anyone)
    recusal_targets = {
        "a1": {"school": city.a1},
        "a2": {"school": city.a2},
        "org1": {"organisation": orgs["org1"]},
        "org2": {"organisation": orgs["org2"]},
        "this": {"submission": sub},
        "other": {"submission": other},
    }
    for expert, e in zip(experts, s["experts"], strict=True):
        for r in e["recusals"]:
            ExpertRecusal.objects.create(expert=expert, reason="回避", declared_at=NOW, **recusal_targets[r])
    eligible = sorted(
        expert.pk
        for i, (expert, e) in enumerate(zip(experts, s["experts"], strict=True))
        if not conflicted(e, by=s["by"], category=s["category"], is_submitter=i == submitter_index)
    )
    size = s["size"]
    import sys

    print("ELIG", len(eligible), size, len(experts), file=sys.stderr)
    # When the city draws a panel
    if len(eligible) < size:
        # Then a panel that cannot be filled is refused and nothing is written
        with nothing_changes(), pytest.raises(KehouError) as refused:
            review.panel_draw(actor=city.users["city_admin"], submission=sub, now=NOW, size=size, seed=s["seed"])
        assert refused.value.code == "panel_unfillable"
        assert refused.value.fields == {"eligible": len(eligible), "needed": size}
        return
    panel = review.panel_draw(actor=city.users["city_admin"], submission=sub, now=NOW, size=size, seed=s["seed"])
    # Then the pool is exactly the non-conflicted experts, the panel has exactly its size, and none is conflicted
    assert panel.pool == eligible
    drawn = members_in_order(panel)
    assert len(drawn) == len(set(drawn)) == size
    assert set(drawn) <= set(eligible)
    # And every redraw after a decline stays within the eligible, in draw order
    for _ in range(s["declines"]):
        member = panel.members.filter(status="active").order_by("draw_position").select_related("expert__user")[0]
        try:
            replacement = review.member_decline(actor=member.expert.user, member=member, reason="时间冲突", now=NOW)
        except KehouError as exc:
            assert exc.code == "panel_unfillable"
            assert panel.members.count() == len(eligible)
            break
        assert replacement.expert_id in eligible
        assert panel.members.filter(status="active").count() == size
    assert review.panel_verify(panel)


# --- a panel that cannot be filled --------------------------------------------------------------------------------
def test_a_panel_that_cannot_be_filled_is_refused_not_shrunk(city: City) -> None:
    # Given only 3 eligible experts of the speciality (the fixture's expert and two more), and a panel of 5
    cat = setup_catalog(experts=2)
    f.expert(["体育"])  # another speciality: not eligible
    sub = submit_course(city, cat["categories"]["science"])
    # When the city draws
    with nothing_changes(), pytest.raises(KehouError) as refused:
        draw_panel(sub, city.users["city_admin"])
    # Then it is refused with a clear error and nothing is written
    assert refused.value.code == "panel_unfillable" and refused.value.status == 409
    assert refused.value.fields == {"eligible": 3, "needed": 5}
    assert Submission.objects.get(pk=sub.pk).status == "submitted"
    # And a panel of 3 can be drawn
    assert draw_panel(sub, city.users["city_admin"], size=3).members.count() == 3


# --- the panel's size ---------------------------------------------------------------------------------------------
def test_panel_size_comes_from_the_city_policy(city: City, cat: dict[str, Any]) -> None:
    ReviewPolicy.objects.filter(region=cat["city"]).update(panel_size=3)
    panel = draw_panel(submit_course(city, cat["categories"]["science"]), city.users["city_admin"])
    assert panel.size == 3 and panel.members.count() == 3


def test_a_district_policy_overrides_the_city_default_for_its_library(city: City, cat: dict[str, Any]) -> None:
    # Given district A's own policy of 4, and district B with none
    ReviewPolicy.objects.create(region=city.district_a, panel_size=4)
    admin_b = district_admin_of(city.district_b)
    b_admin = f.UserFactory()
    f.grant(b_admin, Role.SCHOOL_ADMIN, school=city.b1)
    b_teacher = f.teacher_at(city.b1)
    sub_a = submit_course(city, cat["categories"]["science"], library="district")
    sub_b = submit_course(
        city,
        cat["categories"]["science"],
        library="district",
        actor=b_admin,
        school=city.b1,
        teacher_ids=[b_teacher.teacher_profile.pk],
    )
    sub_city = submit_course(city, cat["categories"]["science"], name="市级")
    # Then district A's panels have 4, district B's the city's 5, the city library's 5
    assert draw_panel(sub_a, city.users["district_admin"]).members.count() == 4
    assert draw_panel(sub_b, admin_b).members.count() == 5
    assert draw_panel(sub_city, city.users["city_admin"]).members.count() == 5


def test_an_explicit_size_overrides_the_policy(city: City, cat: dict[str, Any]) -> None:
    panel = draw_panel(submit_course(city, cat["categories"]["science"]), city.users["city_admin"], size=2)
    assert panel.size == 2 and members_in_order(panel) == draw.first(panel.seed, panel.pool, 2)


@pytest.mark.parametrize("size", [0, -1, 16])
def test_an_impossible_size_is_refused(city: City, cat: dict[str, Any], size: int) -> None:
    sub = submit_course(city, cat["categories"]["science"])
    with nothing_changes(), pytest.raises(KehouError) as refused:
        draw_panel(sub, city.users["city_admin"], size=size)
    assert refused.value.code == "invalid_panel_size"


# --- who may draw ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "role", ["district_admin", "school_admin", "teacher", "expert", "parent", "operator_staff", "nobody"]
)
def test_only_the_city_draws_for_the_city_library(city: City, cat: dict[str, Any], role: str) -> None:
    sub = submit_course(city, cat["categories"]["science"])
    with nothing_changes(), pytest.raises(Forbidden) as refused:
        draw_panel(sub, city.users[role])
    assert refused.value.status == 403 and refused.value.code == "not_city_admin"


@pytest.mark.parametrize("who", ["other_district_admin", "school_admin", "teacher", "expert", "parent", "nobody"])
def test_only_that_districts_bureau_draws_for_a_district_library(city: City, cat: dict[str, Any], who: str) -> None:
    sub = submit_course(city, cat["categories"]["science"], library="district")
    actor = district_admin_of(city.district_b) if who == "other_district_admin" else city.users[who]
    with nothing_changes(), pytest.raises(NotFound):
        draw_panel(sub, actor)
    # And district A's own bureau may
    assert draw_panel(sub, city.users["district_admin"]).region == city.district_a


def test_a_second_draw_while_a_panel_is_open_is_refused(city: City, cat: dict[str, Any]) -> None:
    sub = submit_course(city, cat["categories"]["science"])
    draw_panel(sub, city.users["city_admin"])
    with nothing_changes(), pytest.raises(Conflict) as refused:
        draw_panel(sub, city.users["city_admin"], seed="another")
    assert refused.value.code == "not_awaiting_review"


# --- declines and redraws -----------------------------------------------------------------------------------------
def test_a_decliner_is_replaced_by_the_next_expert_in_draw_order(city: City, cat: dict[str, Any]) -> None:
    # Given a panel of 5 from a pool of 9
    sub = submit_course(city, cat["categories"]["science"])
    panel = draw_panel(sub, city.users["city_admin"])
    order = draw.draw_order(panel.seed, panel.pool)
    assert len(order) == 9
    seat = panel.members.get(draw_position=2)
    # When the third expert declines
    replacement = review.member_decline(actor=seat.expert.user, member=seat, reason="出差", now=NOW)
    # Then the sixth in draw order takes the seat, recorded as replacing them, and the draw still verifies
    seat.refresh_from_db()
    assert seat.status == "declined" and seat.decline_reason == "出差" and seat.declined_at == NOW
    assert (replacement.expert_id, replacement.draw_position, replacement.replaces_id) == (order[5], 5, seat.pk)
    assert review.panel_verify(panel)
    logged = AuditEntry.objects.get(action="panel.member_declined")
    assert logged.after == {"declined": seat.expert_id, "replacement": order[5], "draw_position": 5, "reason": "出差"}
    # And when the replacement declines too, the seventh takes it
    again = review.member_decline(actor=replacement.expert.user, member=replacement, reason="回避", now=NOW)
    assert (again.expert_id, again.draw_position, again.replaces_id) == (order[6], 6, replacement.pk)
    assert panel.members.filter(status="active").count() == 5
    assert review.panel_verify(panel)


def test_declining_twice_or_after_scoring_is_refused(city: City, cat: dict[str, Any]) -> None:
    sub = submit_course(city, cat["categories"]["science"])
    panel = draw_panel(sub, city.users["city_admin"])
    first, second = panel.members.order_by("draw_position")[:2]
    review.member_decline(actor=first.expert.user, member=first, reason="出差", now=NOW)
    with nothing_changes(), pytest.raises(Conflict) as twice:
        review.member_decline(actor=first.expert.user, member=first, reason="出差", now=NOW)
    assert twice.value.code == "cannot_decline"
    review.score_submit(
        actor=second.expert.user, member=second, item_scores=all_items(8), vetoed_items=[], comment="好", now=NOW
    )
    with nothing_changes(), pytest.raises(Conflict) as scored:
        review.member_decline(actor=second.expert.user, member=second, reason="出差", now=NOW)
    assert scored.value.code == "cannot_decline"


def test_only_the_seated_expert_declines_their_seat_and_gives_a_reason(city: City, cat: dict[str, Any]) -> None:
    sub = submit_course(city, cat["categories"]["science"])
    panel = draw_panel(sub, city.users["city_admin"])
    seat, other = panel.members.order_by("draw_position")[:2]
    with nothing_changes(), pytest.raises(NotFound):
        review.member_decline(actor=other.expert.user, member=seat, reason="出差", now=NOW)
    with nothing_changes(), pytest.raises(NotFound):
        review.member_decline(actor=city.users["city_admin"], member=seat, reason="出差", now=NOW)
    with nothing_changes(), pytest.raises(KehouError) as no_reason:
        review.member_decline(actor=seat.expert.user, member=seat, reason="  ", now=NOW)
    assert no_reason.value.code == "reason_required"


def test_a_decline_with_no_one_left_to_draw_is_refused_and_changes_nothing(city: City) -> None:
    # Given a panel of 3 drawn from exactly 4 eligible experts, after one decline has used the last of them
    cat = setup_catalog(experts=3)
    sub = submit_course(city, cat["categories"]["science"])
    panel = draw_panel(sub, city.users["city_admin"], size=3)
    first = panel.members.get(draw_position=0)
    review.member_decline(actor=first.expert.user, member=first, reason="出差", now=NOW)
    seat = panel.members.get(draw_position=1)
    # When another member declines
    with nothing_changes(), pytest.raises(KehouError) as refused:
        review.member_decline(actor=seat.expert.user, member=seat, reason="出差", now=NOW)
    # Then it is refused (the panel is not left short) and the member keeps the seat
    assert refused.value.code == "panel_unfillable"
    assert PanelMember.objects.get(pk=seat.pk).status == "active"


def test_declining_after_the_decision_is_refused(city: City, cat: dict[str, Any]) -> None:
    sub = submit_course(city, cat["categories"]["science"])
    panel = draw_panel(sub, city.users["city_admin"], size=3)
    score_all(panel)
    review.panel_decide(actor=city.users["city_admin"], panel=panel, now=NOW)
    seat = panel.members.first()
    assert seat is not None
    with nothing_changes(), pytest.raises(Conflict) as refused:
        review.member_decline(actor=seat.expert.user, member=seat, reason="出差", now=NOW)
    assert refused.value.code == "panel_closed"


# --- cancelling a panel that cannot finish --------------------------------------------------------------------------
def test_a_stuck_panel_is_cancelled_and_a_new_round_drawn(city: City) -> None:
    # Given a panel of 3 from exactly 3 eligible experts: no one is left to replace a decliner
    cat = setup_catalog(experts=2)
    sub = submit_course(city, cat["categories"]["science"])
    panel = draw_panel(sub, city.users["city_admin"], size=3)
    seat = panel.members.get(draw_position=0)
    with pytest.raises(KehouError):
        review.member_decline(actor=seat.expert.user, member=seat, reason="回避", now=NOW)
    # When the city cancels the panel
    cancelled = review.panel_cancel(actor=city.users["city_admin"], panel=panel, reason="无法补足", now=NOW)
    # Then it is closed, its seats kept, the submission awaits review again, and the cancellation is audited
    assert cancelled.status == "cancelled" and panel.members.count() == 3
    assert Submission.objects.get(pk=sub.pk).status == "submitted"
    assert AuditEntry.objects.get(action="panel.cancelled").after == {"reason": "无法补足"}
    with nothing_changes(), pytest.raises(Conflict) as closed:
        review.score_submit(
            actor=seat.expert.user, member=seat, item_scores=all_items(9), vetoed_items=[], comment="好", now=NOW
        )
    assert closed.value.code == "panel_closed"
    # And once the pool has grown, a second round is drawn
    f.expert(["科技"])
    second = draw_panel(sub, city.users["city_admin"], size=3, seed="round-2")
    assert (second.round, second.status) == (2, "open") and review.panel_verify(second)


def test_only_an_open_panel_is_cancelled_by_its_bureau_with_a_reason(city: City, cat: dict[str, Any]) -> None:
    sub = submit_course(city, cat["categories"]["science"], library="district")
    panel = draw_panel(sub, city.users["district_admin"], size=3)
    for actor, error in ((district_admin_of(city.district_b), NotFound), (city.users["school_admin"], NotFound)):
        with nothing_changes(), pytest.raises(error):
            review.panel_cancel(actor=actor, panel=panel, reason="无法补足", now=NOW)
    with nothing_changes(), pytest.raises(KehouError) as no_reason:
        review.panel_cancel(actor=city.users["district_admin"], panel=panel, reason=" ", now=NOW)
    assert no_reason.value.code == "reason_required"
    score_all(panel)
    review.panel_decide(actor=city.users["district_admin"], panel=panel, now=NOW)
    with nothing_changes(), pytest.raises(Conflict) as decided:
        review.panel_cancel(actor=city.users["district_admin"], panel=panel, reason="无法补足", now=NOW)
    assert decided.value.code == "panel_closed"
