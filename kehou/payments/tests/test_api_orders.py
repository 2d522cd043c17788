"""The orders API: creating an order for a held seat (Idempotency-Key, 201/200), paying through a channel, the refund
quote and the refund (cancel) request, the scoped lists with filters and totals, the school's refund decisions,
refund policies and the channels a parent chooses. Every refusal answers its code and changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from kehou.conftest import City, api_as
from kehou.core.models import AuditEntry
from kehou.enrolment.models import ClassSession, Enrolment
from kehou.enrolment.tests.factories import NOW, SHANGHAI, city_region, key
from kehou.ledger.models import LedgerTransaction
from kehou.ledger.selectors import verify

from ..models import Order, PaymentAttempt, Refund, RefundPolicy
from .factories import Seat, held_seat, ordered, pay_with_simulator

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def moment(monkeypatch: pytest.MonkeyPatch) -> dict[str, datetime]:
    """The API reads the clock through kehou.core.clock.now: NOW (a Monday, 09:00) unless a test moves it."""
    at = {"now": NOW}
    monkeypatch.setattr("kehou.core.clock.now", lambda: at["now"])
    return at


def counts() -> tuple[int, ...]:
    """What a refused request must leave as it was."""
    return (
        Order.objects.count(),
        PaymentAttempt.objects.count(),
        Refund.objects.count(),
        LedgerTransaction.objects.count(),
        AuditEntry.objects.count(),
        RefundPolicy.objects.count(),
        Enrolment.objects.filter(status="cancelled").count(),
    )


def create(client: Any, seat: Seat, k: str | None = None, **body: Any) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": k} if k is not None else {}
    return client.post("/api/v1/orders/", {"enrolment": seat.enrolment.pk, **body}, format="json", **headers)


def paid(seat: Seat, *, materials: bool = False) -> Order:
    order = ordered(seat, materials=materials)
    pay_with_simulator(seat, order)
    order.refresh_from_db()
    assert order.status == "paid"
    return order


def after_sessions(seat: Seat, n: int) -> datetime:
    session = ClassSession.objects.get(course_class=seat.course_class, number=n)
    return datetime.combine(session.date, session.ends_at, tzinfo=SHANGHAI) + timedelta(minutes=1)


# --- POST /orders/ ------------------------------------------------------------------------------------------------
def test_an_order_for_a_held_seat_answers_201_and_the_same_key_200(simulator: Any) -> None:
    seat = held_seat(materials=8000)
    client = api_as(seat.parent)
    k = key()

    first = create(client, seat, k, include_materials=True)
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["state"] == "pending" and body["status"] == "pending"
    assert body["total_fen"] == seat.enrolment.fee_fen + 8000 and body["paid_fen"] == 0
    assert sorted((line["kind"], line["amount_fen"]) for line in body["lines"]) == [
        ("course", seat.enrolment.fee_fen),
        ("materials", 8000),
    ]
    assert body["pupil"] == {"id": seat.pupil.pk, "name": seat.pupil.name}
    assert body["course_class"] == {"id": seat.course_class.pk, "name": seat.course_class.name}
    assert body["attempts"] == [] and body["refunds"] == []

    before = counts()
    again = create(client, seat, k, include_materials=True)
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    # The key may also come in the body; a second key for the same seat is the same order.
    in_body = client.post("/api/v1/orders/", {"enrolment": seat.enrolment.pk, "request_key": k}, format="json")
    assert in_body.status_code == 200 and in_body.json()["id"] == body["id"]
    other_key = create(client, seat, key())
    assert other_key.status_code == 200 and other_key.json()["id"] == body["id"]
    assert counts() == before


def test_an_order_without_materials_has_one_line(simulator: Any) -> None:
    seat = held_seat(materials=8000)
    response = create(api_as(seat.parent), seat, key())
    assert response.status_code == 201
    assert [(line["kind"], line["amount_fen"]) for line in response.json()["lines"]] == [
        ("course", seat.enrolment.fee_fen)
    ]


@pytest.mark.parametrize(
    ("body", "header", "status", "code"),
    [
        ({"colour": "red"}, "good-key-0001", 400, "unknown_field"),
        ({"include_materials": "yes"}, "good-key-0002", 400, "invalid"),
        ({"enrolment": "1"}, "good-key-0003", 400, "invalid"),
        ({"enrolment": 2**64}, "good-key-0005", 400, "invalid"),
        ({"enrolment": 0}, "good-key-0006", 400, "invalid"),
        ({}, None, 400, "request_key_required"),
        ({}, "bad key!", 400, "request_key_invalid"),
        ({}, "short", 400, "request_key_invalid"),
        ({"request_key": "another-key-01"}, "good-key-0004", 400, "request_key_mismatch"),
    ],
)
def test_bad_order_requests_are_refused_and_change_nothing(
    simulator: Any, body: dict[str, Any], header: str | None, status: int, code: str
) -> None:
    seat = held_seat()
    client = api_as(seat.parent)
    before = counts()
    payload = {"enrolment": seat.enrolment.pk, **body}
    headers = {"HTTP_IDEMPOTENCY_KEY": header} if header is not None else {}
    response = client.post("/api/v1/orders/", payload, format="json", **headers)
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert counts() == before


def test_an_unknown_field_is_named(simulator: Any) -> None:
    seat = held_seat()
    response = create(api_as(seat.parent), seat, key(), colour="red")
    assert response.json()["error"]["fields"]["colour"][0]["code"] == "unknown_field"


def test_someone_elses_seat_and_a_reused_key_are_refused(simulator: Any, city: City) -> None:
    seat = held_seat()
    stranger = held_seat(school=seat.school)
    before = counts()
    assert create(api_as(stranger.parent), seat, key()).status_code == 404
    assert create(api_as(city.users["school_admin"]), seat, key()).status_code == 404
    assert counts() == before

    k = key()
    assert create(api_as(seat.parent), seat, k).status_code == 201
    second_seat = held_seat(school=seat.school)
    # The same parent's key for another of their seats: 409 request_key_reused.
    before = counts()
    from kehou.people.models import Guardian

    Guardian.objects.create(user=seat.parent, pupil=second_seat.pupil, relation="父亲")
    response = create(api_as(seat.parent), second_seat, k)
    assert response.status_code == 409 and response.json()["error"]["code"] == "request_key_reused"
    assert counts() == before


def test_a_waived_seat_is_paid_at_once(simulator: Any) -> None:
    from kehou.enrolment.services.selection import enrolment_select
    from kehou.enrolment.services.waivers import waiver_decide, waiver_request
    from kehou.enrolment.tests.factories import TUE_1600, autumn_term, make_class, school_admin

    seat = held_seat()
    waiver = waiver_request(
        actor=school_admin(seat.school), pupil=seat.pupil, term=autumn_term(), reason="低保", now=NOW
    )
    waiver_decide(actor=school_admin(seat.school), waiver=waiver, approve=True, now=NOW)
    free_class = make_class(seat.school, slots=[TUE_1600], name="书法")
    row = enrolment_select(
        actor=seat.parent, pupil_id=seat.pupil.pk, class_id=free_class.pk, request_key=key(), now=NOW
    ).enrolment
    response = api_as(seat.parent).post(
        "/api/v1/orders/", {"enrolment": row.pk}, format="json", HTTP_IDEMPOTENCY_KEY=key()
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["state"], body["channel"], body["total_fen"], body["lines"][0]["amount_fen"]) == (
        "paid",
        "waiver",
        0,
        0,
    )
    row.refresh_from_db()
    assert row.status == "confirmed"


# --- POST /orders/{id}/pay ----------------------------------------------------------------------------------------
def test_paying_starts_a_simulator_attempt_and_a_notification_pays_the_order(simulator: Any) -> None:
    seat = held_seat()
    order = ordered(seat)
    client = api_as(seat.parent)

    response = client.post(f"/api/v1/orders/{order.pk}/pay", {"channel": "simulator"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    attempt = PaymentAttempt.objects.get()
    assert body["attempt"] == attempt.pk and body["out_trade_no"] == attempt.out_trade_no
    assert body["amount_fen"] == order.total_fen and body["channel"] == "simulator"
    assert body["start"] == {"kind": "redirect", "url": f"/pay/simulator/{attempt.out_trade_no}/", "params": {}}
    # The same channel again reuses the attempt.
    assert (
        client.post(f"/api/v1/orders/{order.pk}/pay", {"channel": "simulator"}, format="json").json()["attempt"]
        == attempt.pk
    )

    pay_with_simulator(seat, order)
    detail = client.get(f"/api/v1/orders/{order.pk}/").json()
    assert detail["state"] == "paid" and detail["paid_fen"] == order.total_fen and detail["channel"] == "simulator"
    assert [(a["channel"], a["status"]) for a in detail["attempts"]] == [("simulator", "paid")]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"channel": "bitcoin"}, 400, "channel_unavailable"),
        ({"channel": "waiver"}, 400, "channel_unavailable"),
        ({"channel": "simulator", "tip": 1}, 400, "unknown_field"),
        ({}, 400, "invalid"),
        ([], 400, "invalid"),
    ],
)
def test_bad_pay_requests_change_nothing(simulator: Any, body: Any, status: int, code: str) -> None:
    seat = held_seat()
    order = ordered(seat)
    before = counts()
    response = api_as(seat.parent).post(f"/api/v1/orders/{order.pk}/pay", body, format="json")
    assert response.status_code == status and response.json()["error"]["code"] == code
    assert counts() == before


def test_a_paid_or_expired_order_is_not_paid_again(simulator: Any, moment: dict[str, datetime]) -> None:
    seat = held_seat()
    order = paid(seat)
    client = api_as(seat.parent)
    before = counts()
    response = client.post(f"/api/v1/orders/{order.pk}/pay", {"channel": "simulator"}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "order_not_pending"

    other = held_seat(school=seat.school)
    pending = ordered(other)
    before = counts()
    moment["now"] = pending.expires_at + timedelta(seconds=1)
    response = api_as(other.parent).post(f"/api/v1/orders/{pending.pk}/pay", {"channel": "simulator"}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "hold_expired"
    assert counts() == before


def test_only_the_childs_guardians_pay(simulator: Any, city: City) -> None:
    seat = held_seat(school=city.a1)
    order = ordered(seat)
    stranger = held_seat(school=city.a1).parent
    before = counts()
    for user in (stranger, city.users["school_admin"], city.users["teacher"]):
        response = api_as(user).post(f"/api/v1/orders/{order.pk}/pay", {"channel": "simulator"}, format="json")
        assert response.status_code == 404, user
        assert response.json()["error"]["code"] == "not_found"
    assert counts() == before


# --- lists, filters, totals ---------------------------------------------------------------------------------------
@pytest.fixture
def spread(simulator: Any, city: City) -> dict[str, Any]:
    """Paid orders in A1 (two: one the city's parent's), A2 and B1; a pending one in A1."""
    from kehou.people.models import Guardian

    own = held_seat(school=city.a1)
    Guardian.objects.create(user=city.users["parent"], pupil=own.pupil, relation="母亲")
    a1 = paid(own)
    a1b = paid(held_seat(school=city.a1))
    a2 = paid(held_seat(school=city.a2))
    b1 = paid(held_seat(school=city.b1))
    pending = ordered(held_seat(school=city.a1))
    return {"own": own, "a1": a1, "a1b": a1b, "a2": a2, "b1": b1, "pending": pending}


def ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_order_lists_are_scoped_with_totals(spread: dict[str, Any], city: City) -> None:
    s = spread
    everyone = {s[k].pk for k in ("a1", "a1b", "a2", "b1", "pending")}
    city_view = api_as(city.users["city_admin"]).get("/api/v1/orders/")
    assert ids(city_view) == everyone
    totals = city_view.json()["totals"]
    assert totals == {
        "count": 5,
        "paid_fen": sum(s[k].total_fen for k in ("a1", "a1b", "a2", "b1")),
        "refunded_fen": 0,
    }
    assert ids(api_as(city.users["district_admin"]).get("/api/v1/orders/")) == everyone - {s["b1"].pk}
    assert ids(api_as(city.users["school_admin"]).get("/api/v1/orders/")) == {s["a1"].pk, s["a1b"].pk, s["pending"].pk}
    assert ids(api_as(city.users["parent"]).get("/api/v1/orders/")) == {s["a1"].pk}
    assert ids(api_as(city.users["teacher"]).get("/api/v1/orders/")) == set()
    # Another school's order: the same 404 as a missing one.
    assert api_as(city.users["school_admin"]).get(f"/api/v1/orders/{s['a2'].pk}/").status_code == 404
    assert api_as(city.users["parent"]).get(f"/api/v1/orders/{s['a1b'].pk}/").status_code == 404
    # Bureaus see masked pupil names; the school in full.
    district_rows = api_as(city.users["district_admin"]).get(f"/api/v1/orders/{s['a1'].pk}/").json()
    assert district_rows["pupil"]["name"] != s["own"].pupil.name and "*" in district_rows["pupil"]["name"]
    school_row = api_as(city.users["school_admin"]).get(f"/api/v1/orders/{s['a1'].pk}/").json()
    assert school_row["pupil"]["name"] == s["own"].pupil.name


def test_the_order_list_reads_a_fixed_number_of_queries(spread: dict[str, Any], city: City) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_as(city.users["city_admin"])
    client.get("/api/v1/orders/")  # warm: the scope's first read
    with CaptureQueriesContext(connection) as five:
        assert len(ids(client.get("/api/v1/orders/"))) == 5
    paid(held_seat(school=city.b1))
    paid(held_seat(school=city.a2))
    client.get("/api/v1/orders/")
    with CaptureQueriesContext(connection) as seven:
        assert len(ids(client.get("/api/v1/orders/"))) == 7
    assert len(seven) == len(five) <= 8, [q["sql"] for q in seven.captured_queries]
    for url in ("/api/v1/refunds/", "/api/v1/payment-notifications/", "/api/v1/ledger/transactions/"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert len(queries) <= 8, (url, len(queries))


def test_order_filters(spread: dict[str, Any], city: City) -> None:
    s = spread
    client = api_as(city.users["city_admin"])
    assert ids(client.get("/api/v1/orders/", {"status": "pending"})) == {s["pending"].pk}
    assert ids(client.get("/api/v1/orders/", {"school": city.a2.pk})) == {s["a2"].pk}
    assert ids(client.get("/api/v1/orders/", {"district": city.district_b.code})) == {s["b1"].pk}
    assert len(ids(client.get("/api/v1/orders/", {"channel": "simulator"}))) == 4
    day = NOW.date().isoformat()
    assert len(ids(client.get("/api/v1/orders/", {"paid_from": day, "paid_to": day}))) == 4
    assert ids(client.get("/api/v1/orders/", {"paid_to": (NOW.date() - timedelta(days=1)).isoformat()})) == set()
    assert ids(client.get("/api/v1/orders/", {"search": s["a2"].order_no})) == {s["a2"].pk}
    assert ids(client.get("/api/v1/orders/", {"search": s["b1"].pupil.name})) == {s["b1"].pk}
    filtered = client.get("/api/v1/orders/", {"school": city.a2.pk}).json()["totals"]
    assert filtered == {"count": 1, "paid_fen": s["a2"].total_fen, "refunded_fen": 0}
    bad = client.get("/api/v1/orders/", {"paid_from": "yesterday"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_date"


# --- refunds: quote, request, list, decide ------------------------------------------------------------------------
def test_a_quote_before_the_first_session_is_the_whole_course_fee(simulator: Any) -> None:
    seat = held_seat()
    order = paid(seat)
    response = api_as(seat.parent).get(f"/api/v1/orders/{order.pk}/refund-quote")
    assert response.status_code == 200
    body = response.json()
    assert body["amount_fen"] == body["course_fen"] == order.total_fen == body["refundable_fen"]
    assert body["basis"]["rule"] == "before_start" and body["basis"]["sessions_held"] == 0
    assert body["needs_approval"] is False

    pending = ordered(held_seat(school=seat.school))
    response = api_as(pending.payer).get(f"/api/v1/orders/{pending.pk}/refund-quote")
    assert response.status_code == 409 and response.json()["error"]["code"] == "order_not_paid"


def test_a_refund_request_cancels_the_place_and_a_retry_answers_the_same_refund(simulator: Any) -> None:
    seat = held_seat()
    order = paid(seat)
    client = api_as(seat.parent)
    k = key()
    response = client.post(
        f"/api/v1/orders/{order.pk}/refund", {"reason": "孩子生病"}, format="json", HTTP_IDEMPOTENCY_KEY=k
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] is True
    assert body["refund"]["status"] == "processing" and body["refund"]["amount_fen"] == order.total_fen
    assert body["refund"]["reason"] == "孩子生病" and body["refund"]["channel"] == "simulator"
    assert body["order"]["state"] == "refunded" and body["order"]["refunded_fen"] == order.total_fen
    seat.enrolment.refresh_from_db()
    assert seat.enrolment.status == "cancelled"

    before = counts()
    again = client.post(
        f"/api/v1/orders/{order.pk}/refund", {"reason": "孩子生病"}, format="json", HTTP_IDEMPOTENCY_KEY=k
    )
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["refund"]["id"] == body["refund"]["id"]
    assert counts() == before
    assert verify().balanced


def test_bad_refund_requests_change_nothing(simulator: Any, city: City) -> None:
    seat = held_seat(school=city.a1)
    order = paid(seat)
    stranger = held_seat(school=city.a1).parent
    before = counts()
    url = f"/api/v1/orders/{order.pk}/refund"
    cases = [
        (stranger, {}, key(), 404, "not_found"),  # someone else's order
        (city.users["district_admin"], {}, key(), 403, "not_guardian"),  # sees it, may not cancel
        (seat.parent, {"amount_fen": 1}, key(), 400, "unknown_field"),
        (seat.parent, {}, None, 400, "request_key_required"),
        (seat.parent, {}, "not a key", 400, "request_key_invalid"),
    ]
    for user, body, k, status, code in cases:
        headers = {"HTTP_IDEMPOTENCY_KEY": k} if k else {}
        response = api_as(user).post(url, body, format="json", **headers)
        assert response.status_code == status, (user, body, response.content)
        assert response.json()["error"]["code"] == code
    assert counts() == before
    pending = ordered(held_seat(school=city.a1))
    before = counts()
    response = api_as(pending.payer).post(
        f"/api/v1/orders/{pending.pk}/refund", {}, format="json", HTTP_IDEMPOTENCY_KEY=key()
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "order_not_paid"
    assert counts() == before


def test_refunds_are_listed_in_scope_with_totals_and_decided_by_the_school(
    simulator: Any, city: City, moment: dict[str, datetime]
) -> None:
    from kehou.payments.services.refunds import policy_set

    from .test_refunds import city_admin

    policy_set(actor=city_admin(), region=city_region(), after_start="pro_rata", approval_after_start=True, now=NOW)
    a1 = held_seat(school=city.a1)
    a1_order = paid(a1)
    b1 = held_seat(school=city.b1)
    b1_order = paid(b1)
    moment["now"] = after_sessions(a1, 2)
    for seat, order in ((a1, a1_order), (b1, b1_order)):
        response = api_as(seat.parent).post(
            f"/api/v1/orders/{order.pk}/refund", {}, format="json", HTTP_IDEMPOTENCY_KEY=key()
        )
        assert response.status_code == 201 and response.json()["refund"]["status"] == "pending_approval"
    a1_refund = Refund.objects.get(order=a1_order)

    everyone = api_as(city.users["city_admin"]).get("/api/v1/refunds/")
    assert ids(everyone) == set(Refund.objects.values_list("pk", flat=True))
    assert everyone.json()["totals"]["count"] == 2 and everyone.json()["totals"]["succeeded_fen"] == 0
    assert everyone.json()["totals"]["in_progress_fen"] == sum(Refund.objects.values_list("amount_fen", flat=True))
    school = api_as(city.users["school_admin"])
    assert ids(school.get("/api/v1/refunds/")) == {a1_refund.pk}
    assert ids(school.get("/api/v1/refunds/", {"status": "succeeded"})) == set()
    assert school.get(f"/api/v1/refunds/{a1_refund.pk}/").json()["order"]["id"] == a1_order.pk
    assert school.get(f"/api/v1/refunds/{Refund.objects.get(order=b1_order).pk}/").status_code == 404

    decide = f"/api/v1/refunds/{a1_refund.pk}/decide"
    before = counts()
    for user, body, status, code in (
        (city.users["district_admin"], {"approve": True}, 403, "not_school_admin"),
        (a1.parent, {"approve": True}, 403, "not_school_admin"),
        (city.users["school_admin"], {"approve": "yes"}, 400, "invalid"),
        (city.users["school_admin"], {}, 400, "invalid"),
    ):
        response = api_as(user).post(decide, body, format="json")
        assert response.status_code == status and response.json()["error"]["code"] == code, response.content
    assert counts() == before
    approved = school.post(decide, {"approve": True}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "processing"
    again = school.post(decide, {"approve": False}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "refund_decided"
    assert verify().balanced


# --- refund policies ----------------------------------------------------------------------------------------------
def test_refund_policies_are_read_by_all_and_set_by_the_city_and_districts(city: City) -> None:
    city_region()
    admin = api_as(city.users["city_admin"])
    response = admin.post("/api/v1/refund-policies/", {"after_start": "pro_rata"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["region"]["kind"] == "city" and response.json()["no_refund_after"] == "1.000"

    district = api_as(city.users["district_admin"])
    tiered = {
        "after_start": "tiered",
        "tiers": [{"held_upto": "0.25", "percent": 100}, {"held_upto": 0.5, "percent": 50}],
        "no_refund_after": "0.5",
        "approval_after_start": True,
    }
    response = district.post("/api/v1/refund-policies/", tiered, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["region"]["code"] == city.district_a.code
    assert response.json()["tiers"] == [
        {"held_upto": "0.250", "percent": "100.00"},
        {"held_upto": "0.500", "percent": "50.00"},
    ]

    rows = api_as(city.users["parent"]).get("/api/v1/refund-policies/").json()
    assert [r["region"]["kind"] for r in rows] == ["city", "district"]

    before = counts()
    for client, body, status, code in (
        (district, {"after_start": "pro_rata", "region": city.district_b.code}, 404, "not_found"),
        (district, {"after_start": "pro_rata", "region": "360100"}, 403, None),
        (api_as(city.users["school_admin"]), {"after_start": "pro_rata"}, 400, "region_required"),
        (admin, {"after_start": "sometimes"}, 400, "invalid_rule"),
        (admin, {"after_start": "tiered", "tiers": []}, 400, "invalid_tiers"),
        (admin, {"after_start": "pro_rata", "no_refund_after": "1.5"}, 400, "invalid_deadline"),
        (admin, {"after_start": "pro_rata", "colour": "red"}, 400, "unknown_field"),
        (admin, {"after_start": "pro_rata", "region": "999999"}, 400, "unknown_region"),
        (admin, {"after_start": "tiered", "tiers": [{"held_upto": 0.5}]}, 400, "invalid"),
    ):
        response = client.post("/api/v1/refund-policies/", body, format="json")
        assert response.status_code == status, (body, response.content)
        if code:
            assert response.json()["error"]["code"] == code, (body, response.json())
    assert counts() == before


# --- channels -----------------------------------------------------------------------------------------------------
def test_the_channels_a_parent_may_choose(simulator: Any, settings: Any, city: City) -> None:
    settings.KEHOU_PAYMENT_CHANNELS = ["simulator", "alipay", "nonsense"]
    response = api_as(city.users["parent"]).get("/api/v1/channels/")
    assert response.status_code == 200
    assert [c["code"] for c in response.json()] == ["simulator", "alipay"]
    assert all(c["name"] for c in response.json())
    assert api_as(city.users["parent"]).post("/api/v1/channels/", {}, format="json").status_code == 405


# --- the OpenAPI schema -------------------------------------------------------------------------------------------
def test_the_openapi_schema_lists_the_payments_and_ledger_endpoints() -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    for path, method in (
        ("/api/v1/orders/", "get"),
        ("/api/v1/orders/", "post"),
        ("/api/v1/orders/{id}/", "get"),
        ("/api/v1/orders/{id}/pay", "post"),
        ("/api/v1/orders/{id}/refund-quote", "get"),
        ("/api/v1/orders/{id}/refund", "post"),
        ("/api/v1/channels/", "get"),
        ("/api/v1/refunds/", "get"),
        ("/api/v1/refunds/{id}/", "get"),
        ("/api/v1/refunds/{id}/decide", "post"),
        ("/api/v1/refund-policies/", "get"),
        ("/api/v1/refund-policies/", "post"),
        ("/api/v1/payments/notify/{channel}", "post"),
        ("/api/v1/payment-notifications/", "get"),
        ("/api/v1/payment-notifications/{id}/", "get"),
        ("/api/v1/reconciliations/", "get"),
        ("/api/v1/reconciliations/", "post"),
        ("/api/v1/ledger/balances", "get"),
        ("/api/v1/ledger/transactions/", "get"),
        ("/api/v1/ledger/transactions/{id}/", "get"),
        ("/api/v1/ledger/verify", "get"),
    ):
        assert method in paths.get(path, {}), (path, method)
    notify = paths["/api/v1/payments/notify/{channel}"]["post"]
    # The notify endpoint asks for no credentials; the others do.
    assert "security" not in schema and notify.get("security") in (None, [], [{}])
    assert paths["/api/v1/orders/"]["get"]["security"]
    create = paths["/api/v1/orders/"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])
