"""The API keeps its contract: Schemathesis drives every operation of the served OpenAPI schema (/api/schema/).

Each operation is reported on its own (``test_api[GET /api/v1/schools/]``, …) and gets Schemathesis' default phases
(examples, coverage, fuzzing) and default checks: no server error; every status code, content type, header and body
as the schema describes it; valid data accepted, invalid data refused; authentication enforced. Bounded and
deterministic: a few generated examples per operation (``MAX_EXAMPLES``) besides the coverage phase's, a fixed seed,
Hypothesis derandomized, no example database. It runs in process through the WSGI application (no socket), as the
bearer tokens of several roles in turns (a role per request), against a world with rows in every corner (the URL
walker's, ``test_scope_walk``) built once: every request starts from it (what it writes is rolled back).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient

from kehou.catalog.tests.factories import walker_proofs
from kehou.conftest import PASSWORD
from kehou.conftest import city as city_fixture
from kehou.core.tests.test_scope_walk import catalog_rows
from kehou.enrolment.tests.factories import walker_rows as enrolment_walker_rows
from kehou.payments.tests.factories import walker_rows as payments_walker_rows
from kehou.wsgi import application

pytestmark = pytest.mark.django_db  # each operation in a transaction of its own too, inside the world's

MAX_EXAMPLES = 5  # generated examples per operation in the fuzzing phase (the coverage phase adds its own)
# The roles whose tokens the requests take in turns: each sees a different part of the world.
ROLES = ("city_admin", "district_admin", "school_admin", "teacher", "parent", "operator_staff", "expert")

TOKENS: dict[str, str] = {}
_turns: Iterator[str] = itertools.cycle(ROLES)

# Operations that refuse some requests the schema allows, by a rule OpenAPI cannot state (a code that must name an
# existing row, a rule between two fields, a signature, a channel the settings enable): for them a 400 to a
# schema-valid request is an answer, not a failure ("positive_data_acceptance" takes it; Schemathesis' own advice).
# Every other operation must accept every request its schema allows.
RULES_BEYOND_THE_SCHEMA = {
    "POST /api/v1/care-standards/": "`region` names an existing region (`unknown_region`); a district's cap within "
    "the city's",
    "POST /api/v1/fee-standards/": "`region` and `category` name existing ones; lowest ≤ highest, within the city's",
    "POST /api/v1/review-policies/": "size 1–15, thresholds 0–10000 and return ≤ admit (`invalid_review_policy`); "
    "`region` names one",
    "POST /api/v1/refund-policies/": "`after_start` and the tiers name known rules (`invalid_rule`); `region`",
    "POST /api/v1/recusals/": "at least one of `school`, `organisation`, `submission` (`recusal_without_target`)",
    "POST /api/v1/library/{id}/adopt": "the city bureau names the `district` (`district_required`), others need not",
    "POST /api/v1/submissions/": "`category` names an existing one; the fee within its standard",
    "POST /api/v1/library/{id}/pick": "a school admin of several schools names the `school` (`school_required`)",
    "POST /api/v1/classes/": "slots (at least one, `no_slots`), grades, price and dates fit the term, the entry "
    "and the standards; `term` names one",
    "POST /api/v1/windows/": "closes after it opens (`window_dates`); `term` names one",
    "POST /api/v1/waivers/": "`term` names an existing term (`unknown_term`)",
    "GET /api/v1/teacher/sessions/": "`until` from `date` up to 31 days on",
    "POST /api/v1/leave-requests/": "`kind` is `leave_sick` or `leave_personal` (`invalid_choice`); a `session` or "
    "the dates, in order",
    "POST /api/v1/enrolments/": "a key in `Idempotency-Key` or `request_key`, the same if both",
    "POST /api/v1/orders/": "a key in `Idempotency-Key` or `request_key`, the same if both",
    "POST /api/v1/payments/notify/{channel}": "the channel's signature over the body",
    "POST /api/v1/reconciliations/": "`channel` is an enabled channel whose bill can be read (`channel_unavailable`)",
    "POST /api/v1/sessions/{id}/check-in": "`lat`, `lng`, `accuracy_m` are numbers in range, judged by the service "
    "with stable codes (the body takes any JSON there on purpose)",
    "POST /api/v1/payouts/notify/{channel}": "the payout channel's signature over the body",
    "POST /api/v1/payee/": "`code` is one WeChat's authorisation gave (`payee_invalid`); `real_name` as on an ID card",
    "POST /api/v1/qr-login/scan": "`token` is a live screen login's (`qr_login_invalid`)",
    "POST /api/v1/teaching/lessons/": "`school` is one the teacher teaches at, `steps` 1–30 timed steps, a `group` "
    "of theirs for sharing=group (`lesson_invalid`)",
    "PUT /api/v1/teaching/lessons/{id}/": "as creating a lesson (`lesson_invalid`); attached `courseware` the "
    "teacher may see",
    "POST /api/v1/teaching/courseware/": "`file` is courseware by its content (`invalid_file_type`, "
    "`courseware_unsafe`), `school` one the teacher teaches at, a `group` theirs (`courseware_invalid`)",
    "POST /api/v1/teaching/presentations/": "`courseware` is one the teacher may see and is converted "
    "(`courseware_not_ready`)",
    "POST /api/v1/teaching/presentations/{id}/go": "`page` within the courseware's pages; `courseware` one the "
    "teacher may see",
    "PUT /api/v1/teaching/outlines/{id}/": "`units` 1–30 of 1–40 timed lessons (`outline_invalid`)",
    "POST /api/v1/teaching/sessions/{id}/lesson": "`lesson` is one of the class's course outline (`outline_invalid`)",
    "POST /api/v1/operators/{id}/disbursements": "costs name a `district` of the operator's schools; tax a `period` "
    "and the certificate (`disbursement_invalid`); a key in `Idempotency-Key` or `request_key`",
    "POST /api/v1/schools/{id}/teaching-groups": "`teachers` are the school's (`lesson_invalid`)",
}
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # Schemathesis' default
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 2026,  # with Hypothesis derandomized: the same requests at every run
        "generation": {"allow-x00": False},  # no text the API takes may hold a NUL (400 everywhere: docs/api.md)
        "operations": [
            {
                "include-name": name,
                "checks": {"positive_data_acceptance": {"expected-statuses": [*POSITIVE_STATUSES, "400"]}},
            }
            for name in RULES_BEYOND_THE_SCHEMA
        ],
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)


ROLE_MARK = "Bearer role:"


@schema.auth(refresh_interval=None)
class RoleTokens:
    """The next role in turn (a role per generated request, not per operation). Schemathesis makes some cases
    when it collects the test, before any token exists: a case names its role, and ``as_role`` puts the role's
    token in just before the request is sent."""

    def get(self, case: Any, ctx: Any) -> str:
        return next(_turns)

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"{ROLE_MARK}{data}"}


def as_role(case: Any) -> None:
    authorization = (case.headers or {}).get("Authorization", "")
    if authorization.startswith(ROLE_MARK):
        case.headers["Authorization"] = f"Bearer {TOKENS[authorization.removeprefix(ROLE_MARK)]}"


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[None]:
    """Built once for the module, in a transaction rolled back at its end: the URL walker's world (the ``city``
    fixture, plus rows of every scoped model in school A2 and district B) and a token per role.

    Requests go through the real WSGI handler, which closes the database connection when a request ends (and with
    it the transaction): like Django's test client, this keeps the connection for the module."""
    from django.conf import settings as django_settings

    files = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": tmp_path_factory.mktemp("proofs")},
    }
    with (
        django_db_blocker.unblock(),
        override_settings(STORAGES={**django_settings.STORAGES, "default": files}),
        transaction.atomic(),
    ):
        city = city_fixture.__wrapped__(None)  # the conftest fixture's own function (functools.wraps): built once
        now = timezone.now()
        catalog_rows(city, now)
        walker_proofs(now)  # stored PDF proofs
        enrolment_walker_rows(city)
        payments_walker_rows(city)
        for role in ROLES:
            user = city.users[role]
            answer = APIClient().post(
                "/api/v1/auth/token", {"username": user.username, "password": PASSWORD}, format="json"
            )
            assert answer.status_code == 201, answer.content
            TOKENS[role] = answer.json()["token"]
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            yield
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
            TOKENS.clear()
            transaction.set_rollback(True)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_api(case: Any, world: None) -> None:
    # Every request starts from the same world: what it wrote is rolled back (a savepoint), failing or not.
    as_role(case)
    with transaction.atomic():
        case.call_and_validate()
        transaction.set_rollback(True)


