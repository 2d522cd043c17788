"""Roster import from Excel: template, row checks, all-or-nothing, idempotency, scope, limits, 10,000 rows."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from kehou.conftest import City, api_as, page_as
from kehou.core.models import AuditEntry
from kehou.orgs.models import School
from kehou.people import roster
from kehou.people.models import Guardian, Pupil, Role, RoleAssignment, User
from kehou.people.roster import RosterFileError
from kehou.people.roster_services import RosterInvalid, roster_import
from kehou.testing import factories as f

HEADERS = roster.HEADERS
NOW = timezone.make_aware(datetime(2026, 11, 29, 9, 0))


# --- building files ---------------------------------------------------------------------------------------
def sn(seq: int, birth: str = "20150315", region: str = "360111", prefix: str = "G") -> str:
    """A well-formed 学籍号 with a correct ISO 7064 MOD 11-2 check digit."""
    first17 = f"{region}{birth}{seq:03d}"
    return prefix + first17 + roster.id_check_digit(first17)


def good_row(i: int, **changes: Any) -> list[Any]:
    values: dict[str, Any] = {
        "student_number": sn(i),
        "name": f"学生{i}",
        "gender": "男" if i % 2 else "女",
        "birth_date": datetime(2015, 3, 15),
        "grade": 3,
        "class_name": "2班",
        "guardian1_name": f"家长{i}",
        "guardian1_relation": "母亲",
        "guardian1_phone": f"1590000{i:04d}",
        "guardian2_name": None,
        "guardian2_relation": None,
        "guardian2_phone": None,
    }
    values.update(changes)
    return [values[c.key] for c in roster.COLUMNS]


def xlsx(rows: Sequence[Sequence[Any]], headers: Sequence[str] = HEADERS) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(roster.ROSTER_SHEET)
    ws.append(list(headers))
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(data: bytes, name: str = "名单.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def counts() -> dict[str, int]:
    return {
        "pupils": Pupil.objects.count(),
        "guardians": Guardian.objects.count(),
        "users": User.objects.count(),
        "roles": RoleAssignment.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def import_rows(city: City, rows: Sequence[Sequence[Any]], school: School | None = None) -> roster.RosterReport:
    return roster_import(actor=city.users["school_admin"], school=school or city.a1, file=upload(xlsx(rows)), now=NOW)


def rejected(city: City, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    with pytest.raises(RosterInvalid) as info:
        import_rows(city, rows)
    return info.value.fields["rows"]


def post_roster(client: Any, school: School, data: bytes, name: str = "名单.xlsx") -> Any:
    return client.post(f"/api/v1/schools/{school.pk}/roster", {"file": upload(data, name)}, format="multipart")


# --- the template ------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_school_admin_downloads_a_template_with_header_example_and_instructions(city: City) -> None:
    # Given the admin of a primary school
    admin = city.users["school_admin"]
    # When they download the template from the page and from the API
    for response in (
        page_as(admin).get(f"/schools/{city.a1.pk}/roster/template.xlsx"),
        api_as(admin).get(f"/api/v1/schools/{city.a1.pk}/roster/template"),
    ):
        # Then it is an .xlsx attachment: the Chinese/English header, one example row, an instructions sheet
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        assert "attachment" in response["Content-Disposition"]
        wb = load_workbook(io.BytesIO(response.content))
        sheet = wb[roster.ROSTER_SHEET]
        assert [c.value for c in sheet[1]] == HEADERS
        assert "学籍号 (student number)" in HEADERS and "性别 (gender: 男/女)" in HEADERS
        assert sheet["A2"].value == roster.EXAMPLE_STUDENT_NUMBER
        assert sheet.max_row == 2
        instructions = wb[roster.INSTRUCTIONS_SHEET]
        text = " ".join(str(c.value) for row in instructions.iter_rows() for c in row if c.value)
        assert "1–6" in text and "学籍号" in text


@pytest.mark.django_db
def test_the_untouched_template_imports_nothing(city: City) -> None:
    # Given the template as downloaded (header and example row only)
    data = roster.template_bytes(grades=city.a1.grade_range, max_rows=100)
    before = counts()
    # When it is uploaded, Then the example row is skipped and the file is empty
    response = post_roster(api_as(city.users["school_admin"]), city.a1, data)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "empty_file"
    assert counts() == before


def test_check_digit_follows_iso_7064() -> None:
    # The check digit of GB 11643's published example is X
    assert roster.id_check_digit("11010519491231002") == "X"
    assert sn(1)[-1] == roster.id_check_digit(sn(1)[1:18])


# --- happy path --------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_admin_imports_pupils_and_guardians(city: City) -> None:
    # Given an existing account for one guardian's phone (same name, not yet a parent) and a file of three pupils:
    # siblings 1 and 2 share their father, pupil 3's mother already has an account
    existing = f.UserFactory(full_name="王芳", phone="15999990000")
    rows = [
        good_row(1, guardian2_name="李强", guardian2_relation="父亲", guardian2_phone="15888880000"),
        good_row(
            2,
            birth_date="2016-09-01",
            grade="二年级",
            guardian2_name="李强",
            guardian2_relation="父亲",
            guardian2_phone="15888880000",
        ),
        good_row(3, grade=5.0, guardian1_name="王 芳", guardian1_phone="15999990000", guardian1_relation="外祖母"),
    ]
    before = counts()
    # When the school admin uploads it through the API
    response = post_roster(api_as(city.users["school_admin"]), city.a1, xlsx(rows))
    # Then the report counts three new pupils, three new accounts and five guardian links
    assert response.status_code == 200, response.content
    report = response.json()
    assert report["imported"] is True
    assert (report["rows"], report["created"], report["updated"], report["unchanged"]) == (3, 3, 0, 0)
    assert report["accounts_created"] == 3
    assert report["guardians_linked"] == 5
    assert report["errors"] == []
    assert report["filename"] == "名单.xlsx"
    # … the pupils are stored with parsed values
    p1, p2, p3 = (Pupil.objects.get(student_number=sn(i)) for i in (1, 2, 3))
    assert (p1.school, p1.name, p1.gender, p1.birth_date, p1.grade, p1.class_name) == (
        city.a1,
        "学生1",
        "M",
        date(2015, 3, 15),
        3,
        "2班",
    )
    assert (p2.gender, p2.birth_date, p2.grade) == ("F", date(2016, 9, 1), 2)
    assert p3.grade == 5
    # … new parents have an account named by the phone, no usable password, and the parent role
    father = User.objects.get(phone="15888880000")
    assert (father.username, father.full_name, father.has_usable_password()) == ("15888880000", "李强", False)
    assert RoleAssignment.objects.filter(user=father, role=Role.PARENT).count() == 1
    assert set(Guardian.objects.filter(user=father).values_list("pupil_id", "relation")) == {
        (p1.pk, "father"),
        (p2.pk, "father"),
    }
    # … the existing account is reused (not renamed) and becomes a parent
    assert Guardian.objects.get(pupil=p3).user == existing
    existing.refresh_from_db()
    assert existing.full_name == "王芳"
    assert Guardian.objects.get(pupil=p3).relation == "grandmother"
    assert RoleAssignment.objects.filter(user=existing, role=Role.PARENT).exists()
    # … and one audit entry records the import for the school
    after = counts()
    assert after["audit"] == before["audit"] + 1
    entry = AuditEntry.objects.get(action="roster.imported")
    assert entry.school_id == city.a1.pk
    assert entry.district_id == city.a1.district_id
    assert entry.actor == city.users["school_admin"]
    assert {k: entry.after[k] for k in ("created", "updated", "unchanged", "rows", "filename")} == {
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "rows": 3,
        "filename": "名单.xlsx",
    }


@pytest.mark.django_db
def test_a_new_parent_can_log_in_by_sms_code(city: City) -> None:
    # Given a guardian created by an import
    import_rows(city, [good_row(1)])
    parent = User.objects.get(phone="15900000001")
    # Then the scope of that account is the child
    from kehou.core.scope import scope_for

    assert scope_for(parent).pupil_ids == {Pupil.objects.get(student_number=sn(1)).pk}
    assert not parent.has_usable_password()


@pytest.mark.django_db
def test_columns_may_come_in_any_order_and_guardian_2_may_be_left_out(city: City) -> None:
    # Given a header without the guardian 2 columns, in another order, without the English parts
    keys = ["name", "student_number", "gender", "birth_date", "grade", "class_name"]
    keys += ["guardian1_phone", "guardian1_name", "guardian1_relation"]
    headers = [roster.COLUMNS_BY_KEY[k].stem for k in keys]
    full = dict(zip([c.key for c in roster.COLUMNS], good_row(7), strict=True))
    # When imported
    report = roster_import(
        actor=city.users["school_admin"],
        school=city.a1,
        file=upload(xlsx([[full[k] for k in keys]], headers=headers)),
        now=NOW,
    )
    # Then the pupil is there
    assert report.created == 1
    assert Pupil.objects.filter(student_number=sn(7), name="学生7").exists()


@pytest.mark.django_db
def test_blank_rows_are_ignored_and_text_cells_are_cleaned(city: City) -> None:
    # Given a row with spaces, a lower-case x, a phone as a number and a date as text, then a blank row
    first17 = "36011120150315123"
    number = "G" + first17 + roster.id_check_digit(first17)
    row = good_row(1, student_number=f" {number.lower()} ", name=" 学生一 ", guardian1_phone=15900001234)
    # When imported
    report = import_rows(city, [row, [None] * len(HEADERS), ["  "] * len(HEADERS)])
    # Then one pupil is created with cleaned values
    assert (report.rows, report.created) == (1, 1)
    pupil = Pupil.objects.get(student_number=number)
    assert pupil.name == "学生一"
    assert pupil.guardians.get().user.phone == "15900001234"


@pytest.mark.django_db
def test_l_numbers_have_no_check_digit_to_verify(city: City) -> None:
    report = import_rows(city, [good_row(1, student_number="L360102201503150017")])
    assert report.created == 1


# --- every kind of bad row ---------------------------------------------------------------------------------
BAD_ROWS = [
    ("missing name", {"name": None}, "name", "missing_value"),
    ("name too long", {"name": "长" * 41}, "name", "too_long"),
    ("missing student number", {"student_number": ""}, "student_number", "missing_value"),
    ("malformed student number", {"student_number": "G12345"}, "student_number", "invalid_student_number"),
    ("wrong prefix", {"student_number": "X" + sn(1)[1:]}, "student_number", "invalid_student_number"),
    (
        "wrong check digit",
        {"student_number": sn(1)[:-1] + ("1" if sn(1)[-1] != "1" else "2")},
        "student_number",
        "bad_check_digit",
    ),
    ("gender not 男/女", {"gender": "未知"}, "gender", "invalid_gender"),
    ("missing gender", {"gender": None}, "gender", "missing_value"),
    ("impossible date", {"birth_date": "2015-02-30"}, "birth_date", "invalid_date"),
    ("date in another format", {"birth_date": "15/03/2015"}, "birth_date", "invalid_date"),
    ("date as a bare number", {"birth_date": 42078}, "birth_date", "invalid_date"),
    ("born in the future", {"birth_date": datetime(2027, 1, 1)}, "birth_date", "birth_date_out_of_range"),
    ("far too old", {"birth_date": "1990-01-01"}, "birth_date", "birth_date_out_of_range"),
    ("grade not a number", {"grade": "十"}, "grade", "invalid_grade"),
    ("grade outside a primary school", {"grade": 7}, "grade", "grade_out_of_range"),
    ("grade 初一 at a primary school", {"grade": "初一"}, "grade", "grade_out_of_range"),
    ("missing class", {"class_name": None}, "class_name", "missing_value"),
    ("class too long", {"class_name": "班" * 21}, "class_name", "too_long"),
    ("missing guardian", {"guardian1_name": None}, "guardian1_name", "missing_value"),
    ("relation not in the list", {"guardian1_relation": "叔叔"}, "guardian1_relation", "invalid_relation"),
    ("phone malformed", {"guardian1_phone": "12345678901"}, "guardian1_phone", "invalid_phone"),
    ("phone too short", {"guardian1_phone": "1590000"}, "guardian1_phone", "invalid_phone"),
    (
        "guardian 2 half filled",
        {"guardian2_name": "李强", "guardian2_relation": "父亲"},
        "guardian2_phone",
        "missing_value",
    ),
    (
        "guardian 2 same phone as guardian 1",
        {"guardian2_name": "李强", "guardian2_relation": "父亲", "guardian2_phone": "15900000001"},
        "guardian2_phone",
        "duplicate_guardian",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("changes", "column", "code"), [c[1:] for c in BAD_ROWS], ids=[c[0] for c in BAD_ROWS])
def test_each_bad_row_is_reported_with_row_column_and_code(
    city: City, changes: dict[str, Any], column: str, code: str
) -> None:
    # Given a good row followed by a row with one problem
    before = counts()
    # When imported
    errors = rejected(city, [good_row(2), good_row(1, **changes)])
    # Then exactly that problem is reported, on Excel row 3, and nothing is written
    assert [(e["row"], e["column"], e["code"]) for e in errors] == [(3, column, code)]
    assert errors[0]["message"]
    assert counts() == before


@pytest.mark.django_db
def test_duplicate_student_number_in_the_file(city: City) -> None:
    errors = rejected(city, [good_row(1), good_row(2), good_row(1, name="重复")])
    assert [(e["row"], e["code"]) for e in errors] == [(4, "duplicate_student_number")]
    assert "2" in errors[0]["message"]  # points at the first row


@pytest.mark.django_db
def test_same_phone_with_two_names_in_the_file(city: City) -> None:
    errors = rejected(city, [good_row(1), good_row(2, guardian1_phone="15900000001", guardian1_name="别人")])
    assert [(e["row"], e["column"], e["code"]) for e in errors] == [(3, "guardian1_name", "guardian_name_conflict")]


@pytest.mark.django_db
def test_existing_account_with_another_name_is_an_error_that_does_not_reveal_the_name(city: City) -> None:
    # Given an account for the phone under another name (e.g. a mistyped phone number in the file)
    f.UserFactory(full_name="赵敏", phone="15900000001")
    before = counts()
    # When imported, Then the row is refused without showing the account's name
    errors = rejected(city, [good_row(1)])
    assert [(e["row"], e["column"], e["code"]) for e in errors] == [(2, "guardian1_name", "guardian_name_mismatch")]
    assert "赵敏" not in errors[0]["message"]
    assert counts() == before


@pytest.mark.django_db
def test_a_username_equal_to_a_new_phone_is_reported(city: City) -> None:
    f.UserFactory(username="15900000001", phone="13312345678")
    errors = rejected(city, [good_row(1)])
    assert [(e["column"], e["code"]) for e in errors] == [("guardian1_phone", "guardian_username_taken")]


@pytest.mark.django_db
def test_pupil_registered_in_another_school_is_refused(city: City) -> None:
    # Given a pupil of school B1 (another district)
    elsewhere = f.PupilFactory(school=city.b1, student_number=sn(5), name="外校学生")
    before = counts()
    # When A1's admin imports the same student number
    response = post_roster(api_as(city.users["school_admin"]), city.a1, xlsx([good_row(1), good_row(5)]))
    # Then it is refused, the other school is not named, and the pupil stays where it was
    assert response.status_code == 400
    error = response.json()["error"]
    assert [(e["row"], e["code"]) for e in error["fields"]["rows"]] == [(3, "pupil_in_other_school")]
    assert city.b1.name not in response.content.decode()
    elsewhere.refresh_from_db()
    assert (elsewhere.school, elsewhere.name) == (city.b1, "外校学生")
    assert counts() == before


# --- all or nothing ----------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_one_bad_row_among_good_ones_writes_nothing(city: City) -> None:
    # Given five good rows and one bad one in the middle
    rows = [good_row(i) for i in range(1, 6)]
    rows.insert(3, good_row(9, guardian1_phone="110"))
    before = counts()
    # When uploaded
    response = post_roster(api_as(city.users["school_admin"]), city.a1, xlsx(rows))
    # Then the answer is 400 roster_invalid listing the bad row, and nothing at all is written (not even audit)
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "roster_invalid"
    assert body["error"]["message"]
    assert body["error"]["fields"]["rows"] == [
        {
            "row": 5,
            "column": "guardian1_phone",
            "code": "invalid_phone",
            "message": body["error"]["fields"]["rows"][0]["message"],
        }
    ]
    assert counts() == before
    assert not AuditEntry.objects.filter(action="roster.imported").exists()


@pytest.mark.django_db
def test_the_report_lists_every_error_row_by_row(city: City) -> None:
    rows = [
        good_row(1, gender="?", grade=0),
        good_row(2),
        good_row(3, guardian1_relation="邻居", birth_date="yesterday"),
    ]
    errors = rejected(city, rows)
    assert [(e["row"], e["column"], e["code"]) for e in errors] == [
        (2, "gender", "invalid_gender"),
        (2, "grade", "grade_out_of_range"),
        (4, "birth_date", "invalid_date"),
        (4, "guardian1_relation", "invalid_relation"),
    ]


# --- idempotency and updates -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_reimporting_the_same_file_changes_nothing(city: City) -> None:
    # Given a file already imported
    rows = [
        good_row(i, guardian2_name="共同家长", guardian2_relation="父亲", guardian2_phone="15800000000")
        for i in (1, 2, 3)
    ]
    first = import_rows(city, rows)
    assert (first.created, first.accounts_created, first.guardians_linked) == (3, 4, 6)
    before = counts()
    pupils_before = list(Pupil.objects.order_by("pk").values())
    # When the same file is imported again
    again = import_rows(city, rows)
    # Then every pupil is unchanged and no row is added (only the audit entry of the import itself)
    assert (again.created, again.updated, again.unchanged, again.accounts_created, again.guardians_linked) == (
        0,
        0,
        3,
        0,
        0,
    )
    assert counts() == before | {"audit": before["audit"] + 1}
    assert list(Pupil.objects.order_by("pk").values()) == pupils_before


@pytest.mark.django_db
def test_changed_data_updates_the_pupil_and_adds_guardians_once(city: City) -> None:
    # Given three imported pupils
    import_rows(city, [good_row(1), good_row(2), good_row(3)])
    before = counts()
    # When pupil 1 changes class, pupil 2's guardian becomes 父亲 and pupil 3 gets a second guardian
    report = import_rows(
        city,
        [
            good_row(1, class_name="5班", grade=4),
            good_row(2, guardian1_relation="父亲"),
            good_row(3, guardian2_name="新家长", guardian2_relation="祖父", guardian2_phone="15811112222"),
        ],
    )
    # Then all three count as updated, and one account and one link are added
    assert (report.created, report.updated, report.unchanged) == (0, 3, 0)
    assert (report.accounts_created, report.guardians_linked) == (1, 1)
    assert Pupil.objects.get(student_number=sn(1)).class_name == "5班"
    assert Pupil.objects.get(student_number=sn(1)).grade == 4
    assert Guardian.objects.get(pupil__student_number=sn(2)).relation == "father"
    assert Pupil.objects.get(student_number=sn(3)).guardians.count() == 2
    assert counts()["pupils"] == before["pupils"]
    assert counts()["guardians"] == before["guardians"] + 1


@pytest.mark.django_db
def test_a_guardian_missing_from_the_file_stays_linked_with_a_warning(city: City) -> None:
    # Given a pupil with a guardian linked earlier
    import_rows(city, [good_row(1)])
    # When the file now lists another guardian only
    report = import_rows(city, [good_row(1, guardian1_name="新家长", guardian1_phone="15822223333")])
    # Then the earlier guardian stays, the new one is added, and a warning says so
    assert Pupil.objects.get(student_number=sn(1)).guardians.count() == 2
    assert [w.code for w in report.warnings] == ["guardian_not_in_file"]


# --- who may import ----------------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    "role",
    ["city_admin", "superuser", "district_admin", "teacher", "parent", "operator_staff", "expert", "nobody"],
)
def test_anyone_but_the_schools_own_admin_gets_404_and_nothing_changes(city: City, role: str) -> None:
    # Given a valid file and a caller who is not an administrator of school A1
    data = xlsx([good_row(1)])
    user = city.users[role]
    before = counts()
    missing = api_as(user).post("/api/v1/schools/999999/roster", {"file": upload(data)}, format="multipart")
    # When they post it to the API and the page, or ask for the template
    api = api_as(user).post(f"/api/v1/schools/{city.a1.pk}/roster", {"file": upload(data)}, format="multipart")
    page = page_as(user).post(f"/schools/{city.a1.pk}/roster/", {"file": upload(data)})
    template_api = api_as(user).get(f"/api/v1/schools/{city.a1.pk}/roster/template")
    template_page = page_as(user).get(f"/schools/{city.a1.pk}/roster/template.xlsx")
    form = page_as(user).get(f"/schools/{city.a1.pk}/roster/")
    # Then every answer is the 404 of a missing school, and nothing was written
    assert api.status_code == missing.status_code == 404
    assert (
        api.json()
        == missing.json()
        == {"error": {"code": "not_found", "message": api.json()["error"]["message"], "fields": {}}}
    )
    assert template_api.status_code == 404 and template_api.json() == missing.json()
    assert page.status_code == template_page.status_code == form.status_code == 404
    assert counts() == before


@pytest.mark.django_db
def test_a_school_admin_cannot_import_into_another_school(city: City) -> None:
    admin = city.users["school_admin"]
    before = counts()
    for school in (city.a2, city.b1):
        response = post_roster(api_as(admin), school, xlsx([good_row(1)]))
        assert response.status_code == 404
        assert (
            page_as(admin).post(f"/schools/{school.pk}/roster/", {"file": upload(xlsx([good_row(1)]))}).status_code
            == 404
        )
    with pytest.raises(Exception) as info:
        roster_import(actor=admin, school=city.a2, file=upload(xlsx([good_row(1)])), now=NOW)
    assert getattr(info.value, "status", None) == 404
    assert counts() == before


@pytest.mark.django_db
def test_anonymous_callers_are_refused(city: City) -> None:
    before = counts()
    response = Client().post(f"/api/v1/schools/{city.a1.pk}/roster", {"file": upload(xlsx([good_row(1)]))})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    page = Client().get(f"/schools/{city.a1.pk}/roster/")
    assert page.status_code == 302 and page["Location"].startswith("/login/")
    assert counts() == before


# --- files that are not acceptable -------------------------------------------------------------------------
@pytest.mark.django_db
def test_an_oversized_file_is_refused(city: City, settings: Any) -> None:
    # Given a limit smaller than the file
    data = xlsx([good_row(i) for i in range(1, 40)])
    settings.KEHOU_ROSTER_MAX_BYTES = len(data) - 1
    before = counts()
    # When uploaded through the service, the API and the page
    with pytest.raises(RosterFileError) as info:
        roster_import(actor=city.users["school_admin"], school=city.a1, file=upload(data), now=NOW)
    response = post_roster(api_as(city.users["school_admin"]), city.a1, data)
    page = page_as(city.users["school_admin"]).post(f"/schools/{city.a1.pk}/roster/", {"file": upload(data)})
    # Then each answers file_too_large and nothing is written
    assert info.value.code == "file_too_large"
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"
    assert page.status_code == 413
    assert "file_too_large" in page.content.decode()
    assert counts() == before


@pytest.mark.django_db
def test_a_body_far_over_the_limit_is_refused_before_it_is_read(city: City, settings: Any) -> None:
    settings.KEHOU_ROSTER_MAX_BYTES = 1000
    big = xlsx([good_row(i) for i in range(1, 40)]) + b"\0" * 100_000
    response = post_roster(api_as(city.users["school_admin"]), city.a1, big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"


@pytest.mark.django_db
def test_too_many_rows_are_refused(city: City, settings: Any) -> None:
    settings.KEHOU_ROSTER_MAX_ROWS = 3
    before = counts()
    response = post_roster(api_as(city.users["school_admin"]), city.a1, xlsx([good_row(i) for i in range(1, 5)]))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_many_rows"
    assert counts() == before
    # … while exactly the limit is fine
    assert (
        post_roster(api_as(city.users["school_admin"]), city.a1, xlsx([good_row(i) for i in range(1, 4)])).status_code
        == 200
    )


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, content in entries.items():
            z.writestr(name, content)
    return buf.getvalue()


NOT_XLSX = {
    "csv with an xlsx name": "学籍号,姓名\nG1,张三\n".encode(),
    "empty file": b"",
    "old binary xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,
    "a zip of something else": _zip({"readme.txt": b"hello"}),
    "zip with content types but no sheet": _zip({"[Content_Types].xml": b"<Types/>"}),
    "truncated xlsx": xlsx([good_row(1)])[:1500],
    "xlsx parts that are not xml": _zip(
        {"[Content_Types].xml": b"garbage", "xl/workbook.xml": b"garbage", "xl/worksheets/sheet1.xml": b"garbage"}
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(NOT_XLSX))
def test_a_file_that_is_not_xlsx_is_refused_whatever_its_name(city: City, name: str) -> None:
    before = counts()
    response = post_roster(api_as(city.users["school_admin"]), city.a1, NOT_XLSX[name], name="roster.xlsx")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "not_xlsx"
    assert counts() == before


@pytest.mark.django_db
def test_a_zip_bomb_is_refused_before_unpacking(city: City, settings: Any) -> None:
    settings.KEHOU_ROSTER_MAX_BYTES = 100_000
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b" " * 3_000_000)
    response = post_roster(api_as(city.users["school_admin"]), city.a1, buf.getvalue())
    assert response.json()["error"]["code"] == "file_too_large"


@pytest.mark.django_db
def test_a_header_that_does_not_match_is_a_file_level_error(city: City) -> None:
    # Given a header without 学籍号 and with a column we do not know
    headers = ["编号", *HEADERS[1:]]
    before = counts()
    response = post_roster(api_as(city.users["school_admin"]), city.a1, xlsx([good_row(1)], headers=headers))
    # Then bad_header says what is missing and what is unknown
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_header"
    assert error["fields"]["missing"] == ["学籍号 (student number)"]
    assert error["fields"]["unknown"] == ["编号"]
    assert counts() == before


@pytest.mark.django_db
def test_a_repeated_column_is_a_bad_header(city: City) -> None:
    with pytest.raises(RosterFileError) as info:
        roster_import(
            actor=city.users["school_admin"],
            school=city.a1,
            file=upload(xlsx([[*good_row(1), "张三"]], headers=[*HEADERS, "姓名"])),
            now=NOW,
        )
    assert info.value.code == "bad_header"
    assert info.value.fields["repeated"] == ["姓名"]


@pytest.mark.django_db
def test_a_request_without_a_file(city: City) -> None:
    client = api_as(city.users["school_admin"])
    response = client.post(f"/api/v1/schools/{city.a1.pk}/roster", {}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_file"
    json_body = client.post(f"/api/v1/schools/{city.a1.pk}/roster", {"file": "x"}, format="json")
    assert json_body.status_code == 415
    assert json_body.json()["error"]["code"] == "unsupported_media_type"


# --- the page ----------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_page_imports_and_shows_the_counts(city: City) -> None:
    client = page_as(city.users["school_admin"])
    form = client.get(f"/schools/{city.a1.pk}/roster/")
    assert form.status_code == 200
    html = form.content.decode()
    assert 'enctype="multipart/form-data"' in html and "csrfmiddlewaretoken" in html
    assert f"/schools/{city.a1.pk}/roster/template.xlsx" in html
    response = client.post(f"/schools/{city.a1.pk}/roster/", {"file": upload(xlsx([good_row(1), good_row(2)]))})
    assert response.status_code == 200
    assert response.context["report"]["created"] == 2
    assert Pupil.objects.filter(school=city.a1, student_number__in=[sn(1), sn(2)]).count() == 2


@pytest.mark.django_db
def test_the_page_shows_every_problem_highlighted_and_writes_nothing(city: City) -> None:
    client = page_as(city.users["school_admin"])
    before = counts()
    response = client.post(
        f"/schools/{city.a1.pk}/roster/", {"file": upload(xlsx([good_row(1), good_row(2, gender="X", grade=8)]))}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count('class="problem-error"') == 2
    assert "invalid_gender" in html and "grade_out_of_range" in html
    assert "性别 (gender: 男/女)" in html  # the column as the template names it
    assert counts() == before


@pytest.mark.django_db
def test_the_page_explains_a_bad_file(city: City) -> None:
    client = page_as(city.users["school_admin"])
    response = client.post(f"/schools/{city.a1.pk}/roster/", {"file": upload(b"not a workbook")})
    assert response.status_code == 400
    assert "not_xlsx" in response.content.decode()
    header = client.post(
        f"/schools/{city.a1.pk}/roster/", {"file": upload(xlsx([good_row(1)], headers=["编号", *HEADERS[1:]]))}
    )
    assert header.status_code == 400
    assert "学籍号 (student number)" in header.content.decode()


@pytest.mark.django_db
def test_the_page_upload_is_csrf_protected(city: City) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(city.users["school_admin"], backend="kehou.people.auth.PhoneOrUsernameBackend")
    before = counts()
    response = client.post(f"/schools/{city.a1.pk}/roster/", {"file": upload(xlsx([good_row(1)]))})
    assert response.status_code == 403
    assert counts() == before


@pytest.mark.django_db
def test_school_page_links_to_the_import_for_its_admin_only(city: City) -> None:
    link = f"/schools/{city.a1.pk}/roster/"
    assert link in page_as(city.users["school_admin"]).get(f"/schools/{city.a1.pk}/").content.decode()
    assert link not in page_as(city.users["district_admin"]).get(f"/schools/{city.a1.pk}/").content.decode()


def test_the_api_schema_documents_a_multipart_upload(db: Any) -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    post = schema["paths"]["/api/v1/schools/{id}/roster"]["post"]
    body = post["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["properties"]["file"] == {"type": "string", "format": "binary"}
    assert {"200", "400", "404", "413"} <= set(post["responses"])
    assert "/api/v1/schools/{id}/roster/template" in schema["paths"]


# --- size --------------------------------------------------------------------------------------------------
def big_file(n: int) -> bytes:
    """n pupils; pairs of pupils share guardian 2 (siblings): n + n/2 accounts, 2n guardian links."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(roster.ROSTER_SHEET)
    ws.append(HEADERS)
    births = [f"2015{m:02d}{d:02d}" for m in range(1, 13) for d in (1, 11, 21)]
    for i in range(n):
        birth = births[i // 1000]
        first17 = f"360112{birth}{i % 1000:03d}"
        ws.append(
            [
                "G" + first17 + roster.id_check_digit(first17),
                f"学生{i}",
                "男" if i % 2 else "女",
                datetime.strptime(birth, "%Y%m%d"),
                1 + i % 6,
                f"{1 + i % 12}班",
                f"母亲{i}",
                "母亲",
                f"150{i:08d}",
                f"父亲{i // 2}",
                "父亲",
                f"151{i // 2:08d}",
            ]
        )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.django_db
def test_ten_thousand_rows_import_in_one_go_with_set_based_queries(city: City) -> None:
    # Given a 10,000-row file
    data = big_file(10_000)
    before = counts()
    # When imported
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        report = roster_import(actor=city.users["school_admin"], school=city.a1, file=upload(data), now=NOW)
    seconds = time.perf_counter() - started
    # Then everything is written, with a number of queries that does not grow per row
    assert (report.rows, report.created, report.accounts_created, report.guardians_linked) == (
        10_000,
        10_000,
        15_000,
        20_000,
    )
    after = counts()
    assert after["pupils"] - before["pupils"] == 10_000
    assert after["users"] - before["users"] == 15_000
    assert after["guardians"] - before["guardians"] == 20_000
    assert after["audit"] - before["audit"] == 1
    # Bulk writes go in batches (SQLite allows 999 parameters a statement) and reads in chunks of 2,000:
    # a few hundred statements, where one query per row would be tens of thousands.
    assert len(queries) < 1000, len(queries)
    print(f"10,000 rows imported in {seconds:.1f} s with {len(queries)} queries")


# --- reading workbooks as people save them -----------------------------------------------------------------
def _rewrite_sheet_xml(data: bytes, change: Any) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                content = change(content)
            target.writestr(item, content)
    return buf.getvalue()


@pytest.mark.django_db
def test_a_wrong_declared_sheet_size_does_not_drop_rows(city: City) -> None:
    # Given a file whose sheet claims to be two rows tall although it has four
    data = _rewrite_sheet_xml(
        xlsx([good_row(1), good_row(2), good_row(3)]),
        lambda xml: xml.replace(b"</sheetPr>", b'</sheetPr><dimension ref="A1:B2"/>', 1),
    )
    assert b'<dimension ref="A1:B2"/>' in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    # When imported, Then every row is read
    report = roster_import(actor=city.users["school_admin"], school=city.a1, file=upload(data), now=NOW)
    assert (report.rows, report.created) == (3, 3)


@pytest.mark.django_db
def test_the_roster_sheet_is_found_by_name_or_else_the_first_sheet_is_read(city: City) -> None:
    # Given a workbook whose first sheet is notes and whose second is 学生名单
    wb = Workbook()
    wb.active.title = "备注"
    wb.active.append(["随便写点什么"])
    sheet = wb.create_sheet(roster.ROSTER_SHEET)
    sheet.append(HEADERS)
    sheet.append(good_row(1))
    buf = io.BytesIO()
    wb.save(buf)
    assert import_rows_bytes(city, buf.getvalue()).created == 1
    # And a workbook with one sheet of another name
    wb = Workbook()
    wb.active.title = "Sheet1"
    wb.active.append(HEADERS)
    wb.active.append(good_row(2))
    buf = io.BytesIO()
    wb.save(buf)
    assert import_rows_bytes(city, buf.getvalue()).created == 1


def import_rows_bytes(city: City, data: bytes) -> roster.RosterReport:
    return roster_import(actor=city.users["school_admin"], school=city.a1, file=upload(data), now=NOW)
