"""The dashboards in a real browser: the city bureau drills city → district → school → its classes and back by the
breadcrumb; a district bureau on a phone starts at its own district."""

from __future__ import annotations

from typing import Any

import pytest

from kehou.conftest import City
from kehou.portal.tests.test_browser import DESKTOP, PHONE, browser, page_factory, password_login  # noqa: F401
from kehou.supervision.services.rollup import rollup_days, rollup_terms
from kehou.supervision.tests.test_dashboard import marked  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_city_drills_down_to_a_schools_classes(
    city: City,
    live_server: Any,
    page_factory: Any,  # noqa: F811
    marked: Any,  # noqa: F811
) -> None:
    cls, session, at = marked
    rollup_days([(city.a1.pk, session.date)], now=at)
    rollup_terms(now=at, term=cls.term)
    base = live_server.url
    page = page_factory(DESKTOP)
    password_login(page, base, city.users["city_admin"].username)
    page.goto(f"{base}/supervision/")
    assert page.is_visible("[data-kpi=attendance]") and "75%" in page.inner_text("[data-kpi=attendance]")
    page.click(f"[data-rows=district] [data-row='{city.district_a.code}'] a")
    page.wait_for_selector("[data-rows=school]")
    page.click(f"[data-rows=school] [data-row='{city.a1.code}'] a")
    page.wait_for_selector("[data-rows=class]")
    assert cls.name in page.inner_text("[data-rows=class]")
    crumbs = [a.inner_text() for a in page.query_selector_all("[data-breadcrumb] a")]
    assert len(crumbs) == 2 and crumbs[1] == city.district_a.name  # the city, the district; the school is here
    page.click("[data-breadcrumb] a >> nth=0")  # back to the city
    page.wait_for_selector("[data-rows=district]")

    phone = page_factory(PHONE)
    password_login(phone, base, city.users["district_admin"].username)
    phone.goto(f"{base}/supervision/")
    assert city.district_a.name in phone.inner_text("h1")
    assert phone.is_visible(f"[data-rows=school] [data-row='{city.a1.code}']")
