"""The ledger API: balances and transactions read through the scope (the city every account, a district its
schools' prepayments, a school its own, parents nothing), transaction detail with postings, and verify for the city
bureau only. Read only: writes are 405."""

from __future__ import annotations

from typing import Any

import pytest

from kehou.conftest import City, api_as
from kehou.ledger.services import ESCROW, REFUNDS_PAYABLE, clearing_code, prepaid_code
from kehou.payments.tests.factories import held_seat, ordered, pay_with_simulator

from ..models import LedgerTransaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def money(settings: Any, tmp_path: Any, city: City) -> dict[str, Any]:
    """A paid order in A1, A2 and B1 each (through the simulator); A1's refunded whole (reserve posted, with the
    channel)."""
    from kehou.enrolment.tests.factories import NOW, key
    from kehou.payments.services.refunds import refund_request

    settings.VAR_DIR = tmp_path  # the simulator's keys (as kehou.payments.tests.factories.simulator)
    settings.KEHOU_PAYMENT_CHANNELS = ["simulator"]
    orders = {}
    for name, school in (("a1", city.a1), ("a2", city.a2), ("b1", city.b1)):
        seat = held_seat(school=school)
        order = ordered(seat)
        pay_with_simulator(seat, order)
        order.refresh_from_db()
        orders[name] = (seat, order)
    seat, order = orders["a1"]
    refund_request(actor=seat.parent, order=order, request_key=key(), now=NOW)
    return orders


def codes(response: Any) -> dict[str, int]:
    assert response.status_code == 200, response.content
    return {row["code"]: row["balance_fen"] for row in response.json()["accounts"]}


def test_balances_are_scoped(money: dict[str, Any], city: City) -> None:
    fee = {k: o.total_fen for k, (_s, o) in money.items()}
    everything = codes(api_as(city.users["city_admin"]).get("/api/v1/ledger/balances"))
    assert everything[clearing_code("simulator")] == sum(fee.values())
    assert everything[prepaid_code(city.a1.pk)] == 0  # refunded whole: reserved for the refund
    assert everything[REFUNDS_PAYABLE] == fee["a1"]
    assert everything[prepaid_code(city.b1.pk)] == fee["b1"]
    assert ESCROW not in everything or everything[ESCROW] == 0

    district = codes(api_as(city.users["district_admin"]).get("/api/v1/ledger/balances"))
    assert district == {prepaid_code(city.a1.pk): 0, prepaid_code(city.a2.pk): fee["a2"]}
    school = api_as(city.users["school_admin"]).get("/api/v1/ledger/balances")
    assert codes(school) == {prepaid_code(city.a1.pk): 0}
    account = school.json()["accounts"][0]
    assert (account["debits_fen"], account["credits_fen"]) == (fee["a1"], fee["a1"])
    for role in ("parent", "teacher", "expert", "nobody"):
        assert codes(api_as(city.users[role]).get("/api/v1/ledger/balances")) == {}, role
    only_b1 = api_as(city.users["city_admin"]).get("/api/v1/ledger/balances", {"school": city.b1.pk})
    assert codes(only_b1) == {prepaid_code(city.b1.pk): fee["b1"]}
    assert only_b1.json()["by_kind"] == {"liability": fee["b1"]}


def test_transactions_are_scoped_filtered_and_show_their_postings(money: dict[str, Any], city: City) -> None:
    _seat, a1_order = money["a1"]
    city_client = api_as(city.users["city_admin"])
    everything = city_client.get("/api/v1/ledger/transactions/")
    assert everything.status_code == 200
    assert everything.json()["count"] == LedgerTransaction.objects.count() == 4  # 3 payments + 1 refund reserve
    refunds = city_client.get("/api/v1/ledger/transactions/", {"kind": "refund"}).json()["results"]
    assert [r["key"].split(":")[0] for r in refunds] == ["refund"]
    assert refunds[0]["postings"] == [
        {"debit": prepaid_code(city.a1.pk), "credit": REFUNDS_PAYABLE, "amount_fen": a1_order.total_fen}
    ]
    by_reference = city_client.get("/api/v1/ledger/transactions/", {"reference": f"order:{a1_order.order_no}"})
    assert {r["kind"] for r in by_reference.json()["results"]} == {"payment", "refund"}
    assert city_client.get("/api/v1/ledger/transactions/", {"school": city.b1.pk}).json()["count"] == 1

    school = api_as(city.users["school_admin"])
    school_rows = school.get("/api/v1/ledger/transactions/").json()["results"]
    assert {r["school"] for r in school_rows} == {city.a1.pk} and len(school_rows) == 2
    b1_txn = LedgerTransaction.objects.get(school=city.b1)
    assert school.get(f"/api/v1/ledger/transactions/{b1_txn.pk}/").status_code == 404
    detail = city_client.get(f"/api/v1/ledger/transactions/{b1_txn.pk}/").json()
    assert detail["amount_fen"] == money["b1"][1].total_fen
    assert detail["postings"] == [
        {"debit": clearing_code("simulator"), "credit": prepaid_code(city.b1.pk), "amount_fen": detail["amount_fen"]}
    ]
    assert api_as(city.users["district_admin"]).get("/api/v1/ledger/transactions/").json()["count"] == 3
    assert api_as(city.users["parent"]).get("/api/v1/ledger/transactions/").json()["count"] == 0


def test_verify_is_the_city_bureaus(money: dict[str, Any], city: City) -> None:
    response = api_as(city.users["city_admin"]).get("/api/v1/ledger/verify")
    assert response.status_code == 200
    body = response.json()
    assert body["checked"] is True and body["balanced"] is True and body["breaches"] == []
    assert body["transactions"] == 4
    paid = sum(o.total_fen for _s, o in money.values())
    assert body["escrow_fen"] == paid  # the refund is still with the channel: nothing left custody yet
    for role in ("district_admin", "school_admin", "parent"):
        answer = api_as(city.users[role]).get("/api/v1/ledger/verify").json()
        assert answer == {"checked": False, "balanced": None, "transactions": None, "escrow_fen": None, "breaches": []}


def test_the_ledger_api_is_read_only(money: dict[str, Any], city: City) -> None:
    client = api_as(city.users["city_admin"])
    before = LedgerTransaction.objects.count()
    txn = LedgerTransaction.objects.first()
    assert txn is not None
    for method, url in (
        ("post", "/api/v1/ledger/transactions/"),
        ("delete", f"/api/v1/ledger/transactions/{txn.pk}/"),
        ("patch", f"/api/v1/ledger/transactions/{txn.pk}/"),
        ("post", "/api/v1/ledger/balances"),
        ("post", "/api/v1/ledger/verify"),
    ):
        response = getattr(client, method)(url, {"kind": "correction"}, format="json")
        assert response.status_code == 405, (method, url)
    assert LedgerTransaction.objects.count() == before
