"""Pages of the city bureau, the district bureaus and the school admins: review queue, panel (draw, verify, decide),
libraries (adopt, pick, status), filings (acknowledge), standards, the home summaries and the Excel exports."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from kehou.catalog.models import FeeStandard, Filing, LibraryEntry, Panel, Submission
from kehou.catalog.services import libraries
from kehou.catalog.tests.factories import setup_catalog
from kehou.catalog.tests.test_api_admin import admitted, district_b_entry, scored_panel, state, submit
from kehou.conftest import City, page_as
from kehou.people.models import Role
from kehou.testing import factories as f

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def cells(response: Any) -> list[list[Any]]:
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def followed_messages(response: Any) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


@pytest.fixture
def world(city: City) -> dict[str, Any]:
    """A city course in the city library (adopted by district A, picked by school A1), a district B course, a
    submission awaiting a panel, and filings."""
    cat = setup_catalog()
    science = cat["categories"]["science"]
    city_entry = admitted(city, science)
    district_a = libraries.library_adopt(
        actor=city.users["district_admin"], district=city.district_a, city_entry=city_entry, now=timezone.now()
    )
    school_a1 = libraries.library_pick(
        actor=city.users["school_admin"], school=city.a1, entry=district_a, now=timezone.now()
    )
    b_entry = district_b_entry(city, science)
    waiting = submit(city, science, name="天文观测")
    return {
        "cat": cat,
        "city_entry": city_entry,
        "district_a": district_a,
        "school_a1": school_a1,
        "b_entry": b_entry,
        "waiting": waiting,
    }


# --- every page renders for the three admin roles, in Chinese --------------------------------------------------
PAGES = ("/review/", "/review/panels/", "/library/", "/filings/", "/standards/")


def test_pages_render_for_city_district_and_school_admins(city, world):
    for role in ("city_admin", "district_admin", "school_admin"):
        client = page_as(city.users[role])
        for url in PAGES:
            assert client.get(url).status_code == 200, (role, url)
        for url in (f"/library/{world['city_entry'].pk}/", f"/library/{world['school_a1'].pk}/"):
            assert client.get(url).status_code == 200, (role, url)
    text = html(page_as(city.users["city_admin"]).get("/review/"))
    assert "评审队列" in text and "抽取评审专家" in text
    assert "课程库" in html(page_as(city.users["school_admin"]).get("/library/"))
    assert "备案" in html(page_as(city.users["city_admin"]).get("/filings/"))


def test_menu_has_review_for_bureaus_and_libraries_for_schools(city, world):
    def menu(role: str) -> str:
        text = html(page_as(city.users[role]).get("/"))
        return re.search(r'<nav class="menu".*?</nav>', text, re.S).group(0)

    assert "/review/" in menu("city_admin") and "/library/" in menu("city_admin") and "/filings/" in menu("city_admin")
    assert "/review/" in menu("district_admin")
    school = menu("school_admin")
    assert "/review/" not in school and "/library/" in school and "/filings/" in school
    parent = menu("parent")
    assert "/library/" not in parent and "/review/" not in parent


# --- review queue and panel ------------------------------------------------------------------------------------
def test_review_queue_draw_button_and_panel_page(city, world):
    client = page_as(city.users["city_admin"])
    waiting = world["waiting"]
    text = html(client.get("/review/", {"status": "submitted"}))
    assert "天文观测" in text
    assert f'action="/review/submissions/{waiting.pk}/draw"' in text
    # Drawing from the page leads to the panel page, which shows the seed, the pool and the re-run
    response = client.post(f"/review/submissions/{waiting.pk}/draw", follow=True)
    panel = Panel.objects.get(submission=waiting)
    assert response.redirect_chain[-1][0] == f"/review/panels/{panel.pk}/"
    text = html(response)
    assert panel.seed in text
    assert "已复现" in text
    assert "抽取了 5 位专家" in followed_messages(response)
    member = panel.members.select_related("expert__user").first()
    assert member.expert.user.full_name in text  # names are for the bureau
    # The district bureau sees the queue without a draw button for the city's submission
    district = html(page_as(city.users["district_admin"]).get("/review/"))
    assert f"/review/submissions/{waiting.pk}/draw" not in district


def test_deciding_on_the_panel_page_shows_the_outcome_and_reasons(city, world):
    sub = submit(city, world["cat"]["categories"]["science"], name="围棋")
    panel = scored_panel(sub, city.users["city_admin"])
    client = page_as(city.users["city_admin"])
    text = html(client.get(f"/review/panels/{panel.pk}/"))
    assert f'action="/review/panels/{panel.pk}/decide"' in text
    response = client.post(f"/review/panels/{panel.pk}/decide", {"next": f"/review/panels/{panel.pk}/"}, follow=True)
    text = html(response)
    assert "准入" in text
    assert "90.00" in text and "75.00" in text  # the mean and the admission threshold, in the reasons
    assert Panel.objects.get(pk=panel.pk).status == Panel.Status.DECIDED
    # Deciding again from a stale page: refused with a message, nothing changes
    before = state()
    again = client.post(f"/review/panels/{panel.pk}/decide", follow=True)
    assert "已经作出决定" in followed_messages(again)
    assert state() == before


def test_panel_page_hides_names_from_the_submitting_school(city, world):
    panel = Panel.objects.get(submission=world["city_entry"].item.submission)
    text = html(page_as(city.users["school_admin"]).get(f"/review/panels/{panel.pk}/"))
    for member in panel.members.select_related("expert__user"):
        assert member.expert.user.full_name not in text
    assert "decide" not in text


def test_review_actions_are_refused_outside_the_scope(city, world):
    b_panel = Panel.objects.get(submission=world["b_entry"].item.submission)
    b_sub = submit(city, world["cat"]["categories"]["science"], library="district", school=city.b1, name="西湖象棋")
    before = state()
    district = page_as(city.users["district_admin"])
    assert district.get(f"/review/panels/{b_panel.pk}/").status_code == 404
    assert district.post(f"/review/panels/{b_panel.pk}/decide").status_code == 404
    assert district.post(f"/review/submissions/{b_sub.pk}/draw").status_code == 404
    # The city's own submission: the district is told why, and nothing happens
    response = district.post(f"/review/submissions/{world['waiting'].pk}/draw", follow=True)
    assert "只有市教育局" in followed_messages(response)
    assert state() == before
    assert district.get(f"/review/submissions/{b_sub.pk}/draw").status_code == 405


# --- libraries -------------------------------------------------------------------------------------------------
def test_library_page_levels_and_adopt_button(city, world):
    # A second city course that district A has not adopted yet
    other = admitted(city, world["cat"]["categories"]["science"], name="版画")
    client = page_as(city.users["district_admin"])
    text = html(client.get("/library/", {"level": "city"}))
    assert "市级课程库" in text
    assert f'action="/library/{other.pk}/adopt"' in text
    assert f'action="/library/{world["city_entry"].pk}/adopt"' not in text  # already adopted
    assert "西湖足球" not in html(client.get("/library/"))
    response = client.post(f"/library/{other.pk}/adopt", {"next": "/library/?level=city"}, follow=True)
    assert response.redirect_chain[-1][0] == "/library/?level=city"
    adopted = LibraryEntry.objects.get(item=other.item, region=city.district_a)
    assert Filing.objects.filter(entry=adopted, status="filed").exists()
    assert "备案" in followed_messages(response)


def test_adopting_into_an_unknown_district_on_the_page_is_refused_not_redirected_to_ones_own(city, world):
    other = admitted(city, world["cat"]["categories"]["science"], name="版画")
    client = page_as(city.users["district_admin"])
    before = LibraryEntry.objects.count()
    response = client.post(f"/library/{other.pk}/adopt", {"district": "999999"}, follow=True)
    assert LibraryEntry.objects.count() == before
    assert "999999" not in [e.region.code for e in LibraryEntry.objects.filter(item=other.item) if e.region]
    assert not LibraryEntry.objects.filter(item=other.item, region=city.district_a).exists()
    assert followed_messages(response)  # the refusal is shown


def test_school_picks_from_its_district_library_on_the_page(city, world):
    other = admitted(city, world["cat"]["categories"]["science"], name="版画")
    district_entry = libraries.library_adopt(
        actor=city.users["district_admin"], district=city.district_a, city_entry=other, now=timezone.now()
    )
    client = page_as(city.users["school_admin"])
    text = html(client.get("/library/", {"level": "district"}))
    assert "区级课程库" in text
    assert f'action="/library/{district_entry.pk}/pick"' in text
    assert f'action="/library/{other.pk}/pick"' not in html(client.get("/library/", {"level": "city"}))
    client.post(f"/library/{district_entry.pk}/pick")
    assert LibraryEntry.objects.filter(item=other.item, school=city.a1, upstream=district_entry).exists()
    # Picking another district's entry: not there
    before = state()
    assert client.post(f"/library/{world['b_entry'].pk}/pick").status_code == 404
    assert state() == before


def test_entry_page_status_form_and_history(city, world):
    entry = world["city_entry"]
    client = page_as(city.users["city_admin"])
    text = html(client.get(f"/library/{entry.pk}/"))
    assert "机器人编程" in text and "¥30.00" in text
    assert f'action="/library/{entry.pk}/status"' in text
    response = client.post(f"/library/{entry.pk}/status", {"status": "suspended", "reason": "复查师资"}, follow=True)
    text = html(response)
    assert "复查师资" in text and "暂停" in text
    assert "2" in followed_messages(response)
    # Downstream: the school's entry is no longer usable
    school_page = html(page_as(city.users["school_admin"]).get(f"/library/{world['school_a1'].pk}/"))
    assert "不可使用" in school_page
    # A reason is required; nothing changes without one
    before = state()
    refused = client.post(f"/library/{entry.pk}/status", {"status": "active", "reason": " "}, follow=True)
    assert "请填写原因" in followed_messages(refused)
    assert state() == before
    # The district bureau sees no status form on the city's entry, and may not post one
    district = page_as(city.users["district_admin"])
    assert f'action="/library/{entry.pk}/status"' not in html(district.get(f"/library/{entry.pk}/"))
    district.post(f"/library/{entry.pk}/status", {"status": "active", "reason": "x"})
    assert state() == before
    hidden = district.post(f"/library/{world['b_entry'].pk}/status", {"status": "active", "reason": "x"})
    assert hidden.status_code == 404


# --- filings ---------------------------------------------------------------------------------------------------
def test_filings_acknowledge_button_for_the_city(city, world):
    filing = Filing.objects.get(entry=world["district_a"])
    client = page_as(city.users["city_admin"])
    text = html(client.get("/filings/", {"status": "filed"}))
    assert f'action="/filings/{filing.pk}/acknowledge"' in text
    client.post(f"/filings/{filing.pk}/acknowledge", {"next": "/filings/"})
    assert Filing.objects.get(pk=filing.pk).status == "acknowledged"
    before = state()
    again = client.post(f"/filings/{filing.pk}/acknowledge", follow=True)
    assert "已确认" in followed_messages(again)
    assert state() == before
    # Not for the district bureau
    district = page_as(city.users["district_admin"])
    assert "/acknowledge" not in html(district.get("/filings/"))
    other = Filing.objects.get(entry=world["school_a1"])
    assert district.post(f"/filings/{other.pk}/acknowledge").status_code == 404
    assert Filing.objects.get(pk=other.pk).status == "filed"


# --- standards -------------------------------------------------------------------------------------------------
def fee_form(region: str, low: str, high: str, pay: str) -> dict[str, str]:
    return {"action": "fee", "region": region, "category": "arts", "min_fee": low, "max_fee": high, "teacher_pay": pay}


def test_standards_page_sets_city_and_district_fees(city, world):
    client = page_as(city.users["city_admin"])
    assert "收费标准" in html(client.get("/standards/"))
    client.post(
        "/standards/",
        fee_form("360100", "15", "45.5", "70"),
    )
    arts = FeeStandard.objects.get(region__code="360100", category__code="arts")
    assert (arts.min_fee_fen, arts.max_fee_fen, arts.teacher_pay_fen) == (1500, 4550, 7000)
    district = page_as(city.users["district_admin"])
    text = html(district.get("/standards/"))
    assert city.district_a.name in text and 'name="action" value="fee"' in text
    district.post(
        "/standards/",
        fee_form(city.district_a.code, "20", "40", "60"),
    )
    override = FeeStandard.objects.get(region=city.district_a, category__code="arts")
    assert override.max_fee_fen == 4000
    # Outside the city's range: refused with the reason
    before = state()
    refused = district.post(
        "/standards/",
        fee_form(city.district_a.code, "10", "40", "60"),
        follow=True,
    )
    assert "市级标准" in followed_messages(refused)
    assert state() == before
    # And back to the city's standard
    district.post("/standards/", {"action": "clear", "region": city.district_a.code, "category": "arts"})
    assert not FeeStandard.objects.filter(region=city.district_a, category__code="arts").exists()
    # The school admin reads the standards but has no form
    school = html(page_as(city.users["school_admin"]).get("/standards/"))
    assert 'name="action" value="fee"' not in school


def test_standards_page_sets_review_rules(city, world):
    page_as(city.users["city_admin"]).post(
        "/standards/", {"action": "policy", "region": "360100", "panel_size": "7", "admit": "80", "back": "60.5"}
    )
    from kehou.catalog.models import ReviewPolicy

    policy = ReviewPolicy.objects.get(region__code="360100")
    assert (policy.panel_size, policy.admit_threshold_bp, policy.return_threshold_bp) == (7, 8000, 6050)


# --- exports ---------------------------------------------------------------------------------------------------
def test_every_list_exports_to_excel_within_the_scope(city, world):
    district = page_as(city.users["district_admin"])
    city_client = page_as(city.users["city_admin"])
    submit(city, world["cat"]["categories"]["science"], library="district", school=city.b1, name="西湖象棋")
    admin_b = f.UserFactory()
    f.grant(admin_b, Role.DISTRICT_ADMIN, district=city.district_b)
    libraries.library_set_status(
        actor=admin_b, entry=world["b_entry"], status="suspended", reason="整改", now=timezone.now()
    )
    for url in PAGES:
        rows = cells(district.get(url, {"format": "xlsx"}))
        text = repr(rows)
        assert "西湖" not in text, (url, text)
        assert "<form" not in text, url
        assert len(rows) >= 2, url  # a header and at least one row
    library = cells(city_client.get("/library/", {"format": "xlsx", "level": "district"}))
    assert library[0][:3] == ["课程或师资", "类型", "类别"]
    assert {r[0] for r in library[1:]} == {"机器人编程", "西湖足球"}
    assert "¥30.00" in {r[5] for r in library[1:]}
    queue = cells(city_client.get("/review/", {"format": "xlsx"}))
    assert "西湖象棋" in repr(queue)
    filings = cells(city_client.get("/filings/", {"format": "xlsx"}))
    assert {r[0] for r in filings[1:]} >= {"机器人编程", "西湖足球"}
    school_library = cells(page_as(city.users["school_admin"]).get("/library/", {"format": "xlsx", "level": "school"}))
    assert [r[0] for r in school_library[1:]] == ["机器人编程"]


# --- home ------------------------------------------------------------------------------------------------------
def test_home_pages_summarise_review_and_libraries(city, world):
    # Filings of district A: the adoption and the pick; a submission awaiting a panel; a panel awaiting a decision
    sub = submit(city, world["cat"]["categories"]["science"], name="围棋")
    scored_panel(sub, city.users["city_admin"])
    city_home = html(page_as(city.users["city_admin"]).get("/"))
    part = re.search(r'data-section="library-review".*?</section>', city_home, re.S).group(0)
    stats = dict(re.findall(r"<dt>(?:<a [^>]*>)?([^<]+)(?:</a>)?</dt><dd>(\d+)</dd>", part))
    assert stats["待抽取评审专家"] == "1"
    assert stats["待作出决定"] == "1"
    assert stats["待确认备案"] == "2"  # district A's adoption and school A1's pick (an admission is not filed)
    assert stats["库内条目"] == "1"
    district_home = html(page_as(city.users["district_admin"]).get("/"))
    assert "东湖区课程库与评审" in district_home
    school_home = html(page_as(city.users["school_admin"]).get("/"))
    part = re.search(r'data-section="school-library".*?</section>', school_home, re.S).group(0)
    assert re.search(r"<dt>库内条目</dt><dd>1</dd>", part)
    assert re.search(r"<dt>可使用</dt><dd>1</dd>", part)
    assert Submission.objects.filter(status="submitted").count() == 1
