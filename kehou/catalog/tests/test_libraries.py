"""The three-level libraries: a district adopts from the city library, a school picks from the one library it may
use, suspending or withdrawing upstream stops use downstream, and changes below the city are filed with it."""

from __future__ import annotations

import pytest

from kehou.catalog import selectors
from kehou.catalog.models import Filing, LibraryEntry, LibraryEntryEvent
from kehou.catalog.services import libraries
from kehou.catalog.tests.factories import NOW, Libs, nothing_changes
from kehou.conftest import City
from kehou.core.errors import Conflict, Forbidden, KehouError, NotFound
from kehou.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def libs(city: City) -> Libs:
    return Libs(city)


def refreshed(entry: LibraryEntry) -> LibraryEntry:
    return LibraryEntry.objects.get(pk=entry.pk)


# --- adoption by a district ------------------------------------------------------------------------------------------
def test_a_district_adopts_a_city_entry_and_files_it(libs: Libs, city: City) -> None:
    # Given the city entry adopted by district A (in the fixture)
    da = libs.da
    # Then district A's library holds it, pointing upstream at the city entry
    assert (da.level, da.region, da.school, da.upstream, da.source, da.status) == (
        "district",
        city.district_a,
        None,
        libs.city,
        "adopted",
        "active",
    )
    # And the adoption is filed with the city, and audited
    filing = Filing.objects.get(entry=da)
    assert (filing.change, filing.district, filing.school, filing.status, filing.filed_by) == (
        "added",
        city.district_a,
        None,
        "filed",
        city.users["district_admin"],
    )
    assert AuditEntry.objects.filter(action="library.adopted", object_id=str(da.pk), district_id=city.district_a.pk)


def test_a_district_adopts_only_from_the_city_library(libs: Libs, city: City) -> None:
    # District B cannot adopt district A's entry (nor a school's)
    for entry in (libs.da, libs.sa1):
        with nothing_changes(), pytest.raises(KehouError) as refused:
            libraries.library_adopt(actor=libs.b_admin, district=city.district_b, city_entry=entry, now=NOW)
        assert refused.value.code == "not_a_city_entry"


def test_a_district_adopts_only_active_city_entries(libs: Libs, city: City) -> None:
    # Given the other city entry is suspended (the caller still holds the entry it loaded before)
    entry = libs.other_city
    libs.set_status(entry, "suspended")
    # When district A adopts it
    with nothing_changes(), pytest.raises(Conflict) as refused:
        libraries.library_adopt(actor=city.users["district_admin"], district=city.district_a, city_entry=entry, now=NOW)
    # Then it is refused
    assert refused.value.code == "entry_not_active"


def test_adopting_twice_is_refused(libs: Libs, city: City) -> None:
    with nothing_changes(), pytest.raises(Conflict) as refused:
        libraries.library_adopt(
            actor=city.users["district_admin"], district=city.district_a, city_entry=libs.city, now=NOW
        )
    assert refused.value.code == "already_in_library"


def test_only_the_districts_bureau_adopts_into_its_library(libs: Libs, city: City) -> None:
    for actor in (libs.b_admin, city.users["school_admin"], city.users["expert"], city.users["teacher"]):
        with nothing_changes(), pytest.raises(NotFound):
            libraries.library_adopt(actor=actor, district=city.district_a, city_entry=libs.other_city, now=NOW)
    city_region = libs.city.region
    with nothing_changes(), pytest.raises(KehouError) as refused:
        libraries.library_adopt(
            actor=city.users["city_admin"], district=city_region, city_entry=libs.other_city, now=NOW
        )
    assert refused.value.code == "not_a_district"


# --- picking by a school --------------------------------------------------------------------------------------------
def test_a_district_school_picks_from_its_districts_library_and_files_it(libs: Libs, city: City) -> None:
    sa1 = libs.sa1
    assert (sa1.level, sa1.school, sa1.region, sa1.upstream, sa1.source) == ("school", city.a1, None, libs.da, "picked")
    filing = Filing.objects.get(entry=sa1)
    assert (filing.change, filing.district, filing.school) == ("added", city.district_a, city.a1)
    assert list(selectors.usable_entries(school=city.a1)) == [sa1]


