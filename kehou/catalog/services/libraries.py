"""The three-level libraries: a district adopts from the city library, a school picks from the library it may
use, an entry is suspended, withdrawn or reactivated; changes to district and school libraries are filed (备案)
with the city bureau, which acknowledges them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kehou.core import audit, permissions
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, KehouError
from kehou.orgs.models import Region, School

from ..models import Filing, LibraryEntry, LibraryEntryEvent, Submission
from .common import city_region, require_region_admin
from .submissions import check_fee

_CHANGE_FOR_STATUS: dict[str, str] = {
    LibraryEntry.Status.SUSPENDED: Filing.Change.SUSPENDED,
    LibraryEntry.Status.WITHDRAWN: Filing.Change.WITHDRAWN,
    LibraryEntry.Status.ACTIVE: Filing.Change.REACTIVATED,
}


def _file(*, entry: LibraryEntry, change: str, actor: Any, now: datetime) -> Filing:
    district = entry.school.district if entry.school is not None else entry.region
    assert district is not None
    return Filing.objects.create(
        entry=entry, change=change, district=district, school=entry.school, filed_at=now, filed_by=actor
    )


def _require_active(entry: LibraryEntry) -> None:
    """The entry and everything upstream of it are active, as the database has them now (not as the caller's copy
    has them): each row of the chain is read afresh and locked, so that a concurrent status change waits."""
    pk: int | None = entry.pk
    while pk is not None:
        current = LibraryEntry.objects.select_for_update().only("status", "upstream_id").get(pk=pk)
        if current.status != LibraryEntry.Status.ACTIVE:
            raise Conflict(
                _("This entry is not active."), code=ErrorCode.ENTRY_NOT_ACTIVE, fields={"status": current.status}
            )
        pk = current.upstream_id


def _add_downstream(
    *, actor: Any, upstream: LibraryEntry, now: datetime, action: AuditAction, already: str, **binding: Any
) -> LibraryEntry:
    """Copy an active entry one level down (a district adopts, a school picks), file it with the city, audit it."""
    with transaction.atomic():
        _require_active(upstream)
        try:
            with transaction.atomic():
                entry = LibraryEntry.objects.create(
                    item=upstream.item, upstream=upstream, added_at=now, status_changed_at=now, **binding
                )
        except IntegrityError as exc:
            raise Conflict(already, code=ErrorCode.ALREADY_IN_LIBRARY) from exc
        filing = _file(entry=entry, change=Filing.Change.ADDED, actor=actor, now=now)
        audit.record(
            actor=actor,
            action=action,
            obj=entry,
            now=now,
            school_id=entry.school_id,
            district_id=filing.district_id,
            after={"item": entry.item_id, "upstream": upstream.pk, "filing": filing.pk},
        )
    return entry


def library_adopt(*, actor: Any, district: Region, city_entry: LibraryEntry, now: datetime) -> LibraryEntry:
    """A district bureau adopts an active city-library entry into its district library (filed with the city).

    A district with its own fee standard adopts only courses whose fee lies within it."""
    if district.is_city:
        raise KehouError(_("Only a district adopts from the city library."), code=ErrorCode.NOT_A_DISTRICT)
    require_region_admin(actor, district)
    if city_entry.level != LibraryEntry.Level.CITY:
        raise KehouError(_("A district adopts from the city library only."), code=ErrorCode.NOT_A_CITY_ENTRY)
    item = city_entry.item
    if item.kind == Submission.Kind.COURSE and item.version.fee_per_hour_fen is not None:
        check_fee(district, item.category, item.version.fee_per_hour_fen)
    return _add_downstream(
        actor=actor,
        upstream=city_entry,
        now=now,
        action=AuditAction.LIBRARY_ADOPTED,
        already=_("The district library already has this entry."),
        level=LibraryEntry.Level.DISTRICT,
        region=district,
        source=LibraryEntry.Source.ADOPTED,
    )


def available_upstream_for(school: School) -> tuple[str, int]:
    """The library a school may pick from: the city's (局属 and other city-managed schools) or its district's."""
    if school.uses_city_library:
        return LibraryEntry.Level.CITY, city_region().pk
    return LibraryEntry.Level.DISTRICT, school.district_id


def library_pick(*, actor: Any, school: School, entry: LibraryEntry, now: datetime) -> LibraryEntry:
    """A school picks an active entry of the library it may use into its school library (filed with the city)."""
    permissions.require_in_school(actor, school_id=school.pk)
    level, region_id = available_upstream_for(school)
    if entry.level != level or entry.region_id != region_id:
        raise KehouError(
            _("Your school may only pick from the city library.")
            if level == LibraryEntry.Level.CITY
            else _("Your school may only pick from its own district's library."),
            code=ErrorCode.ENTRY_NOT_AVAILABLE,
            fields={"entry": entry.pk},
        )
    return _add_downstream(
        actor=actor,
        upstream=entry,
        now=now,
        action=AuditAction.LIBRARY_PICKED,
        already=_("The school library already has this entry."),
        level=LibraryEntry.Level.SCHOOL,
        school=school,
        source=LibraryEntry.Source.PICKED,
    )


def _require_entry_admin(actor: Any, entry: LibraryEntry) -> None:
    if entry.level == LibraryEntry.Level.SCHOOL:
        permissions.require_in_school(actor, school_id=entry.school_id)  # type: ignore[arg-type]
    else:
        require_region_admin(actor, entry.region)  # type: ignore[arg-type]


def library_set_status(*, actor: Any, entry: LibraryEntry, status: str, reason: str, now: datetime) -> int:
    """Suspend, withdraw or reactivate an entry. Everything downstream stops being usable with it (usability is
    derived from the whole chain, see selectors.usable_entries). Returns how many downstream entries it affects.
    A withdrawn entry cannot be reactivated."""
    if status not in LibraryEntry.Status.values:
        raise KehouError(_("Unknown status."), code=ErrorCode.INVALID_STATUS, fields={"status": status})
    if not reason.strip():
        raise KehouError(_("Give a reason."), code=ErrorCode.REASON_REQUIRED)
    _require_entry_admin(actor, entry)
    with transaction.atomic():
        current = LibraryEntry.objects.select_for_update().get(pk=entry.pk)
        if current.status == status:
            raise Conflict(_("The entry already has this status."), code=ErrorCode.STATUS_UNCHANGED)
        if current.status == LibraryEntry.Status.WITHDRAWN:
            raise Conflict(_("A withdrawn entry cannot change again."), code=ErrorCode.ENTRY_WITHDRAWN)
        LibraryEntry.objects.filter(pk=current.pk).update(status=status, status_changed_at=now)
        LibraryEntryEvent.objects.create(
            entry=current,
            at=now,
            actor=actor,
            from_status=current.status,
            to_status=status,
            reason=reason.strip()[:200],
        )
        if current.level != LibraryEntry.Level.CITY:
            _file(entry=current, change=_CHANGE_FOR_STATUS[status], actor=actor, now=now)
        affected = downstream_count(current)
        audit.record(
            actor=actor,
            action=AuditAction.LIBRARY_STATUS_CHANGED,
            obj=current,
            now=now,
            school_id=current.school_id,
            district_id=_district_of(current),
            before={"status": current.status},
            after={"status": status, "reason": reason.strip()[:200], "downstream_affected": affected},
        )
    return affected


def _district_of(entry: LibraryEntry) -> int | None:
    """Where an entry's audit rows belong: its district, or its school's district (none for the city library)."""
    if entry.school is not None:
        return entry.school.district_id
    return entry.region_id if entry.level == LibraryEntry.Level.DISTRICT else None


def downstream_count(entry: LibraryEntry) -> int:
    direct = list(LibraryEntry.objects.filter(upstream=entry).values_list("pk", flat=True))
    return len(direct) + LibraryEntry.objects.filter(upstream_id__in=direct).count()


def filing_acknowledge(*, actor: Any, filing: Filing, now: datetime) -> Filing:
    """The city bureau acknowledges a filing."""
    permissions.require_everything(actor)
    with transaction.atomic():
        if not Filing.objects.filter(pk=filing.pk, status=Filing.Status.FILED).update(
            status=Filing.Status.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=actor
        ):
            raise Conflict(_("Already acknowledged."), code=ErrorCode.ALREADY_ACKNOWLEDGED)
        audit.record(
            actor=actor,
            action=AuditAction.FILING_ACKNOWLEDGED,
            obj=filing,
            now=now,
            school_id=filing.school_id,
            district_id=filing.district_id,
        )
    filing.refresh_from_db()
    return filing
