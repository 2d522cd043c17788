"""Course outlines (课程设置): edited by the course's owner only, each save a new version made from the latest (a
stale edit is refused, not merged), every bound checked; a session links to a lesson of its own course's outline,
set by the class's teacher or the school; a screen's session reads but never writes."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kehou.attendance.tests.factories import class_with_pupils, first_session
from kehou.conftest import City, api_as, page_as
from kehou.core.errors import KehouError
from kehou.teaching.models import CourseOutline, OutlineLesson, SessionLesson
from kehou.teaching.services import outlines

pytestmark = pytest.mark.django_db
UNITS = [
    {
        "name": "第一单元 认识机器人",
        "lessons": [{"name": "机器人是什么", "minutes": 40}, {"name": "搭建底盘", "minutes": 45}],
    },
    {"name": "第二单元 编程入门", "lessons": [{"name": "顺序与循环", "minutes": 40}]},
]


@pytest.fixture
def course(city: City) -> Any:
    cls, _pupils = class_with_pupils(city.a1, 3, teacher=city.users["teacher"].teacher_profile)
    return cls


def test_the_owner_saves_versions_and_a_stale_edit_is_refused(city: City, course: Any) -> None:
    item = course.entry.item
    owner = api_as(city.users["school_admin"])  # the course was submitted by school a1
    url = f"/api/v1/teaching/outlines/{item.pk}/"
    assert owner.get(url).json()["version"] == 0
    r = owner.put(url, {"based_on_version": 0, "units": UNITS}, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["version"] == 1 and body["minutes"] == 125 and body["may_edit"] is True
    assert [len(u["lessons"]) for u in body["units"]] == [2, 1]
    edited = [UNITS[0], {**UNITS[1], "lessons": [*UNITS[1]["lessons"], {"name": "条件判断", "minutes": 40}]}]
    assert owner.put(url, {"based_on_version": 1, "units": edited, "note": "加一课"}, format="json").status_code == 201
    r = owner.put(url, {"based_on_version": 1, "units": UNITS}, format="json")  # made from an old version
    assert r.status_code == 409 and r.json()["error"]["code"] == "outline_stale"
    assert list(CourseOutline.objects.filter(item=item).values_list("version", flat=True)) == [2, 1]
    assert OutlineLesson.objects.filter(unit__outline__version=1).count() == 3  # version 1 as it was
    # everyone signed in reads it; nobody but the owner writes it
    assert api_as(city.users["parent"]).get(url).json()["version"] == 2
    for who in ("teacher", "district_admin", "city_admin", "operator_staff"):
        r = api_as(city.users[who]).put(url, {"based_on_version": 2, "units": UNITS}, format="json")
        assert r.status_code == 403 and r.json()["error"]["code"] == "not_course_owner", who
    assert CourseOutline.objects.filter(item=item).count() == 2


@pytest.mark.parametrize(
    "units",
    [
        [],
        [{"name": "", "lessons": [{"name": "x", "minutes": 40}]}],
        [{"name": "单元", "lessons": []}],
        [{"name": "单元", "lessons": [{"name": "课", "minutes": 4}]}],
        [{"name": "单元", "lessons": [{"name": "课", "minutes": 241}]}],
        [{"name": "单元", "lessons": [{"name": "课", "minutes": "40"}]}],
        [{"name": "单元", "lessons": [{"name": "课", "minutes": True}]}],
        [{"name": "单元", "lessons": [{"name": "课" * 61, "minutes": 40}]}],
        [{"name": "单元", "lessons": [{"name": "课", "minutes": 40, "extra": 1}]}],
        [{"name": f"单元{i}", "lessons": [{"name": "课", "minutes": 40}]} for i in range(31)],
        "not a list",
    ],
)
def test_bad_outlines_are_refused_and_nothing_is_saved(city: City, course: Any, units: Any) -> None:
    r = api_as(city.users["school_admin"]).put(
        f"/api/v1/teaching/outlines/{course.entry.item.pk}/", {"based_on_version": 0, "units": units}, format="json"
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "outline_invalid"
    assert not CourseOutline.objects.exists()


def test_the_plain_text_editor() -> None:
    units = outlines.parse_text("# 第一单元\n机器人是什么 | 40\n\n搭建底盘|45\n# 第二单元\n顺序与循环 | 40\n")
    assert [(u.name, [(x.name, x.minutes) for x in u.lessons]) for u in units] == [
        ("第一单元", [("机器人是什么", 40), ("搭建底盘", 45)]),
        ("第二单元", [("顺序与循环", 40)]),
    ]
    for bad in ("机器人是什么 | 40", "# 单元\n没有分钟", "# 单元\n课 | 四十", "# 空单元"):
        with pytest.raises(KehouError) as e:
            outlines.parse_text(bad)
        assert e.value.code == "outline_invalid"


def test_the_owner_edits_on_the_page(city: City, course: Any) -> None:
    item = course.entry.item
    page = page_as(city.users["school_admin"])
    r = page.get(f"/teach/outlines/{item.pk}/")
    assert r.status_code == 200 and b"data-no-outline" in r.content and b"data-outline-edit" in r.content
    r = page.post(f"/teach/outlines/{item.pk}/", {"based_on": "0", "text": "# 第一单元\n机器人是什么 | 40"})
    assert r.status_code == 302
    r = page.get(f"/teach/outlines/{item.pk}/")
    assert b'data-outline="1"' in r.content and "机器人是什么".encode() in r.content
    teacher = page_as(city.users["teacher"]).get(f"/teach/outlines/{item.pk}/")
    assert teacher.status_code == 200 and b"data-outline-edit" not in teacher.content
    r = page_as(city.users["teacher"]).post(f"/teach/outlines/{item.pk}/", {"based_on": "1", "text": "# x\ny | 40"})
    assert r.status_code == 200 and CourseOutline.objects.count() == 1


def test_a_session_links_to_a_lesson_of_its_own_course(city: City, course: Any) -> None:
    item = course.entry.item
    outlines.outline_save(
        actor=city.users["school_admin"], item=item, units=outlines.check_units(UNITS), based_on=0, now=_now()
    )
    lesson = OutlineLesson.objects.filter(unit__outline__item=item).order_by("unit__position", "position").first()
    session = first_session(course)
    teacher = api_as(city.users["teacher"])
    url = f"/api/v1/teaching/sessions/{session.pk}/lesson"
    r = teacher.post(url, {"lesson": lesson.pk}, format="json")
    assert r.status_code == 200 and r.json() == {"lesson": lesson.pk}
    assert SessionLesson.objects.get(session=session).lesson == lesson
    # another course's lesson is refused
    other, _ = class_with_pupils(city.a1, 1, name="合唱团")
    outlines.outline_save(
        actor=city.users["school_admin"],
        item=other.entry.item,
        units=outlines.check_units(UNITS),
        based_on=0,
        now=_now(),
    )
    foreign = OutlineLesson.objects.filter(unit__outline__item=other.entry.item).first()
    r = teacher.post(url, {"lesson": foreign.pk}, format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "outline_invalid"
    assert SessionLesson.objects.get(session=session).lesson == lesson
    # the parent sees the class but does not set its lessons; strangers get a 404
    assert api_as(city.users["parent"]).post(url, {"lesson": None}, format="json").status_code in (403, 404)
    assert api_as(city.users["nobody"]).post(url, {"lesson": None}, format="json").status_code == 404
    assert teacher.post(url, {"lesson": None}, format="json").json() == {"lesson": None}
    assert not SessionLesson.objects.exists()


def test_a_screen_session_reads_outlines_but_never_writes(city: City, course: Any) -> None:
    from urllib.parse import urlparse

    screen = Client()
    data = screen.post("/api/v1/qr-login/", content_type="application/json").json()
    token = urlparse(data["qr_payload"]).path.rsplit("/", 1)[1]
    phone = api_as(city.users["school_admin"])
    # a school admin is no teacher: the scan is refused
    assert phone.post("/api/v1/qr-login/scan", {"token": token}, format="json").status_code == 403
    teacher = api_as(city.users["teacher"])
    teacher.post("/api/v1/qr-login/scan", {"token": token}, format="json")
    teacher.post(f"/api/v1/qr-login/{data['id']}/confirm")
    screen.post(f"/api/v1/qr-login/{data['id']}/session", HTTP_X_SCREEN_SECRET=data["secret"])
    url = f"/api/v1/teaching/outlines/{course.entry.item.pk}/"
    assert screen.get(url).status_code == 200
    r = screen.put(url, {"based_on_version": 0, "units": UNITS}, content_type="application/json")
    assert r.status_code == 403 and r.json()["error"]["code"] == "teaching_only"
    assert not CourseOutline.objects.exists()


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()