def test_a_city_managed_school_picks_from_the_city_library(libs: Libs, city: City) -> None:
    sa2 = libs.sa2
    assert (sa2.level, sa2.school, sa2.upstream) == ("school", city.a2, libs.city)
    filing = Filing.objects.get(entry=sa2)
    assert (filing.district, filing.school) == (city.district_a, city.a2)
    assert list(selectors.usable_entries(school=city.a2)) == [sa2]


def test_a_district_school_cannot_pick_from_another_districts_library(libs: Libs, city: City) -> None:
    # Given district B's adoption of the course (A1 holds district A's copy)
    db_entry = libs.db
    # When A1 picks district B's entry
    with nothing_changes(), pytest.raises(KehouError) as refused:
        libraries.library_pick(actor=city.users["school_admin"], school=city.a1, entry=db_entry, now=NOW)
    # Then it is refused, and A1's library is unchanged
    assert refused.value.code == "entry_not_available" and refused.value.fields == {"entry": db_entry.pk}
    assert list(LibraryEntry.objects.filter(school=city.a1)) == [libs.sa1]


@pytest.mark.parametrize(
    ("school", "entry"),
    [
        ("a1", "city"),  # a district school does not pick from the city library directly
        ("a1", "sa2"),  # nor from another school's library
        ("a2", "da"),  # a city-managed school does not pick from a district library
        ("a2", "db"),
    ],
)
def test_a_school_picks_only_from_the_one_library_it_may_use(libs: Libs, city: City, school: str, entry: str) -> None:
    actor = city.users["school_admin"] if school == "a1" else libs.a2_admin
    with nothing_changes(), pytest.raises(KehouError) as refused:
        libraries.library_pick(actor=actor, school=getattr(city, school), entry=getattr(libs, entry), now=NOW)
    assert refused.value.code == "entry_not_available"


def test_a_school_picks_only_usable_entries(libs: Libs, city: City) -> None:
    # Given the other city entry, adopted by district A, then suspended at the city
    da_other = libraries.library_adopt(
        actor=city.users["district_admin"], district=city.district_a, city_entry=libs.other_city, now=NOW
    )
    libs.set_status(libs.other_city, "suspended")
    # Then A1 cannot pick district A's (still active) copy, nor A2 the city entry
    for actor, school, entry in (
        (city.users["school_admin"], city.a1, da_other),
        (libs.a2_admin, city.a2, libs.other_city),
    ):
        with nothing_changes(), pytest.raises(Conflict) as refused:
            libraries.library_pick(actor=actor, school=school, entry=entry, now=NOW)
        assert refused.value.code == "entry_not_active"


def test_picking_twice_is_refused(libs: Libs, city: City) -> None:
    with nothing_changes(), pytest.raises(Conflict) as refused:
        libraries.library_pick(actor=city.users["school_admin"], school=city.a1, entry=libs.da, now=NOW)
    assert refused.value.code == "already_in_library"


@pytest.mark.parametrize("who", ["a2_admin", "district_admin", "city_admin", "teacher", "operator_staff"])
def test_only_the_schools_admin_picks_into_its_library(libs: Libs, city: City, who: str) -> None:
    actor = libs.a2_admin if who == "a2_admin" else city.users[who]
    da_other = libraries.library_adopt(
        actor=city.users["district_admin"], district=city.district_a, city_entry=libs.other_city, now=NOW
    )
    with nothing_changes(), pytest.raises(NotFound):
        libraries.library_pick(actor=actor, school=city.a1, entry=da_other, now=NOW)


# --- enforcement: status upstream stops use downstream ----------------------------------------------------------------
def test_suspending_upstream_stops_use_downstream_and_reactivating_restores_it(libs: Libs) -> None:
    assert libs.usable() == {"a1": True, "a2": True}
    # When the city suspends its entry: both schools lose it (A1 through district A, A2 directly)
    affected = libs.set_status(libs.city, "suspended")
    assert affected == 4  # district A's and B's copies, A1's and A2's picks
    assert libs.usable() == {"a1": False, "a2": False}
    assert not selectors.entry_is_usable(libs.da) and refreshed(libs.da).status == "active"
    # When the city reactivates it: both may use it again
    libs.set_status(libs.city, "active")
    assert libs.usable() == {"a1": True, "a2": True}
    # When district A suspends its copy: only A1 loses it
    assert libs.set_status(libs.da, "suspended") == 1
    assert libs.usable() == {"a1": False, "a2": True}
    libs.set_status(libs.da, "active")
    # When a school suspends its own pick, only that pick stops
    libs.set_status(libs.sa2, "suspended")
    assert libs.usable() == {"a1": True, "a2": False}


