"""Issue 14: README's review walk-through says the drawn experts' usernames are on the panel page; the page showed
their names and the pool's ids. The bureau now reads each member and each expert of the draw order by the
username they log in with (and their name); the ids stay in the folded re-run details for whoever re-runs the draw."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone

from kehou.catalog.services import review
from kehou.catalog.tests.factories import setup_catalog
from kehou.catalog.tests.test_api_admin import submit
from kehou.conftest import City, page_as

pytestmark = pytest.mark.django_db


def html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_panel_page_names_each_drawn_expert_by_username(city: City) -> None:
    # Given a panel of 5 drawn from the pool of eligible experts for a school's course
    cat = setup_catalog(experts=8)
    panel = review.panel_draw(
        actor=city.users["city_admin"],
        submission=submit(city, cat["categories"]["science"]),
        now=timezone.now(),
        seed="usernames",
    )
    members = list(panel.members.select_related("expert__user").order_by("draw_position"))
    # When the city bureau opens the panel page
    text = html(page_as(city.users["city_admin"]).get(f"/review/panels/{panel.pk}/"))
    # Then each member's row shows the username to log in with, and the name
    table = re.search(r'<section class="card" aria-labelledby="h-members">.*?</section>', text, re.S).group(0)
    assert re.findall(r"<strong class=\"mono\" data-username>([^<]+)</strong>", table) == [
        m.expert.user.username for m in members
    ]
    assert all(m.expert.user.full_name in table for m in members)
    # and the draw order lists the whole pool by username, the seated ones first
    order = re.search(r"<ol class=\"order\" data-draw-order>(.*?)</ol>", text, re.S).group(1)
    listed = re.findall(r'<span class="mono">([^<]+)</span>', order)
    assert len(listed) == len(panel.pool) and listed[: len(members)] == [m.expert.user.username for m in members]
    # and the pool reads as a number of experts; its ids only in the folded re-run details
    draw = re.search(r'<section class="card" aria-labelledby="h-draw" data-verify>.*?</section>', text, re.S).group(0)
    ids = ", ".join(str(i) for i in panel.pool)
    assert f"{len(panel.pool)} 位符合条件的专家" in draw
    folded = re.search(r"<details class=\"engineer\" data-engineer>.*?</details>", draw, re.S).group(0)
    assert ids in folded and ids not in draw.replace(folded, "")


def test_the_submitting_school_reads_no_usernames_on_the_panel_page(city: City) -> None:
    cat = setup_catalog(experts=6)
    panel = review.panel_draw(
        actor=city.users["city_admin"],
        submission=submit(city, cat["categories"]["science"]),
        now=timezone.now(),
        seed="private",
    )
    text = html(page_as(city.users["school_admin"]).get(f"/review/panels/{panel.pk}/"))
    assert "data-username" not in text and "data-draw-order" not in text
    for member in panel.members.select_related("expert__user"):
        assert member.expert.user.username not in text and member.expert.user.full_name not in text
