"""Server-rendered pages: each role's home, the language switch, list pages and their Excel export."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from openpyxl import load_workbook

from kehou.conftest import PASSWORD, page_as
from kehou.people.models import Pupil
from kehou.testing import factories as f

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def text_of(response) -> str:
    return response.content.decode()


def section(html: str, kind: str) -> str:
    """The HTML of one home-page section (data-section="kind")."""
    match = re.search(rf'<section class="card" data-section="{kind}".*?</section>', html, re.S)
    assert match, f"no {kind} section on the page"
    return match.group(0)


def rows_of(response) -> list[str]:
    """The first cell of every table row on a list page; a pupil's row by the pupil's real name (bureaus read
    masked names, docs/privacy.md)."""
    rows = re.findall(r'<th scope="row">(?:<a href="([^"]*)">)?([^<]*)', text_of(response))
    real = dict(Pupil.objects.values_list("pk", "name"))
    out = []
    for href, text in rows:
        m = re.fullmatch(r"/pupils/(\d+)/", href or "")
        out.append(real[int(m.group(1))] if m else text)
    return out


def workbook(response):
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    return load_workbook(io.BytesIO(response.getvalue())).active


# --- each role's home -------------------------------------------------------------------------------
def test_city_home_lists_every_district_with_counts(city):
    # Given another pupil in district B, when the city bureau opens its home page
    f.PupilFactory(school=city.b1)
    html = text_of(page_as(city.users["city_admin"]).get("/"))
    # Then it shows every district with its schools, joined schools and pupils, and the city totals
    part = section(html, "city")
    assert "全市各区县" in part
    row_a = re.search(r"东湖区.*?</tr>", part, re.S).group(0)
    row_b = re.search(r"西湖区.*?</tr>", part, re.S).group(0)
    assert re.findall(r'<td class="num">(\d+)</td>', row_a) == ["2", "2"]  # 2 schools, 2 pupils
    assert re.findall(r'<td class="num">(\d+)</td>', row_b) == ["1", "2"]  # 1 school, 2 pupils
    assert "2/2" in row_a
    assert re.search(r"<dt>区县</dt><dd>2</dd>", part)
    assert re.search(r"<dt>学校</dt><dd>3</dd>", part)
    assert re.search(r"<dt>学生</dt><dd>4</dd>", part)
    assert "市教育局" in html  # the role badge


def test_district_home_shows_only_its_own_schools(city):
    html = text_of(page_as(city.users["district_admin"]).get("/"))
    part = section(html, "district")
    assert "东湖区所辖学校" in part
    assert "东湖甲小学" in part and "东湖乙小学" in part
    # Nothing of the other district, anywhere on the page
    assert "西湖" not in html
    assert 'data-section="city"' not in html


def test_school_home_shows_grades_classes_and_pupils(city):
    # Given two more pupils in grade 3 class 2 and one in grade 5 of school A1
    f.PupilFactory(school=city.a1, grade=3, class_name="2班")
    f.PupilFactory(school=city.a1, grade=3, class_name="2班")
    f.PupilFactory(school=city.a1, grade=5, class_name="1班")
    html = text_of(page_as(city.users["school_admin"]).get("/"))
    part = section(html, "school")
    assert "东湖甲小学" in part
    assert "三年级" in part and "五年级" in part
    # class chips carry their pupil counts and link to the filtered pupil list
    assert re.search(r'grade=3&amp;class_name=2%E7%8F%AD">2班 <b>2</b>', part)
    assert re.search(r"<dt>年级</dt><dd>2</dd>", part)
    assert re.search(r"<dt>班级</dt><dd>3</dd>", part)
    assert re.search(r"<dt>学生</dt><dd>4</dd>", part)
    assert re.search(r"<dt>教师</dt><dd>1</dd>", part)
    assert "东湖乙小学" not in html and "西湖" not in html


def test_parent_home_shows_only_their_children(city):
    html = text_of(page_as(city.users["parent"]).get("/"))
    part = section(html, "parent")
    assert "我的孩子" in part
    assert "甲学生" in part and "东湖甲小学" in part and "三年级1班" in part
    assert f'href="/pupils/{city.pupil_a1.pk}/"' in part
    assert "乙学生" not in html and "丙学生" not in html


def test_parent_without_children_sees_how_to_get_linked(city):
    lonely = f.UserFactory()
    f.grant(lonely, "parent")
    html = text_of(page_as(lonely).get("/"))
    assert "此账号尚未关联孩子" in section(html, "parent")


def test_teacher_home_lists_the_schools_they_teach_at(city):
    html = text_of(page_as(city.users["teacher"]).get("/"))
    part = section(html, "teacher")
    assert "任教学校" in part and "东湖甲小学" in part and "校内教师" in part
    assert "东湖乙小学" not in html and "西湖" not in html


def test_operator_home_lists_authorised_schools_only(city):
    html = text_of(page_as(city.users["operator_staff"]).get("/"))
    part = section(html, "operator")
    assert "授权学校" in part and "东湖甲小学" in part
    assert "东湖乙小学" not in html and "西湖丙小学" not in html


def test_expert_home_shows_profile(city):
    html = text_of(page_as(city.users["expert"]).get("/"))
    part = section(html, "expert")
    assert "江西师范大学" in part and "科技" in part


def test_account_without_role_gets_an_explanation(city):
    html = text_of(page_as(city.users["nobody"]).get("/"))
    assert "您的账号还没有角色" in html
    assert "data-section" not in html


def test_home_requires_login(city):
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_menu_marks_the_current_page(city):
    html = text_of(page_as(city.users["school_admin"]).get("/pupils/"))
    assert re.search(r'<a href="/pupils/" class="active" aria-current="page">学生</a>', html)
    assert not re.search(r'<a href="/" class="active"', html)


def test_parent_menu_has_no_admin_entries(city):
    html = text_of(page_as(city.users["parent"]).get("/"))
    nav = re.search(r'<nav class="menu".*?</nav>', html, re.S).group(0)
    assert "/pupils/" in nav
    assert "/schools/" not in nav and "/audit/" not in nav


# --- language ------------------------------------------------------------------------------------
def test_pages_are_chinese_by_default_even_for_an_english_browser(city):
    client = page_as(city.users["school_admin"])
    html = text_of(client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9"))
    assert '<html lang="zh-hans">' in html
    assert "退出" in html and "Log out" not in html


def test_language_switch_to_english_and_back(city):
    # Given a logged-in school admin on the Chinese home page
    client = page_as(city.users["school_admin"])
    assert "退出" in text_of(client.get("/"))
    # When they press "EN" in the header
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/pupils/"})
    # Then they come back to the same page, now in English
    assert response.status_code == 302 and response["Location"] == "/pupils/"
    html = text_of(client.get("/pupils/"))
    assert '<html lang="en">' in html
    assert "Log out" in html and "退出" not in html
    assert "Export to Excel" in html
    # And "中文" brings Chinese back
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "退出" in text_of(client.get("/"))


def test_an_unknown_language_cookie_falls_back_to_chinese(city):
    client = page_as(city.users["school_admin"])
    client.cookies["django_language"] = "fr"
    assert "退出" in text_of(client.get("/"))


def test_language_switch_after_a_failed_login_returns_to_the_login_page(city):
    # The SMS login answers a POST only, so switching language from its error page must not go back to it
    response = Client().post("/login/sms/", {"sms-phone": "13800000000", "sms-code": "123456"})
    assert response.status_code == 400
    assert '<input name="next" type="hidden" value="/login/">' in text_of(response)


def test_api_errors_follow_accept_language(city):
    client = page_as(city.users["school_admin"])
    assert client.get("/api/v1/schools/999999/").json()["error"]["message"] == "未找到。"
    english = client.get("/api/v1/schools/999999/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["error"]["message"] == "Not found."


def test_login_page_shows_both_methods_and_a_chinese_error(city):
    client = Client()
    html = text_of(client.get("/login/"))
    assert "登录课后服务平台" in html and "短信验证码" in html and "获取验证码" in html
    response = client.post("/login/", {"username": "school_a1", "password": "wrong-password"})
    assert response.status_code == 400
    assert "用户名或密码错误。" in text_of(response)


def test_login_with_password_lands_on_home(city):
    client = Client()
    response = client.post("/login/", {"username": "school_a1", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert 'data-section="school"' in text_of(client.get("/"))


def test_not_found_page_is_friendly(city):
    response = page_as(city.users["school_admin"]).get(f"/schools/{city.b1.pk}/")
    assert response.status_code == 404
    assert "该页面不存在，或您没有查看权限。" in text_of(response)


# --- list pages: search, filter, paginate -------------------------------------------------------------
def test_pupil_list_search_by_name_and_by_student_number(city):
    client = page_as(city.users["district_admin"])
    assert rows_of(client.get("/pupils/", {"q": "甲学生"})) == ["甲学生"]
    number = city.pupil_a2.student_number
    assert rows_of(client.get("/pupils/", {"q": number.lower()})) == ["乙学生"]
    # a pupil of another district is not found by its exact student number either
    assert rows_of(client.get("/pupils/", {"q": city.pupil_b1.student_number})) == []


def test_pupil_list_filters_by_school_grade_and_class(city):
    f.PupilFactory(school=city.a1, name="五年级生", grade=5, class_name="2班")
    f.PupilFactory(school=city.a1, name="三年级二班生", grade=3, class_name="2班")
    client = page_as(city.users["district_admin"])
    assert sorted(rows_of(client.get("/pupils/", {"school": city.a1.pk}))) == sorted(
        ["甲学生", "五年级生", "三年级二班生"]
    )
    assert rows_of(client.get("/pupils/", {"school": city.a1.pk, "grade": 5})) == ["五年级生"]
    response = client.get("/pupils/", {"school": city.a1.pk, "grade": 3, "class_name": "2班"})
    assert rows_of(response) == ["三年级二班生"]
    # The school filter offers only the schools in scope
    html = text_of(response)
    options = re.search(r'<select name="school">.*?</select>', html, re.S).group(0)
    assert "东湖甲小学" in options and "东湖乙小学" in options and "西湖丙小学" not in options
    assert f'<option value="{city.a1.pk}" selected>' in options
    # The chosen filters stay filled in, and a way to clear them is offered
    assert 'name="class_name" value="2班"' in html
    assert 'class="button ghost" href="/pupils/"' in html


def test_school_list_filters_and_keeps_unshown_parameters(city):
    client = page_as(city.users["city_admin"])
    response = client.get("/schools/", {"district": "360103"})
    assert rows_of(response) == ["西湖丙小学"]
    city.a2.joined_at = None
    city.a2.save()
    assert rows_of(client.get("/schools/", {"joined": "no"})) == ["东湖乙小学"]
    # a parameter without a visible control (e.g. from a link) survives the next filtering as a hidden field
    html = text_of(client.get("/schools/", {"q": "东湖", "foo": "bar"}))
    assert '<input type="hidden" name="foo" value="bar">' in html


def test_pupil_list_paginates_with_filters_kept(city):
    for i in range(55):
        f.PupilFactory(school=city.a1, name=f"学生{i:02d}", grade=4, class_name="3班")
    client = page_as(city.users["school_admin"])
    first = client.get("/pupils/", {"grade": 4})
    html = text_of(first)
    assert len(rows_of(first)) == 50
    assert "第 1–50 条，共 55 条" in html
    assert "第 1 / 2 页" in html
    assert 'href="?grade=4&amp;page=2"' in html
    second = client.get("/pupils/", {"grade": 4, "page": 2})
    assert len(rows_of(second)) == 5
    assert "第 51–55 条，共 55 条" in text_of(second)
    # a page number out of range shows the last page instead of an error
    assert len(rows_of(client.get("/pupils/", {"grade": 4, "page": 99}))) == 5


def test_empty_list_says_so(city):
    client = page_as(city.users["school_admin"])
    html = text_of(client.get("/pupils/", {"q": "没有这个人"}))
    assert "没有符合条件的记录。" in html


def test_masked_student_numbers_for_a_district_admin(city):
    html = text_of(page_as(city.users["district_admin"]).get("/pupils/"))
    assert city.pupil_a1.student_number not in html
    html = text_of(page_as(city.users["school_admin"]).get("/pupils/"))
    assert city.pupil_a1.student_number in html


def test_audit_list_renders_with_date_filters(city):
    html = text_of(page_as(city.users["city_admin"]).get("/audit/", {"since": "2026-01-01"}))
    assert "审计日志" in html
    assert '<input type="date" name="since" value="2026-01-01">' in html


# --- Excel export ----------------------------------------------------------------------------------
def test_pupil_export_is_a_workbook_with_headers_and_only_the_filtered_rows(city):
    f.PupilFactory(school=city.a1, name="五年级生", grade=5)
    response = page_as(city.users["district_admin"]).get("/pupils/", {"grade": 3, "format": "xlsx"})
    sheet = workbook(response)
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("姓名", "学籍号", "性别", "学校", "年级", "班级", "监护人")
    # the district bureau's export has the two grade-3 pupils, with masked names (docs/privacy.md)
    assert sorted(r[0] for r in rows[1:]) == ["乙**", "甲**"]
    assert ".xlsx" in response["Content-Disposition"]


def test_export_in_english_has_english_headers(city):
    client = page_as(city.users["school_admin"])
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    rows = list(workbook(client.get("/schools/", {"format": "xlsx"})).iter_rows(values_only=True))
    assert rows[0][:3] == ("School name", "School identifier", "District")
    assert [r[1] for r in rows[1:]] == [city.a1.code]


def test_export_escapes_formula_injection(city):
    for name in ('=HYPERLINK("http://evil")', "+1+2", "-3", "@SUM(A1)"):
        Pupil.objects.create(
            student_number=f.next_student_number(),
            name=name,
            gender="F",
            birth_date=city.pupil_a1.birth_date,
            school=city.a1,
            grade=6,
            class_name="1班",
            created_at=city.pupil_a1.created_at,
        )
    sheet = workbook(page_as(city.users["school_admin"]).get("/pupils/", {"grade": 6, "format": "xlsx"}))
    names = []
    for row in sheet.iter_rows(min_row=2):
        cell = row[0]
        assert cell.data_type == "s", cell.value  # text, never a formula
        names.append(cell.value)
    assert sorted(names) == sorted(['\'=HYPERLINK("http://evil")', "'+1+2", "'-3", "'@SUM(A1)"])


def test_export_is_scoped(city):
    sheet = workbook(page_as(city.users["district_admin"]).get("/schools/", {"format": "xlsx"}))
    codes = [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert codes == [city.a1.code, city.a2.code]


# --- template helpers ---------------------------------------------------------------------------------
def test_grade_names():
    from django.utils import translation

    from kehou.core.templatetags.kehou_ui import grade_name, percent_of

    with translation.override("zh-hans"):
        assert str(grade_name(1)) == "一年级"
        assert str(grade_name("9")) == "九年级"
    with translation.override("en"):
        assert str(grade_name(7)) == "Grade 7"
    assert grade_name("x") == "x"
    assert percent_of(1, 3) == 33 and percent_of(5, 0) == 0


def test_expert_home_starts_with_the_scores_waiting(city):
    # Issue 14: every expert's home said 暂无分配给您的评审任务 while /review-tasks/ listed seats waiting
    from django.utils import timezone

    from kehou.catalog.services import review
    from kehou.catalog.tests.factories import setup_catalog
    from kehou.catalog.tests.test_api_admin import submit

    cat = setup_catalog()
    sub = submit(city, cat["categories"]["science"])
    panel = review.panel_draw(actor=city.users["city_admin"], submission=sub, now=timezone.now(), seed="home")
    member = panel.members.select_related("expert__user").first()
    html = text_of(page_as(member.expert.user).get("/"))
    assert "data-waiting-seats" in html and sub.title in html
    assert f"/review-tasks/{member.pk}/" in html