def test_withdrawing_is_final(libs: Libs) -> None:
    libs.set_status(libs.city, "withdrawn")
    assert libs.usable() == {"a1": False, "a2": False}
    for status in ("active", "suspended"):
        with nothing_changes(), pytest.raises(Conflict) as refused:
            libs.set_status(libs.city, status)
        assert refused.value.code == "entry_withdrawn"
    assert libs.usable() == {"a1": False, "a2": False}


def test_status_changes_below_the_city_are_filed_and_every_change_is_in_the_history(libs: Libs, city: City) -> None:
    before = Filing.objects.count()
    libs.set_status(libs.city, "suspended")  # the city library: no filing
    assert Filing.objects.count() == before
    libs.set_status(libs.da, "suspended")
    libs.set_status(libs.da, "active")
    libs.set_status(libs.sa1, "withdrawn")
    filed = list(Filing.objects.order_by("pk").values_list("entry", "change", "district", "school"))
    assert filed[-3:] == [
        (libs.da.pk, "suspended", city.district_a.pk, None),
        (libs.da.pk, "reactivated", city.district_a.pk, None),
        (libs.sa1.pk, "withdrawn", city.district_a.pk, city.a1.pk),
    ]
    assert list(LibraryEntryEvent.objects.filter(entry=libs.da).values_list("from_status", "to_status", "reason")) == [
        ("active", "suspended", "抽查"),
        ("suspended", "active", "抽查"),
    ]
    logged = AuditEntry.objects.filter(action="library.status_changed", object_id=str(libs.city.pk)).get()
    assert logged.before == {"status": "active"} and logged.after["downstream_affected"] == 4


def test_a_status_change_needs_a_real_change_a_known_status_and_a_reason(libs: Libs, city: City) -> None:
    admin = city.users["city_admin"]
    for status, reason, code in (
        ("active", "抽查", "status_unchanged"),
        ("closed", "抽查", "invalid_status"),
        ("suspended", "  ", "reason_required"),
    ):
        with nothing_changes(), pytest.raises(KehouError) as refused:
            libraries.library_set_status(actor=admin, entry=libs.city, status=status, reason=reason, now=NOW)
        assert refused.value.code == code


def test_only_each_librarys_keeper_changes_its_status(libs: Libs, city: City) -> None:
    cases = [
        (libs.city, city.users["district_admin"], Forbidden),
        (libs.city, city.users["school_admin"], Forbidden),
        (libs.da, libs.b_admin, NotFound),
        (libs.da, city.users["school_admin"], NotFound),
        (libs.sa1, libs.a2_admin, NotFound),
        (libs.sa1, city.users["expert"], NotFound),
    ]
    for entry, actor, error in cases:
        with nothing_changes(), pytest.raises(error):
            libraries.library_set_status(actor=actor, entry=entry, status="suspended", reason="抽查", now=NOW)


# --- filings --------------------------------------------------------------------------------------------------------
def test_the_city_acknowledges_a_filing_once(libs: Libs, city: City) -> None:
    filing = Filing.objects.get(entry=libs.sa1)
    done = libraries.filing_acknowledge(actor=city.users["city_admin"], filing=filing, now=NOW)
    assert (done.status, done.acknowledged_at, done.acknowledged_by) == ("acknowledged", NOW, city.users["city_admin"])
    assert AuditEntry.objects.filter(action="filing.acknowledged", object_id=str(filing.pk)).count() == 1
    with nothing_changes(), pytest.raises(Conflict) as refused:
        libraries.filing_acknowledge(actor=city.users["city_admin"], filing=filing, now=NOW)
    assert refused.value.code == "already_acknowledged"


@pytest.mark.parametrize("who", ["district_admin", "school_admin", "expert", "nobody"])
def test_only_the_city_acknowledges_filings(libs: Libs, city: City, who: str) -> None:
    filing = Filing.objects.get(entry=libs.da)
    with nothing_changes(), pytest.raises(NotFound):
        libraries.filing_acknowledge(actor=city.users[who], filing=filing, now=NOW)