def test_every_operation_is_fuzzed() -> None:
    """The schema the fuzzer reads is the served one, with every API route in it."""
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 90
    assert {"/api/v1/auth/token", "/api/v1/reconciliations/{id}/"} <= {op.path for op in operations}


def test_the_served_schema_is_built_once_per_language(client: Any, settings: Any, monkeypatch: Any) -> None:
    """/api/schema/ is built at the first request for a language, then served from memory; a changed setting
    builds it again (kehou.core.openapi.CachedSchemaGenerator)."""
    from django.utils import translation
    from drf_spectacular.generators import SchemaGenerator

    built: list[str] = []
    build = SchemaGenerator.get_schema

    def counting(self: Any, request: Any = None, public: bool = False) -> Any:
        built.append(translation.get_language())
        return build(self, request=request, public=public)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counting)
    settings.KEHOU_SCHEMA_TEST = 1  # a changed setting: whatever was built before is forgotten
    for query in ("", "", "?lang=en", "?lang=en", ""):
        assert client.get(f"/api/schema/{query}", HTTP_ACCEPT="application/vnd.oai.openapi+json").status_code == 200
    assert built == ["zh-hans", "en"]
    settings.KEHOU_SCHEMA_TEST = 2
    assert client.get("/api/schema/").status_code == 200
    assert built == ["zh-hans", "en", "zh-hans"]


@pytest.mark.parametrize("url", ["/api/v1/orders/", "/api/v1/refunds/", "/api/v1/payment-notifications/"])
def test_the_calendars_first_and_last_days_filter_without_a_server_error(url: str, world: None) -> None:
    """Found by the fuzzer: a date filter of 0001-01-01 was a 500 (its local midnight is before year 1 in UTC)."""
    name = {"/api/v1/orders/": "paid", "/api/v1/refunds/": "requested"}.get(url, "received")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {TOKENS['city_admin']}")
    for first, last in (("0001-01-01", "0001-01-01"), ("9999-12-31", "9999-12-31"), ("0001-01-01", "9999-12-31")):
        assert api.get(f"{url}?{name}_from={first}&{name}_to={last}").status_code == 200
