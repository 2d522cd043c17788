"""The audit log carries the visibility of what it describes: who sits on a review panel, what each expert
scored and who recused are the reviewing bureau's to know, never the submitting school's (issue 14)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kehou.catalog.services import review
from kehou.catalog.tests.test_api_admin import cat, scored_panel, submit  # noqa: F401  (cat is a fixture)
from kehou.conftest import City, api_as, page_as
from kehou.core.tests.test_scope_walk import xlsx_text

REVIEW_ACTIONS = {"panel.drawn", "panel.scored", "panel.decided", "panel.member_declined", "expert.recused"}


def actions_seen(user) -> set[str]:
    body = api_as(user).get("/api/v1/audit/?page_size=200").json()
    return {row["action"] for row in body["results"]}


@pytest.mark.django_db
def test_the_submitting_school_does_not_read_its_panel_in_the_audit_log(city: City, cat) -> None:  # noqa: F811
    # Given a school's submission reviewed by a city panel (drawn, scored by every member, decided)
    sub = submit(city, cat["categories"]["science"])
    panel = scored_panel(sub, city.users["city_admin"])
    review.panel_decide(actor=city.users["city_admin"], panel=panel, now=timezone.now())
    members = [m.expert.user.get_username() for m in panel.members.select_related("expert__user")]
    # When the submitting school reads its audit log (API, page and Excel export)
    school = city.users["school_admin"]
    seen = actions_seen(school)
    page = page_as(school).get("/audit/")
    export = page_as(school).get("/audit/?format=xlsx")
    # Then it sees its own submission's entries but no panel, score or decision entry, nor any member's name
    assert "submission.created" in seen
    assert not (seen & REVIEW_ACTIONS)
    text = page.content.decode()
    assert all(name not in text for name in members)
    sheet = xlsx_text(export.getvalue())  # the sheet's text, not the deflated bytes
    assert sheet.count("<row") > 1  # its own entries are there
    assert all(name not in sheet for name in members)
    # While the city bureau, which ran the panel, sees them all
    assert {"panel.drawn", "panel.scored", "panel.decided"} <= actions_seen(city.users["city_admin"])


@pytest.mark.django_db
def test_a_district_bureau_sees_the_review_entries_of_its_own_library(city: City, cat) -> None:  # noqa: F811
    sub = submit(city, cat["categories"]["science"], library="district")
    scored_panel(sub, city.users["district_admin"])
    assert {"panel.drawn", "panel.scored"} <= actions_seen(city.users["district_admin"])
    assert not (actions_seen(city.users["school_admin"]) & REVIEW_ACTIONS)
