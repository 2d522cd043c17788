"""Issue 14 on the enrolment pages: the class list lays out the seats first (the seven seat figures as columns,
the rest folded; the school only when several are in view) and a teacher reads their own classes as cards with
no admin filters; rejecting a hardship waiver asks for its reason, on the page and in the action."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kehou.conftest import City
from kehou.core.models import AuditEntry
from kehou.enrolment.models import HardshipWaiver
from kehou.enrolment.services.waivers import waiver_request

from .factories import NOW, autumn_term, school_admin
from .test_pages_school import frozen, html, messages_of, page_as, sheet, state, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
SEAT_HEADERS = ["Capacity", "Taken", "Held", "Confirmed", "Waiting", "Applied", "Seats left"]


def headers(text: str) -> list[str]:
    head = re.search(r"<thead><tr>(.*?)</tr></thead>", text, re.S).group(1)  # type: ignore[union-attr]
    return re.findall(r"<th scope=\"col\"[^>]*>([^<]*)</th>", head)


def row_of(text: str, name: str) -> str:
    return re.search(rf"<tr><th scope=\"row\"><a href=\"/classes/\d+/\">{name}</a></th>.*?</tr>", text, re.S).group(0)  # type: ignore[union-attr]


# --- the class list ----------------------------------------------------------------------------------------------
def test_the_school_s_class_list_shows_the_seats_as_narrow_figures_and_folds_the_rest(city: City, world: Any) -> None:  # noqa: F811
    text = html(page_as(world["admin"]).get("/classes/"))
    # The seat figures follow the class and its times, as right-aligned figures; no term, kind or school column
    # for a school (the term is a filter, the kind a tag)
    assert headers(text) == ["Course class", "Grades · teacher", "When and where", *SEAT_HEADERS, "Fee"]
    assert 'class="list seats"' in text and '<body class=" wide"' in text
    chess = row_of(text, "围棋")
    figures = re.findall(r'<td class="num[^"]*">([^<]*)</td>', chess)
    # capacity 1, taken 1 (held), confirmed 0, one waiting, no application, no seat left; the fee
    assert figures == ["1", "1", "1", "0", "1", "0", "0", "¥600.00"]
    assert 'class="num left full"' in chess  # no seat left, in the colour that says so
    # A bureau sees the school too
    district = html(page_as(city.users["district_admin"]).get("/classes/"))
    assert headers(district)[1] == "School"
    # The export keeps every column, plain values
    rows = sheet(page_as(world["admin"]).get("/classes/", {"format": "xlsx"}))
    assert rows[0][:4] == ["Course class", "School", "Kind", "Term"] and rows[0][-1] == "Flag"


def test_a_teacher_reads_their_own_classes_as_cards_without_the_admin_filters(city: City, world: Any) -> None:  # noqa: F811
    teacher = world["chess"].teacher.user
    text = html(page_as(teacher).get("/classes/"))
    assert "data-teacher-classes" in text and "<h1>My classes" in text
    assert 'class="filters' not in text and "<table" not in text and "format=xlsx" not in text
    card = re.search(r'<li class="card kh-class" data-class="\d+">.*?</li>', text, re.S).group(0)  # type: ignore[union-attr]
    assert "围棋" in card and "机器人编程" not in text
    assert f'href="/classes/{world["chess"].pk}/"' in card
    assert "Tue 16:00–17:00" in card and "1 held" in card and "1 waiting" in card
    assert "data-next>September 1 Tue<" in card  # the term's first Tuesday
    assert "0 of 1 pupils confirmed" in card
    # A school administrator who also teaches keeps the table
    assert "<table" in html(page_as(world["admin"]).get("/classes/"))


# --- rejecting a waiver asks for the reason -------------------------------------------------------------------------
def _pending(city: City) -> HardshipWaiver:
    return waiver_request(
        actor=school_admin(city.a1), pupil=city.pupil_a1, term=autumn_term(), reason="低保家庭", now=NOW
    )


def test_the_waiver_page_s_reject_asks_for_a_required_reason(city: City, world: Any) -> None:  # noqa: F811
    waiver = _pending(city)
    text = html(page_as(world["admin"]).get("/waivers/"))
    form = re.search(r"<details class=\"reject\" data-reject>.*?</details>", text, re.S).group(0)  # type: ignore[union-attr]
    assert f'action="/waivers/{waiver.pk}/decide"' in form
    assert '<input name="reason" required maxlength="200"' in form
    assert 'name="decision" value="reject"' in form and "data-confirm=" in form


def test_a_waiver_is_not_rejected_without_a_reason_and_the_reason_is_kept(city: City, world: Any) -> None:  # noqa: F811
    waiver = _pending(city)
    client = page_as(world["admin"])
    before = state()
    response = client.post(f"/waivers/{waiver.pk}/decide", {"decision": "reject", "reason": "  "}, follow=True)
    assert "Give the reason for rejecting the waiver." in messages_of(response)
    waiver.refresh_from_db()
    assert waiver.status == "pending" and state() == before
    client.post(f"/waivers/{waiver.pk}/decide", {"decision": "reject", "reason": "材料不全，请补交低保证明"})
    waiver.refresh_from_db()
    assert waiver.status == "rejected"
    entry = AuditEntry.objects.get(action="waiver.rejected")
    assert entry.after == {"status": "rejected", "reason": "材料不全，请补交低保证明"}
    # Approving needs no reason
    second = _pending_other(city)
    client.post(f"/waivers/{second.pk}/decide", {"decision": "approve"})
    second.refresh_from_db()
    assert second.status == "approved"


def _pending_other(city: City) -> HardshipWaiver:
    from kehou.testing import factories as f

    pupil = f.PupilFactory(school=city.a1)
    return waiver_request(actor=school_admin(city.a1), pupil=pupil, term=autumn_term(), reason="残疾", now=NOW)
