"""The demo city: deterministic, idempotent, valid, and its listed accounts really log in."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, datetime
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from kehou.core.models import AuditEntry
from kehou.demo import data
from kehou.demo.common import NAMED_USERNAMES, TZ, DemoError, LoadResult
from kehou.demo.loader import reset
from kehou.demo.stages.city import build_city, db_digest, demo_state, plan_city, plan_digest
from kehou.orgs.models import CalendarDay, OperatorAuthorisation, OperatorCompany, Organisation, Region, School, Term
from kehou.people.models import (
    PHONE_RE,
    STUDENT_NUMBER_RE,
    ExpertProfile,
    Guardian,
    Pupil,
    Role,
    RoleAssignment,
    TeacherProfile,
    User,
    student_number_validator,
)
from kehou.people.services import login_with_password
from kehou.people.validators import USCC_CHARS, id_check_digit

NOW = datetime(2026, 8, 31, 9, 0, tzinfo=TZ)
SMALL = 0.05  # about 216 pupils: every school, teacher and administrator, few pupils


def _load(scale: float = SMALL) -> LoadResult:
    return build_city(scale=scale, now=NOW)


def _table_counts() -> dict[str, int]:
    models = [Region, School, Organisation, OperatorCompany, OperatorAuthorisation, User, RoleAssignment]
    models += [TeacherProfile, ExpertProfile, Pupil, Guardian, Term, CalendarDay, AuditEntry]
    return {m.__name__: m.objects.count() for m in models}


def _mod11_2_ok(number18: str) -> bool:
    """ISO 7064 MOD 11-2, checked from its definition: sum of value * 2^(position from the right) ≡ 1 (mod 11)."""
    values = [10 if c == "X" else int(c) for c in number18]
    return sum(v * pow(2, 17 - i) for i, v in enumerate(values)) % 11 == 1


def _uscc_ok(code: str) -> bool:
    """GB 32100: the weighted sum of the first 17 characters plus the check character is ≡ 0 (mod 31)."""
    chars = USCC_CHARS
    total = sum(chars.index(c) * pow(3, i, 31) for i, c in enumerate(code[:17]))
    return (total + chars.index(code[17])) % 31 == 0


# --- pure parts -----------------------------------------------------------------------------------------
def test_check_digit_matches_the_standard_example():
    # GB 11643-1999's worked example
    assert id_check_digit("11010519491231002") == "X"
    assert _mod11_2_ok("11010519491231002X")


def test_plan_is_the_same_in_another_process():
    """Set order and str hashing differ between processes (PYTHONHASHSEED); the plan must not."""
    here = plan_digest(plan_city(pupils=150))
    code = (
        "import django; django.setup();"
        "from kehou.demo.stages.city import plan_city, plan_digest;"
        "print(plan_digest(plan_city(pupils=150)))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "DJANGO_SETTINGS_MODULE": "kehou.settings.test"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=settings.BASE_DIR
    )
    assert out.stdout.strip() == here


def test_pupil_count_leaves_the_rest_of_the_city_alone():
    small, large = plan_city(pupils=100), plan_city(pupils=400)
    assert small.schools == large.schools
    assert small.teachers == large.teachers
    assert [u for u in small.users if not u.username.startswith("parent")] == [
        u for u in large.users if not u.username.startswith("parent")
    ]
    assert len(large.pupils) == 400


# --- loading --------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_two_loads_into_fresh_databases_are_identical():
    digests = []
    for _ in range(2):
        with transaction.atomic():
            result = _load()
            digests.append(db_digest())
            transaction.set_rollback(True)
        assert result.loaded
        assert School.objects.count() == 0  # rolled back: the next load starts from nothing
    plan = plan_city(pupils=round(data.BASE_PUPILS * SMALL))
    assert digests[0] == digests[1] == plan_digest(plan)


@pytest.mark.django_db
def test_loading_twice_adds_nothing():
    first = _load()
    before = _table_counts()
    second = _load()
    assert first.loaded and not second.loaded
    assert second.state == "loaded"
    assert _table_counts() == before
    assert AuditEntry.objects.filter(action="demo.loaded").count() == 1


@pytest.mark.django_db
def test_the_load_writes_one_audit_entry():
    result = _load()
    entry = AuditEntry.objects.get()
    assert entry.action == "demo.loaded"
    assert entry.actor is None
    assert entry.after["pupils"] == result.counts["pupils"]
    assert entry.after["digest"] == db_digest()


@pytest.mark.django_db
def test_a_partly_loaded_city_is_refused():
    User.objects.create(username="admin")
    with pytest.raises(DemoError):
        _load()
    assert School.objects.count() == 0


@pytest.mark.django_db
def test_reset_removes_the_city_and_a_reload_is_the_same():
    _load()
    digest = db_digest()
    reset(now=NOW)
    assert demo_state() == "absent"
    assert not Pupil.objects.exists() and not User.objects.exists() and not School.objects.exists()
    assert _load().loaded
    assert db_digest() == digest


@pytest.mark.django_db
def test_the_commands_load_once_and_say_so():
    out = StringIO()
    call_command("load_demo", pupils=80, catalog=False, stdout=out)
    assert "Loaded the demo city" in out.getvalue()
    assert Pupil.objects.count() == 80
    out = StringIO()
    call_command("load_demo", pupils=80, catalog=False, stdout=out)
    assert "already loaded" in out.getvalue()
    assert Pupil.objects.count() == 80
    out = StringIO()
    call_command("load_demo", "--reset", "--pupils", "90", "--no-catalog", stdout=out)
    assert Pupil.objects.count() == 90


# --- what the city looks like ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_regions_and_schools():
    _load()
    city = Region.objects.get(code="360100")
    assert city.kind == "city" and city.name == "南昌市"
    districts = {r.code: r for r in Region.objects.exclude(kind="city")}
    expected = {"360102", "360103", "360104", "360111", "360112", "360113", "360121", "360123", "360124"}
    assert expected <= set(districts)
    assert {c for c, r in districts.items() if r.kind == "zone"} == {"360161", "360162", "360163", "360164"}
    assert all(r.parent_id == city.pk for r in districts.values())

    schools = list(School.objects.select_related("district"))
    assert len(schools) >= 48
    by_district = Counter(s.district.code for s in schools)
    joined_by_district = Counter(s.district.code for s in schools if s.has_joined)
    assert set(by_district) == set(districts)
    assert set(joined_by_district) == set(districts)
    assert 0 < sum(1 for s in schools if not s.has_joined) < 8
    authorities = Counter(s.authority for s in schools)
    assert authorities["city_bureau"] >= 3 and authorities["province_institution"] >= 1
    assert authorities["city_private"] >= 1 and authorities["district"] > len(schools) / 2
    assert {s.stage for s in schools} == {"primary", "junior", "nine_year"}
    for s in schools:
        s.full_clean()
        assert re.fullmatch(r"\d{10}", s.code) and s.code.startswith(s.district.code)
        assert 28.3 <= s.latitude <= 29.0 and 115.45 <= s.longitude <= 116.4, s
        assert s.joined_at is None or s.joined_at.astimezone(TZ).year == 2026
        assert s.name.endswith(("小学", "中学", "学校"))


@pytest.mark.django_db
def test_pupils_and_guardians():
    _load()
    pupils = list(Pupil.objects.select_related("school"))
    assert len(pupils) == round(data.BASE_PUPILS * SMALL)
    assert all(p.school.has_joined for p in pupils)
    for p in pupils:
        student_number_validator(p.student_number)
        assert re.fullmatch(STUDENT_NUMBER_RE, p.student_number)
        assert _mod11_2_ok(p.student_number[1:]), p.student_number
        assert p.student_number[7:15] == p.birth_date.strftime("%Y%m%d")
        assert int(p.student_number[17]) % 2 == (1 if p.gender == "M" else 0)  # odd for boys, as on ID cards
        assert p.grade in p.school.grade_range
        # grade 1 in autumn 2026: six by 31 August 2026
        age_on_31_august = 2026 - p.birth_date.year - ((p.birth_date.month, p.birth_date.day) > (8, 31))
        assert age_on_31_august == p.grade + 5, (p, p.birth_date, p.grade)
        assert re.fullmatch(r"[1-6]班", p.class_name)
        assert 2 <= len(p.name) <= 3 and p.gender in ("M", "F")
    for p in pupils[::20]:
        p.full_clean()

    guardians = defaultdict(list)
    for g in Guardian.objects.select_related("user", "pupil"):
        guardians[g.pupil_id].append(g)
    assert all(1 <= len(guardians[p.pk]) <= 2 for p in pupils)
    parent_ids = {g.user_id for gs in guardians.values() for g in gs}
    assert set(RoleAssignment.objects.filter(role=Role.PARENT).values_list("user_id", flat=True)) == parent_ids
    children = Counter(g.user_id for gs in guardians.values() for g in gs)
    assert any(n == 2 for n in children.values())

    named = User.objects.get(username="parent")
    kids = Pupil.objects.filter(guardians__user=named)
    assert kids.count() == 2 and len({k.school_id for k in kids}) == 2


@pytest.mark.django_db
def test_accounts_roles_and_profiles():
    _load()
    users = list(User.objects.all())
    assert all(re.fullmatch(PHONE_RE, u.phone or "") for u in users)
    assert len({u.phone for u in users}) == len(users)
    assert all(u.full_name for u in users)
    for u in users[:: max(1, len(users) // 25)]:
        u.full_clean()
    for ra in RoleAssignment.objects.all()[::7]:
        ra.full_clean()

    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert RoleAssignment.objects.filter(user__username="city", role="city_admin").exists()
    for d in Region.objects.exclude(kind="city"):
        assert RoleAssignment.objects.filter(user__username=f"district-{d.code}", district=d).exists()
    for s in School.objects.all():
        assert RoleAssignment.objects.filter(user__username=f"school-{s.code}", school=s).exists()

    staff = TeacherProfile.objects.get(user__username="teacher")
    assert staff.kind == "staff" and staff.schools.count() == 1
    outside = TeacherProfile.objects.get(user__username="teacher-outside")
    assert outside.kind == "outside" and outside.organisation and outside.schools.count() >= 2
    assert staff.schools.get() in outside.schools.all()
    for t in TeacherProfile.objects.prefetch_related("schools"):
        t.full_clean()
        assert t.schools.count() == 1 if t.kind == "staff" else t.schools.count() >= 2
    joined = School.objects.filter(joined_at__isnull=False)
    assert all(TeacherProfile.objects.filter(kind="staff", schools=s).exists() for s in joined)
    assert Organisation.objects.filter(teachers__isnull=False).distinct().count() >= 3
    for o in Organisation.objects.all():
        o.full_clean()
        assert len(o.credit_code) == 18 and _uscc_ok(o.credit_code)

    experts = list(ExpertProfile.objects.all())
    assert len(experts) >= 30
    for e in experts:
        e.full_clean()
        assert e.specialities and set(e.specialities) <= set(data.SPECIALITIES)
    per_speciality = Counter(sp for e in experts for sp in e.specialities)
    assert all(per_speciality[sp] >= 4 for sp in data.SPECIALITIES)
    assert any(e.affiliation_school_id for e in experts)

    operators = list(OperatorCompany.objects.all())
    assert len(operators) == 2
    for op in operators:
        op.full_clean()
        assert _uscc_ok(op.credit_code)
        assert RoleAssignment.objects.filter(role="operator_staff", operator=op).exists()
    a, b = (set(op.schools.values_list("pk", flat=True)) for op in operators)
    assert a and b and not a & b
    assert (
        RoleAssignment.objects.get(user__username="operator")
        .operator.schools.filter(pk__in=staff.schools.all())
        .exists()
    )


@pytest.mark.django_db
def test_terms_and_calendar():
    _load()
    autumn = Term.objects.get(name="2026-2027学年第一学期")
    assert (autumn.starts_on, autumn.ends_on) == (date(2026, 9, 1), date(2027, 1, 22))
    spring = Term.objects.get(name="2026-2027学年第二学期")
    assert (spring.starts_on, spring.ends_on) == (date(2027, 2, 22), date(2027, 7, 2))
    days = {d.date: d for d in CalendarDay.objects.filter(term=autumn, school__isnull=True)}
    for n in range(1, 8):
        assert days[date(2026, 10, n)].kind == "holiday"
    assert days[date(2027, 1, 1)].kind == "holiday"
    makeups = [d for d in days.values() if d.kind == "makeup"]
    assert {d.date for d in makeups} == {date(2026, 9, 20), date(2026, 10, 10)}
    assert all(d.date.weekday() >= 5 and d.follows_weekday is not None for d in makeups)
    for d in CalendarDay.objects.all():
        d.full_clean()
        assert d.term.starts_on <= d.date <= d.term.ends_on
    notes = set(CalendarDay.objects.filter(term=spring).values_list("note", flat=True))
    assert {"清明节", "劳动节", "端午节"} <= notes


# --- demo_accounts ---------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_demo_accounts_writes_credentials_that_log_in(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    _load()
    out = StringIO()
    call_command("demo_accounts", stdout=out)
    text = out.getvalue()
    for username in NAMED_USERNAMES:
        assert f" {username} " in text
    assert f"({RoleAssignment.objects.filter(role='parent').count()} parents, who may also log in by phone)" in text

    entries = json.loads((tmp_path / "demo-accounts.json").read_text())
    assert all(set(e) == {"username", "password", "role", "district_code", "school_code"} for e in entries)
    roles = Counter(e["role"] for e in entries)
    non_parent = Counter(RoleAssignment.objects.exclude(role="parent").values_list("role", flat=True))
    assert {r: n for r, n in roles.items() if r != "parent"} == dict(non_parent)
    assert roles["parent"] >= 21
    usernames = {e["username"] for e in entries}
    assert set(NAMED_USERNAMES) <= usernames

    schools = {s.code: s.district.code for s in School.objects.select_related("district")}
    for e in entries:
        assert e["password"] == data.DEMO_PASSWORD
        if e["role"] in ("school_admin",) or (e["role"] == "teacher" and e["username"] == "teacher"):
            assert schools[e["school_code"]] == e["district_code"]
        if e["role"] in ("superuser", "city_admin", "operator_staff", "expert"):
            assert e["district_code"] is None and e["school_code"] is None
        if e["role"] == "district_admin":
            assert e["district_code"] and e["school_code"] is None

    now = timezone.now()
    for e in entries:
        user = login_with_password(identifier=e["username"], password=e["password"], now=now)
        assert user.username == e["username"]
    parent = User.objects.get(username="parent")
    assert login_with_password(identifier=parent.phone, password=data.DEMO_PASSWORD, now=now) == parent


@pytest.mark.django_db
def test_demo_accounts_leaves_out_changed_passwords(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    _load()
    user = User.objects.get(username="expert")
    user.set_password("Another@Password1")
    user.save()
    call_command("demo_accounts", stdout=StringIO())
    entries = json.loads((tmp_path / "demo-accounts.json").read_text())
    assert "expert" not in {e["username"] for e in entries}
