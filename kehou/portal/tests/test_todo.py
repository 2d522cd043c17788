"""Issue 14: every home starts with the person's to-do list (the work waiting, counted in their scope, each item
linking to where it is done), in a few queries whatever the role. Before, homes showed no work waiting at all."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from kehou.catalog.models import Filing, LibraryEntry, Submission
from kehou.conftest import City, page_as
from kehou.enrolment.services.waivers import waiver_request
from kehou.enrolment.tests.factories import (
    NOW,
    autumn_term,
    category,
    city_region,
    family,
    make_class,
    school_admin,
    school_entry,
)
from kehou.payments.services.refunds import policy_set, refund_request
from kehou.payments.tests.factories import held_seat, ordered, pay_with_simulator, simulator  # noqa: F401
from kehou.testing import factories as f

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
FIRST_MONDAY = datetime(2026, 9, 7, 10, 0, tzinfo=SHANGHAI)  # the autumn term's first Monday (sessions at 16:00)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, datetime]:
    state = {"now": NOW}
    monkeypatch.setattr("kehou.core.clock.now", lambda: state["now"])
    return state


def home(user: Any, lang: str = "") -> str:
    client = page_as(user)
    if lang:
        client.cookies["django_language"] = lang
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def todo(html: str) -> str:
    match = re.search(r'<section class="card todo[^"]*" data-todo-list.*?</section>', html, re.S)
    assert match, "no to-do list on the home page"
    return match.group(0)


def item(html: str, kind: str) -> str:
    match = re.search(rf'<li data-todo="{kind}">.*?</li>\s*(?=<li data-todo|</ul>\s*</section>)', todo(html), re.S)
    assert match, f"no {kind} item in the to-do list"
    return match.group(0)


def count_of(html: str, kind: str) -> int:
    return int(re.search(r"data-todo-count>(\d+)<", item(html, kind)).group(1))  # type: ignore[union-attr]


def kinds(html: str) -> list[str]:
    return re.findall(r'<li data-todo="([\w-]+)">', todo(html))


def pending_refund(school: Any) -> Any:
    """A paid place at the school cancelled after its first session, under a policy that asks the school."""
    seat = held_seat(school=school)
    order = ordered(seat)
    pay_with_simulator(seat, order)
    order.refresh_from_db()
    admin = f.UserFactory()
    f.grant(admin, "city_admin")
    policy_set(actor=admin, region=city_region(), after_start="pro_rata", approval_after_start=True, now=NOW)
    refund, _ = refund_request(
        actor=seat.parent, order=order, request_key="todo-refund", now=FIRST_MONDAY + timedelta(hours=8)
    )
    assert refund is not None and refund.status == "pending_approval"
    return refund


# --- a school's administrators ------------------------------------------------------------------------------------
def test_the_school_home_starts_with_refunds_waivers_returned_submissions_and_flagged_classes(
    city: City,
    simulator: Any,  # noqa: F811
    clock: Any,
) -> None:
    # Given at school A1: a refund awaiting approval, a waiver marked by another administrator, a submission
    # returned for revision, and a class whose course was suspended upstream
    admin = city.users["school_admin"]
    refund = pending_refund(city.a1)
    waiver_request(actor=school_admin(city.a1), pupil=city.pupil_a1, term=autumn_term(), reason="低保", now=NOW)
    Submission.objects.create(
        kind="course",
        library_region=city.district_a,
        submitter_school=city.a1,
        submitter_user=admin,
        title="需修改的课程",
        category=category(),
        status="returned",
        created_at=NOW,
        updated_at=NOW,
    )
    flagged = make_class(city.a1, admin=admin, name="被暂停的课")
    LibraryEntry.objects.filter(pk=flagged.entry.upstream_id).update(status="suspended")
    # And the same kinds of work at school A2, which is not theirs
    waiver_request(actor=school_admin(city.a2), pupil=city.pupil_a2, term=autumn_term(), reason="低保", now=NOW)
    # When its administrator opens the home page
    html = home(admin)
    # Then the page starts with the to-do list, before the school's figures
    assert html.index("data-todo-list") < html.index('data-section="school"')
    assert kinds(html) == ["refunds", "waivers", "flagged", "returned"]
    assert count_of(html, "refunds") == 1 and "1 笔退费等待您审批" in item(html, "refunds")
    assert f'href="/payments/refunds/?status=pending_approval&amp;school={city.a1.pk}"' in item(html, "refunds")
    assert count_of(html, "waivers") == 1  # A2's waiver is not counted
    assert f'href="/waivers/?status=pending&amp;school={city.a1.pk}"' in item(html, "waivers")
    assert f'href="/classes/?flagged=yes&amp;school={city.a1.pk}"' in item(html, "flagged")
    assert 'href="/submissions/?status=returned"' in item(html, "returned")
    # and the waiver marked by this administrator is not theirs to decide: the one who marked it sees no item
    marker = school_admin(city.b1)
    waiver_request(actor=marker, pupil=city.pupil_b1, term=autumn_term(), reason="低保", now=NOW)
    assert "waivers" not in kinds(home(marker))
    # and once the refund is decided, it leaves the list
    refund.status = "rejected"
    refund.save(update_fields=["status"])
    assert "refunds" not in kinds(home(admin))


def test_the_to_do_list_is_in_english_when_english_is_chosen(city: City, clock: Any) -> None:
    waiver_request(actor=school_admin(city.a1), pupil=city.pupil_a1, term=autumn_term(), reason="低保", now=NOW)
    html = home(city.users["school_admin"], lang="en")
    assert "Waiting for you" in todo(html)
    assert "1 hardship waiver awaits a second person&#x27;s decision" in item(html, "waivers")


# --- bureaus ------------------------------------------------------------------------------------------------------
def test_the_district_home_lists_the_waivers_of_its_schools_to_decide(city: City, clock: Any) -> None:
    waiver_request(actor=school_admin(city.a2), pupil=city.pupil_a2, term=autumn_term(), reason="低保", now=NOW)
    waiver_request(actor=school_admin(city.b1), pupil=city.pupil_b1, term=autumn_term(), reason="低保", now=NOW)
    html = home(city.users["district_admin"])
    assert html.index("data-todo-list") < html.index('data-section="district"')
    assert count_of(html, "waivers") == 1  # district B's waiver is not district A's work
    assert 'href="/waivers/?status=pending"' in item(html, "waivers")


def test_the_city_home_lists_filings_to_acknowledge_and_panels_to_decide(city: City, clock: Any) -> None:
    from kehou.catalog.tests.factories import setup_catalog
    from kehou.catalog.tests.test_api_admin import scored_panel, submit

    cat = setup_catalog()
    scored_panel(submit(city, cat["categories"]["science"]), city.users["city_admin"])
    submit(city, cat["categories"]["science"], name="天文观测")  # awaits a panel
    entry = school_entry(city.a1, name="围棋")
    for _ in range(2):
        Filing.objects.create(
            entry=entry,
            change="added",
            district=city.district_a,
            school=city.a1,
            filed_at=NOW,
            filed_by=city.users["school_admin"],
        )
    html = home(city.users["city_admin"])
    assert html.index("data-todo-list") < html.index('data-section="city"')
    assert count_of(html, "filings") == 2 and 'href="/filings/?status=filed"' in item(html, "filings")
    assert count_of(html, "decide") == 1
    assert "/review/panels/?library=360100&amp;status=open" in item(html, "decide")
    assert count_of(html, "draw") == 1 and "/review/?library=360100&amp;status=submitted" in item(html, "draw")


# --- experts, teachers, operators, parents --------------------------------------------------------------------------
def test_the_expert_home_starts_with_the_scores_due(city: City) -> None:
    from kehou.catalog.services import review
    from kehou.catalog.tests.factories import setup_catalog
    from kehou.catalog.tests.test_api_admin import submit

    cat = setup_catalog()
    panel = review.panel_draw(
        actor=city.users["city_admin"],
        submission=submit(city, cat["categories"]["science"]),
        now=timezone.now(),
        seed="todo",
    )
    expert = panel.members.select_related("expert__user").first().expert.user
    html = home(expert)
    assert count_of(html, "scores") == 1 and 'href="/review-tasks/?state=pending"' in item(html, "scores")


def test_the_teacher_home_shows_today_s_sessions_or_the_next_one(city: City, clock: Any) -> None:
    teacher = city.users["teacher"]
    make_class(city.a1, teacher=teacher.teacher_profile, name="围棋")
    # Before the term: no session today, the next one is on the first Monday at 16:00
    html = home(teacher)
    assert kinds(html) == ["next-session"]
    assert "围棋" in item(html, "next-session") and "16:00–17:00" in item(html, "next-session")
    assert "9月7日" in item(html, "next-session")
    # On the first Monday: today's session, with its class's page
    clock["now"] = FIRST_MONDAY
    html = home(teacher)
    assert count_of(html, "sessions") == 1 and "今天有 1 节课" in item(html, "sessions")
    assert re.search(r'href="/classes/\d+/">围棋</a>', item(html, "sessions"))


def test_a_role_with_nothing_waiting_is_told_so(city: City) -> None:
    html = home(city.users["operator_staff"])
    assert "data-nothing-waiting" in todo(html) and "目前没有等待您处理的事项" in todo(html)


def test_the_parent_home_shows_held_seats_with_their_deadline_and_children_still_to_choose(
    city: City,
    simulator: Any,  # noqa: F811
    clock: Any,
) -> None:
    # Given a parent whose first child holds a seat (15 minutes to pay) and whose second child, in the same
    # open window, has no place yet
    seat = held_seat(school=city.a1)
    _other, [sibling] = family(city.a1, grade=3)
    f.guardian_of(sibling, seat.parent)
    html = home(seat.parent)
    # Then the to-do list names the seat, links to paying for it and says until when
    held = item(html, "held")
    assert count_of(html, "held") == 1 and f'href="/parent/places/{seat.enrolment.pk}/pay/"' in held
    deadline = timezone.localtime(seat.enrolment.hold_expires_at).strftime("%m-%d %H:%M")
    assert f"请在 {deadline} 前缴费" in held and seat.course_class.name in held
    # and the child without a place, with the window's close
    choose = item(html, "choose")
    assert count_of(html, "choose") == 1 and sibling.name in choose and seat.pupil.name not in choose
    assert f'href="/parent/children/{sibling.pk}/classes/"' in choose


# --- cheap ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "budget"),
    [
        ("school_admin", 20),
        ("district_admin", 17),
        ("city_admin", 19),
        ("teacher", 15),
        ("parent", 14),
        ("expert", 13),
        ("operator_staff", 11),
    ],
)
def test_each_home_with_its_to_do_list_costs_a_few_queries(
    city: City, clock: Any, django_assert_max_num_queries: Any, role: str, budget: int
) -> None:
    client = page_as(city.users[role])
    client.get("/")  # the session and the caches warm
    with django_assert_max_num_queries(budget):
        assert client.get("/").status_code == 200
