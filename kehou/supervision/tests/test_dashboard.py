"""Supervision's dashboards (issue 13, first slice): the rollups are recomputed from the raw rows (idempotent, and
equal to counting the raw rows directly), follow what changed through the task, and the dashboard API answers the
city, a district and a school, each only to who may see it (the same 404 as a missing level)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kehou.attendance.services import rollcall
from kehou.attendance.tests.factories import class_with_pupils, first_session, start_of
from kehou.conftest import City, api_as, page_as
from kehou.supervision.models import ClassDay, SchoolDay
from kehou.supervision.services.rollup import rollup_changed, rollup_days, rollup_terms

pytestmark = pytest.mark.django_db
URL = "/api/v1/dashboard/"


@pytest.fixture
def marked(city: City) -> Any:
    """A class of four at school A1 whose first session's roll call was taken on time: 3 present, 1 absent."""
    cls, pupils = class_with_pupils(city.a1, 4, teacher=city.users["teacher"].teacher_profile)
    session = first_session(cls)
    at = start_of(session, 5)
    rollcall.roll_call_open(session=session, now=at)
    marks = [{"pupil": p.pk, "status": "present"} for p in pupils[:3]] + [{"pupil": pupils[3].pk, "status": "absent"}]
    rollcall.roll_call_mark(actor=city.users["teacher"], session=session, marks=marks, now=at)
    return cls, session, at


def test_rollup_counts_what_the_raw_rows_say_and_is_idempotent(city: City, marked: Any) -> None:
    cls, session, at = marked
    assert rollup_days([(city.a1.pk, session.date)], now=at) == 1
    row = ClassDay.objects.get(course_class=cls, date=session.date)
    assert (row.sessions_planned, row.sessions_delivered) == (1, 1)
    assert (row.pupil_sessions_expected, row.pupil_sessions_attended) == (4, 3)
    assert (row.roll_calls_taken, row.roll_calls_on_time) == (1, 1)
    day = SchoolDay.objects.get(school=city.a1, date=session.date)
    assert day.pupil_sessions_attended == 3 and day.district_id == city.a1.district_id
    before = list(SchoolDay.objects.values())
    rollup_days([(city.a1.pk, session.date)], now=at + timedelta(minutes=1))  # again: the same numbers
    after = list(SchoolDay.objects.values())
    assert [{**r, "computed_at": None} for r in after] == [{**r, "computed_at": None} for r in before]
    assert SchoolDay.objects.count() == 1 and ClassDay.objects.count() == 1


def test_the_task_follows_what_changed(city: City, marked: Any) -> None:
    _cls, session, at = marked
    assert rollup_changed(now=at + timedelta(minutes=1))["school_days_rolled_up"] >= 1
    assert SchoolDay.objects.get(school=city.a1, date=session.date).pupil_sessions_attended == 3
    # a correction later: the next run sees it (and only what changed)
    pupil = session.course_class.enrolments.order_by("pk").last().pupil
    rollcall.roll_call_mark(
        actor=city.users["teacher"],
        session=session,
        marks=[{"pupil": pupil.pk, "status": "present"}],
        now=at + timedelta(minutes=2),
    )
    rollup_changed(now=at + timedelta(minutes=3))
    assert SchoolDay.objects.get(school=city.a1, date=session.date).pupil_sessions_attended == 4


