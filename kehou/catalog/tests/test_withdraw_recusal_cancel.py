"""Withdrawing a submission, declaring a recusal, cancelling a panel that cannot finish — services and API."""

from typing import Any

import pytest

from kehou.catalog.models import ExpertRecusal, Panel, Submission
from kehou.catalog.services import review
from kehou.catalog.tests.factories import NOW, draw_panel, nothing_changes, setup_catalog, submit_course
from kehou.conftest import api_as
from kehou.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def cat(city: Any) -> dict[str, Any]:
    return setup_catalog(experts=6)


def test_the_submitting_school_withdraws_a_submission_awaiting_review(city, cat):
    sub = submit_course(city, cat["categories"]["science"])
    response = api_as(city.users["school_admin"]).post(
        f"/api/v1/submissions/{sub.pk}/withdraw", {"reason": "课程调整"}, format="json"
    )
    assert response.status_code == 200, response.content
    sub.refresh_from_db()
    assert sub.status == Submission.Status.WITHDRAWN
    assert AuditEntry.objects.filter(action="submission.withdrawn", object_id=str(sub.pk)).count() == 1


def test_a_submission_under_review_cannot_be_withdrawn_and_nothing_changes(city, cat):
    sub = submit_course(city, cat["categories"]["science"])
    draw_panel(sub, city.users["city_admin"])
    with nothing_changes():
        response = api_as(city.users["school_admin"]).post(
            f"/api/v1/submissions/{sub.pk}/withdraw", {"reason": "x"}, format="json"
        )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_withdrawable"


@pytest.mark.parametrize("role", ["district_admin", "teacher", "parent", "expert", "operator_staff"])
def test_others_cannot_withdraw(city, cat, role):
    sub = submit_course(city, cat["categories"]["science"])
    with nothing_changes():
        response = api_as(city.users[role]).post(
            f"/api/v1/submissions/{sub.pk}/withdraw", {"reason": "x"}, format="json"
        )
    assert response.status_code == 404


def test_an_expert_who_recused_from_a_school_is_never_drawn_for_it(city, cat):
    # Given every eligible expert but five has recused from school A1
    experts = cat["experts"]
    for user in experts[5:]:
        response = api_as(user).post(
            "/api/v1/recusals/", {"school": city.a1.pk, "reason": "曾在该校任教"}, format="json"
        )
        assert response.status_code == 201, response.content
    sub = submit_course(city, cat["categories"]["science"])
    # When the city draws a panel of five
    panel = draw_panel(sub, city.users["city_admin"], size=5)
    # Then none of the recused experts sits on it, and a sixth seat cannot be filled
    recused = {u.expert_profile.pk for u in experts[5:]}
    assert not recused & set(panel.members.values_list("expert_id", flat=True))
    assert ExpertRecusal.objects.count() == len(experts) - 5
    mine = api_as(experts[5]).get("/api/v1/recusals/").json()
    assert [r["school"] for r in mine["results"]] == [city.a1.name]


def test_a_recusal_needs_a_target_and_a_reason_and_an_expert(city, cat):
    expert = cat["experts"][0]
    with nothing_changes():
        assert api_as(expert).post("/api/v1/recusals/", {"reason": "x"}, format="json").json()["error"]["code"] == (
            "recusal_without_target"
        )
        assert (
            api_as(expert)
            .post("/api/v1/recusals/", {"school": city.a1.pk, "reason": " "}, format="json")
            .json()["error"]["code"]
            == "reason_required"
        )
        response = api_as(city.users["parent"]).post(
            "/api/v1/recusals/", {"school": city.a1.pk, "reason": "x"}, format="json"
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "not_an_expert"


def test_the_bureau_cancels_a_panel_and_draws_a_new_round(city, cat):
    sub = submit_course(city, cat["categories"]["science"])
    panel = draw_panel(sub, city.users["city_admin"], size=5)
    # A district admin may not cancel a city-library panel
    with nothing_changes():
        denied = api_as(city.users["district_admin"]).post(
            f"/api/v1/panels/{panel.pk}/cancel", {"reason": "x"}, format="json"
        )
    assert denied.status_code in (403, 404)
    response = api_as(city.users["city_admin"]).post(
        f"/api/v1/panels/{panel.pk}/cancel", {"reason": "专家不足"}, format="json"
    )
    assert response.status_code == 200, response.content
    panel.refresh_from_db()
    sub.refresh_from_db()
    assert panel.status == Panel.Status.CANCELLED
    assert sub.status == Submission.Status.SUBMITTED
    second = review.panel_draw(actor=city.users["city_admin"], submission=sub, now=NOW, seed="round-2", size=5)
    assert second.round == 2
    assert review.panel_verify(second)


# --- pages -----------------------------------------------------------------------------------------------------
def test_pages_offer_withdraw_cancel_and_recuse(city, cat):
    from kehou.conftest import page_as

    sub = submit_course(city, cat["categories"]["science"])
    school = page_as(city.users["school_admin"])
    assert 'data-section="withdraw"' in school.get(f"/submissions/{sub.pk}/").content.decode()
    # The bureau's panel page offers cancellation while the panel is open
    panel = draw_panel(sub, city.users["city_admin"], size=5)
    bureau = page_as(city.users["city_admin"])
    assert 'data-section="cancel"' in bureau.get(f"/review/panels/{panel.pk}/").content.decode()
    # An expert on the panel recuses through the score sheet: recorded, and the seat redrawn
    seat = panel.members.select_related("expert__user").first()
    expert = page_as(seat.expert.user)
    assert 'data-section="recuse"' in expert.get(f"/review-tasks/{seat.pk}/").content.decode()
    response = expert.post(f"/review-tasks/{seat.pk}/recuse", {"reason": "曾在该校任教"})
    assert response.status_code == 302
    seat.refresh_from_db()
    assert seat.status == "declined"
    assert ExpertRecusal.objects.filter(expert=seat.expert, school=city.a1).count() == 1
    assert review.panel_verify(panel)
    # The bureau cancels the panel from its page
    response = bureau.post(f"/review/panels/{panel.pk}/cancel", {"reason": "重新抽取"})
    assert response.status_code == 302
    panel.refresh_from_db()
    assert panel.status == Panel.Status.CANCELLED
    # And the school withdraws the submission, which now awaits review again
    response = school.post(f"/submissions/{sub.pk}/withdraw", {"reason": "课程调整"})
    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.status == Submission.Status.WITHDRAWN


def test_a_recusal_page_action_by_another_expert_is_404_and_changes_nothing(city, cat):
    from kehou.conftest import page_as

    sub = submit_course(city, cat["categories"]["science"])
    panel = draw_panel(sub, city.users["city_admin"], size=5)
    seat = panel.members.first()
    outsider = next(
        u for u in cat["experts"] if u.expert_profile.pk not in set(panel.members.values_list("expert_id", flat=True))
    )
    with nothing_changes():
        response = page_as(outsider).post(f"/review-tasks/{seat.pk}/recuse", {"reason": "x"})
    assert response.status_code == 404
