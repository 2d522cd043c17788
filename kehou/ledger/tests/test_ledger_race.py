"""Refunds racing for one prepayment: the account lock lets exactly as many through as the balance covers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kehou.catalog.tests.test_concurrency import Race
from kehou.core.errors import KehouError
from kehou.ledger.selectors import balances, verify
from kehou.ledger.services import REFUNDS_PAYABLE, Leg, clearing_code, post, prepaid_code
from kehou.testing import factories as f

from .test_ledger import NOW

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def race(tmp_path: Path) -> Iterator[Race]:
    r = Race(tmp_path)
    yield r
    r.stop()


def test_ten_refunds_of_sixty_against_a_hundred_let_one_through(race: Race) -> None:
    school = f.SchoolFactory()
    pre = prepaid_code(school.pk)
    post(key="pay", kind="payment", legs=[Leg(clearing_code("alipay"), pre, 100_00)], now=NOW)
    race.start()
    results = race.run(
        *(
            lambda i=i: post(key=f"refund-{i}", kind="refund", legs=[Leg(pre, REFUNDS_PAYABLE, 60_00)], now=NOW)
            for i in range(10)
        )
    )
    for r in results:
        if isinstance(r, Exception) and not isinstance(r, KehouError):
            raise r
    assert sum(1 for r in results if not isinstance(r, Exception)) == 1
    assert {r.code for r in results if isinstance(r, KehouError)} == {"ledger_insufficient"}
    assert race.read(lambda: balances()[pre]) == 40_00
    assert race.read(lambda: verify().balanced)