def test_the_dashboard_at_each_level_and_only_for_who_may_see_it(city: City, marked: Any) -> None:
    cls, session, at = marked
    rollup_days([(city.a1.pk, session.date)], now=at)
    rollup_terms(now=at, term=cls.term)
    r = api_as(city.users["city_admin"]).get(URL, {"level": "city"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["figures"]["pupil_sessions_attended"] == 3 and body["figures"]["attendance"] == 0.75
    assert body["rows_level"] == "district" and body["breadcrumb"][0]["level"] == "city"
    district = next(x for x in body["rows"] if x["code"] == city.district_a.code)
    assert district["rank"] == 1 and district["figures"]["attendance"] == 0.75
    assert body["figures"]["pupils_taking_part"] == 4 and body["figures"]["schools_providing"] >= 1
    weeks = [w for w in body["trend"] if w["sessions_planned"]]
    assert len(weeks) == 1 and weeks[0]["attendance"] == 0.75

    r = api_as(city.users["district_admin"]).get(URL, {"level": "district", "code": city.district_a.code})
    assert r.status_code == 200
    school = next(x for x in r.json()["rows"] if x["code"] == city.a1.code)
    assert school["figures"]["roll_call"] == 1.0 and school["rank"] == 1

    r = api_as(city.users["school_admin"]).get(URL, {"level": "school", "code": city.a1.code})
    assert r.status_code == 200
    assert [x["name"] for x in r.json()["rows"]] == [cls.name] and r.json()["rows_level"] == "class"
    assert [c["level"] for c in r.json()["breadcrumb"]] == ["school"]

    # a county and a development zone are districts too (each has its bureau)
    from kehou.orgs.models import Region

    county = Region.objects.create(code="360121", name="南昌县", kind="county", parent=city.district_a.parent)
    r = api_as(city.users["city_admin"]).get(URL, {"level": "city"})
    assert county.code in [x["code"] for x in r.json()["rows"]]
    assert api_as(city.users["city_admin"]).get(URL, {"level": "district", "code": county.code}).status_code == 200
    # outside the scope: the same 404 as a missing level
    missing = api_as(city.users["city_admin"]).get(URL, {"level": "district", "code": "999999"}).json()
    for user, params in (
        ("district_admin", {"level": "city"}),
        ("district_admin", {"level": "district", "code": city.district_b.code}),
        ("school_admin", {"level": "school", "code": city.a2.code}),
        ("school_admin", {"level": "district", "code": city.district_a.code}),
        ("teacher", {"level": "school", "code": city.a1.code}),
        ("parent", {"level": "city"}),
        ("operator_staff", {"level": "school", "code": city.a1.code}),
    ):
        r = api_as(city.users[user]).get(URL, params)
        assert r.status_code == 404 and r.json() == missing, (user, params)
    assert api_as(city.users["city_admin"]).get(URL, {"level": "nation"}).status_code == 404


def test_the_page_drills_down_with_a_breadcrumb(city: City, marked: Any) -> None:
    cls, session, at = marked
    rollup_days([(city.a1.pk, session.date)], now=at)
    client = page_as(city.users["city_admin"])
    r = client.get("/supervision/")
    assert r.status_code == 200 and city.district_a.name in r.content.decode()
    r = client.get("/supervision/", {"level": "district", "code": city.district_a.code})
    assert city.a1.name in r.content.decode()
    r = client.get("/supervision/", {"level": "school", "code": city.a1.code})
    page = r.content.decode()
    assert cls.name in page and f"?level=district&amp;code={city.district_a.code}" in page
    assert "data-trend" in page and 'src="data:image/svg+xml;base64,' in page  # drawn on the server, as an image
    assert page_as(city.users["school_admin"]).get("/supervision/").status_code == 200  # starts at its school
    assert "data-nothing-to-supervise" in page_as(city.users["parent"]).get("/supervision/").content.decode()


def test_the_table_exports_to_excel(city: City, marked: Any) -> None:
    import io

    from openpyxl import load_workbook

    _cls, session, at = marked
    rollup_days([(city.a1.pk, session.date)], now=at)
    r = page_as(city.users["district_admin"]).get(
        "/supervision/", {"level": "district", "code": city.district_a.code, "format": "xlsx"}
    )
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxml")
    sheet = load_workbook(io.BytesIO(b"".join(r.streaming_content))).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    names = [v[1] for v in values[1:]]
    assert city.a1.name in names and city.b1.name not in names  # only the district's schools
    a1 = next(v for v in values if v[1] == city.a1.name)
    assert a1[0] == 1 and a1[2] == "75.0%" and a1[3] == 3


def test_onboarding_progress_shows_each_schools_steps_and_who_is_behind(city: City, marked: Any) -> None:
    from django.utils import timezone

    from kehou.supervision import onboarding

    rows = {r["school"]["code"]: r for r in onboarding.progress(_scope(city, "city_admin"), now=timezone.now())}
    a1 = {s["key"]: s["at"] for s in rows[city.a1.code]["steps"]}
    assert a1["classes"] is not None and a1["roll_call"] is not None and a1["window"] is not None
    assert a1["pay_run"] is None and rows[city.a1.code]["next"] is not None
    assert rows[city.b1.code]["done"] <= rows[city.a1.code]["done"]
    first = onboarding.progress(_scope(city, "city_admin"), now=timezone.now())[0]
    assert first["done"] == min(r["done"] for r in rows.values())  # the behind first
    # a district sees its own schools only; a school, nothing
    mine = {r["school"]["code"] for r in onboarding.progress(_scope(city, "district_admin"), now=timezone.now())}
    assert city.a1.code in mine and city.b1.code not in mine
    page = page_as(city.users["district_admin"]).get("/supervision/onboarding/").content.decode()
    assert city.a1.name in page and city.b1.name not in page
    assert (
        "data-nothing-to-supervise"
        in page_as(city.users["school_admin"]).get("/supervision/onboarding/").content.decode()
    )
    r = page_as(city.users["city_admin"]).get("/supervision/onboarding/", {"format": "xlsx"})
    assert r["Content-Type"].startswith("application/vnd.openxml")


def _scope(city: City, role: str) -> Any:
    from kehou.core.scope import scope_for

    return scope_for(city.users[role])


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Any:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    return tmp_path


def test_the_city_issues_a_progress_report_that_each_district_sees(city: City, marked: Any, media: Any) -> None:
    from kehou.supervision.models import ProgressReport

    _cls, session, at = marked
    rollup_days([(city.a1.pk, session.date)], now=at)
    # only the city issues one; a district's attempt changes nothing
    r = api_as(city.users["district_admin"]).post("/api/v1/progress-reports/")
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_city_admin"
    assert not ProgressReport.objects.exists()
    r = api_as(city.users["city_admin"]).post("/api/v1/progress-reports/")
    assert r.status_code == 201, r.content
    report = r.json()
    assert report["number"].endswith("-001") and city.district_a.code in report["districts"]
    pdf = api_as(city.users["district_admin"]).get(report["pdf_url"])
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF-")
    assert pdf["Content-Disposition"].startswith("attachment") and "sandbox" in pdf["Content-Security-Policy"]
    xlsx = api_as(city.users["district_admin"]).get(report["xlsx_url"])
    assert xlsx.status_code == 200 and b"".join(xlsx.streaming_content)[:2] == b"PK"
    summary = ProgressReport.objects.get().summary
    assert summary["ahead"] or summary["districts"]
    # each district sees the reports about itself; a school and a parent see none
    assert [
        x["number"] for x in api_as(city.users["district_admin"]).get("/api/v1/progress-reports/").json()["results"]
    ]
    for user in ("school_admin", "parent", "teacher", "operator_staff"):
        assert api_as(city.users[user]).get("/api/v1/progress-reports/").json()["results"] == []
        assert api_as(city.users[user]).get(report["pdf_url"]).status_code == 404
    # the schedule's weekly report: none again within the week, the next one after it
    from datetime import timedelta

    from kehou.supervision.services.reports import reports_due

    issued = ProgressReport.objects.get().issued_at
    assert reports_due(now=issued + timedelta(days=3)) == 0
    assert reports_due(now=issued + timedelta(days=8)) == 1
    assert ProgressReport.objects.order_by("issued_at").last().number.endswith("-002")
    assert "data-report" in page_as(city.users["district_admin"]).get("/supervision/reports/").content.decode()


def test_the_school_type_and_week_filters(city: City, marked: Any) -> None:
    from datetime import timedelta

    _cls, session, at = marked
    rollup_days([(city.a1.pk, session.date)], now=at)
    client = api_as(city.users["city_admin"])
    same = client.get(URL, {"level": "city", "stage": city.a1.stage}).json()
    assert same["stage"] == city.a1.stage and same["figures"]["pupil_sessions_attended"] == 3
    other = next(v for v in ("primary", "junior", "nine_year") if v != city.a1.stage)
    assert client.get(URL, {"level": "city", "stage": other}).json()["figures"]["pupil_sessions_attended"] == 0
    week = client.get(URL, {"level": "city", "week": session.date.isoformat()}).json()
    assert week["figures"]["pupil_sessions_attended"] == 3 and week["week"] <= session.date.isoformat()
    later = (session.date + timedelta(days=14)).isoformat()
    assert client.get(URL, {"level": "city", "week": later}).json()["figures"]["pupil_sessions_attended"] == 0
    r = client.get(URL, {"level": "city", "week": "soon"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid"
    assert "data-sort" in page_as(city.users["city_admin"]).get("/supervision/", {"stage": other}).content.decode()
