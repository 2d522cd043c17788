"""What ``make demo`` prints (issue 14): ``load_demo`` says what it does in one line per stage (the counts go to
var/demo-load.log), ``demo_accounts`` ends with the few accounts to try, one per role, and where the full list is
(var/demo-accounts.json); the demo's deliberately forged notification is no warning."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from kehou.demo.common import NAMED_USERNAMES, TZ, expected_warnings
from kehou.demo.stages.city import build_city
from kehou.people.models import RoleAssignment

NOW = datetime(2026, 8, 31, 9, 0, tzinfo=TZ)


@pytest.mark.django_db
def test_load_demo_says_one_line_per_stage_and_logs_the_counts(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = StringIO()

    call_command("load_demo", pupils=80, catalog=False, stdout=out)

    lines = out.getvalue().splitlines()
    assert len(lines) == 3, lines  # what it is doing, the city's one line, the password
    assert lines[0].startswith("Loading the demo city of 南昌市")
    assert lines[1].startswith("Loaded the demo city of 南昌市 in ") and "80 pupils" in lines[1]
    assert "password" in lines[2]
    log = (tmp_path / "demo-load.log").read_text()
    assert "city counts" in log and "guardians" in log  # the whole table is kept there

    verbose = StringIO()
    call_command("load_demo", pupils=80, catalog=False, verbosity=2, stdout=verbose)
    assert "already loaded" in verbose.getvalue()


def test_an_expected_rejection_is_logged_at_info_not_as_a_warning(caplog):
    log = logging.getLogger("kehou.payments")
    with caplog.at_level(logging.INFO, logger="kehou.payments"), expected_warnings("kehou.payments"):
        log.warning("payment notification rejected: channel=%s reason=%s", "simulator", "bad_signature")
    log.warning("a real one")
    [expected, real] = caplog.records
    assert expected.levelname == "INFO" and "expected" in expected.getMessage()
    assert real.levelname == "WARNING"


@pytest.mark.django_db
def test_demo_accounts_ends_with_one_account_per_role_and_the_json_has_them_all(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    build_city(scale=0.02, now=NOW)
    out = StringIO()

    call_command("demo_accounts", stdout=out)

    lines = out.getvalue().splitlines()
    assert len(lines) <= 12, lines
    text = out.getvalue()
    for username in NAMED_USERNAMES:
        assert f" {username} " in text
    assert "district-360102" in text and "school-" in text
    assert lines[-1].endswith("demo-accounts.json.") and "password" in lines[-1]
    entries = json.loads((tmp_path / "demo-accounts.json").read_text())
    experts = {e["username"] for e in entries if e["role"] == "expert"}
    every_expert = set(RoleAssignment.objects.filter(role="expert").values_list("user__username", flat=True))
    assert experts == every_expert and len(experts) > 20  # every expert the review walk-through may draw

    table = StringIO()
    call_command("demo_accounts", "--all", stdout=table)
    assert "Accounts by role" in table.getvalue() and len(table.getvalue().splitlines()) > len(lines)
