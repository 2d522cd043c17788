"""Races, run for real: threads released together by a barrier, each with its own database connection.

On PostgreSQL the threads share the test database. On SQLite the test database lives in memory with a shared
cache, where a writer that finds the table locked fails at once instead of waiting (the busy timeout does not
apply to shared-cache locks), which is not how Kehou runs SQLite. So there the committed test data is copied
into a database file and the threads connect to that file with the project's own SQLite settings (WAL,
``BEGIN IMMEDIATE``, busy timeout): the embedded deployment as it runs.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from kehou.catalog import selectors
from kehou.catalog.models import CatalogItem, Decision, LibraryEntry, Panel, PanelMember, Score, Submission
from kehou.catalog.services import libraries, review
from kehou.catalog.tests.factories import NOW, Libs, all_items, draw_panel, score_all, setup_catalog, submit_course
from kehou.conftest import City
from kehou.core.errors import KehouError
from kehou.core.models import AuditEntry
from kehou.people.models import Role
from kehou.testing import factories as f

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


class Race:
    """Runs calls at the same moment in threads, on a database all of them (and ``read``) can reach."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.original: dict[str, Any] | None = None

    def start(self) -> None:
        """Call once the test data is committed: on SQLite, the threads work on a file copy from here on."""
        if connection.vendor != "sqlite":
            return
        path = self.tmp_path / "race.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        # The copy starts in rollback-journal mode; switch it to WAL now, before any racer connects (switching
        # needs a lock, and a racer that switched it while another wrote would fail at once: "database is locked").
        target.execute("PRAGMA journal_mode=WAL")
        target.close()
        self.original = connections.settings["default"]
        connections.settings["default"] = {**self.original, "NAME": str(path)}

    def stop(self) -> None:
        if self.original is not None:
            connections.settings["default"] = self.original
            self.original = None

    def run(self, *calls: Callable[[], Any]) -> list[Any]:
        """Each call's result, or the exception it raised."""
        barrier = threading.Barrier(len(calls))
        results: list[Any] = [None] * len(calls)

        def worker(i: int, call: Callable[[], Any]) -> None:
            try:
                barrier.wait(timeout=60)  # generous: CI machines are shared and slow
                results[i] = call()
            except Exception as exc:
                results[i] = exc
            finally:
                connections["default"].close()

        threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads), "a racing call never finished"
        return results

    def read(self, query: Callable[[], Any]) -> Any:
        """Run a query where the racers wrote (a thread of its own, so that it sees the file copy on SQLite)."""
        return self.run(query)[0]


@pytest.fixture
def race(tmp_path: Path) -> Iterator[Race]:
    r = Race(tmp_path)
    yield r
    r.stop()


def outcome(results: list[Any]) -> list[str]:
    """ "ok" for a success, the error code for a refusal; anything else (a crash) fails the test."""
    for r in results:
        if isinstance(r, Exception) and not isinstance(r, KehouError):
            raise r
    return sorted("ok" if not isinstance(r, KehouError) else r.code for r in results)


def second_city_admin() -> Any:
    user = f.UserFactory()
    f.grant(user, Role.CITY_ADMIN)
    return user


def test_two_admins_deciding_the_same_panel_at_once_yield_one_decision(city: City, race: Race) -> None:
    # Given a panel whose members have all scored, and two city admins
    cat = setup_catalog(experts=4)
    sub = submit_course(city, cat["categories"]["science"])
    panel = draw_panel(sub, city.users["city_admin"], size=3)
    score_all(panel)
    admins = [city.users["city_admin"], second_city_admin()]
    race.start()
    # When both decide at the same moment
    results = race.run(*(lambda a=a: review.panel_decide(actor=a, panel=panel, now=NOW) for a in admins))
    # Then one decides and the other is told it is decided; one decision, one library entry, one audit row
    assert outcome(results) == ["already_decided", "ok"]
    counts = race.read(
        lambda: (
            Decision.objects.count(),
            CatalogItem.objects.count(),
            LibraryEntry.objects.count(),
            AuditEntry.objects.filter(action="panel.decided").count(),
            Panel.objects.get(pk=panel.pk).status,
            Submission.objects.get(pk=sub.pk).status,
        )
    )
    assert counts == (1, 1, 1, 1, "decided", "admitted")


def test_two_draws_for_the_same_submission_at_once_yield_one_panel(city: City, race: Race) -> None:
    cat = setup_catalog(experts=4)
    sub = submit_course(city, cat["categories"]["science"])
    admins = [city.users["city_admin"], second_city_admin()]
    race.start()

    def draw_as(admin: Any, seed: str) -> Callable[[], Any]:
        return lambda: review.panel_draw(actor=admin, submission=sub, now=NOW, size=3, seed=seed)

    results = race.run(draw_as(admins[0], "x"), draw_as(admins[1], "y"))
    # The loser sees the submission already in review, or (PostgreSQL, both past the row lock) the open panel
    assert outcome(results) in (["not_awaiting_review", "ok"], ["ok", "panel_exists"])
    assert race.read(lambda: (Panel.objects.count(), PanelMember.objects.count())) == (1, 3)


def test_a_member_scoring_twice_at_once_is_recorded_once(city: City, race: Race) -> None:
    cat = setup_catalog(experts=4)
    panel = draw_panel(submit_course(city, cat["categories"]["science"]), city.users["city_admin"], size=3)
    member = panel.members.select_related("expert__user").first()
    assert member is not None
    race.start()

    def score_with(value: int) -> Callable[[], Any]:
        return lambda: review.score_submit(
            actor=member.expert.user,
            member=member,
            item_scores=all_items(value),
            vetoed_items=[],
            comment="好",
            now=NOW,
        )

    results = race.run(score_with(7), score_with(9))
    assert outcome(results) == ["already_scored", "ok"]
    scored = race.read(lambda: (Score.objects.count(), AuditEntry.objects.filter(action="panel.scored").count()))
    assert scored == (1, 1)


def test_adopting_and_suspending_at_once_never_leaves_a_usable_copy_of_a_suspended_entry(
    city: City, race: Race
) -> None:
    # Given a city entry district A has not adopted yet
    libs = Libs(city)
    entry = libs.other_city
    race.start()
    # When district A adopts it while the city suspends it
    results = race.run(
        lambda: libraries.library_adopt(
            actor=city.users["district_admin"], district=city.district_a, city_entry=entry, now=NOW
        ),
        lambda: libraries.library_set_status(
            actor=city.users["city_admin"], entry=entry, status="suspended", reason="抽查", now=NOW
        ),
    )
    # Then either the adoption came first (and its copy is now unusable) or it was refused
    codes = outcome(results)
    assert codes in (["ok", "ok"], ["entry_not_active", "ok"])
    copies = LibraryEntry.objects.filter(item=entry.item, level="district")
    assert race.read(lambda: list(copies.filter(selectors.usable_q()).values_list("pk", flat=True))) == []
