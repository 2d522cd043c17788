"""The roster import write: all rows or none, in one transaction, with set-based reads and bulk writes.

``roster_import`` reads the upload (size-limited, checked by content), checks every row (``roster.check_rows``),
reads what already exists in a few set-based queries, and either raises :class:`RosterInvalid` (nothing written,
not even the audit log) or writes everything in one transaction with one ``roster.imported`` audit entry.

Idempotent: a pupil of this school whose data is identical and whose guardians are already linked is
"unchanged"; different data (or a guardian to add, or a changed relation) is "updated". Guardians are only ever
added, never unlinked: a guardian linked earlier but missing from the file stays linked and is reported as a
warning (``guardian_not_in_file``), since removing one would silently cut a parent off from their child.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehou.core import audit, permissions, uploads
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, KehouError

from . import roster
from .models import Guardian, Pupil, Role, RoleAssignment, User
from .roster import Problem, RosterFileError, RosterReport, RosterRow

log = logging.getLogger(__name__)

CHUNK = 2000  # values per IN (...) lookup: well under SQLite's and PostgreSQL's parameter limits
PUPIL_FIELDS = ("name", "gender", "birth_date", "grade", "class_name")
T = TypeVar("T")


class RosterInvalid(KehouError):
    """At least one row has an error: nothing was imported. ``report`` lists every problem."""

    code = ErrorCode.ROSTER_INVALID
    status = 400

    def __init__(self, report: RosterReport) -> None:
        super().__init__(
            _("The roster has %(count)d error(s); nothing was imported.") % {"count": len(report.errors)},
            fields={
                "rows": [p.as_dict() for p in roster.sorted_problems(report.errors)],
                "warnings": [p.as_dict() for p in roster.sorted_problems(report.warnings)],
            },
        )
        self.report = report


def roster_import(*, actor: Any, school: Any, file: Any, now: datetime) -> RosterReport:
    """Import pupils and guardians of ``school`` from an uploaded .xlsx (``file``: a Django UploadedFile or any
    binary file object with ``name``). Only an administrator of that very school may import.

    Raises NotFound (not that school's admin), RosterFileError (file-level: not_xlsx, file_too_large,
    too_many_rows, bad_header, empty_file), RosterInvalid (row errors), Conflict (a concurrent change).
    """
    permissions.require_in_school(actor, school_id=school.pk)
    filename = os.path.basename(str(getattr(file, "name", "") or "").replace("\\", "/"))[:200]
    report = RosterReport(filename=filename)
    try:
        data = _read_limited(file)
        keys, raw_rows = roster.read_sheet(
            data,
            max_rows=settings.KEHOU_ROSTER_MAX_ROWS,
            max_unpacked_bytes=16 * settings.KEHOU_ROSTER_MAX_BYTES,
        )
        checked = roster.check_rows(
            keys, raw_rows, grades=school.grade_range, today=timezone.localdate(now, timezone.get_default_timezone())
        )
        report.rows = len(checked.rows)
        report.errors.extend(checked.errors)
        report.warnings.extend(checked.warnings)
        with transaction.atomic():
            _write(actor=actor, school=school, rows=checked.rows, report=report, now=now)
    except (RosterFileError, RosterInvalid) as exc:
        log.info(
            "roster import rejected: school=%s actor=%s code=%s errors=%d",
            school.pk,
            getattr(actor, "pk", None),
            exc.code,
            len(report.errors),
        )
        raise
    except IntegrityError as exc:
        log.warning("roster import conflict: school=%s: %s", school.pk, exc)
        raise Conflict(
            _("Someone else changed the same pupils or accounts at the same time. Upload the file again."),
            code=ErrorCode.ROSTER_CONFLICT,
        ) from exc
    report.imported = True
    return report


def _read_limited(file: Any) -> bytes:
    return uploads.read_limited(file, limit=settings.KEHOU_ROSTER_MAX_BYTES, error_class=RosterFileError)


def _write(*, actor: Any, school: Any, rows: list[RosterRow], report: RosterReport, now: datetime) -> None:
    """Inside the transaction: read what exists, add database-dependent problems, then write or raise."""
    from kehou.orgs.models import School

    # Imports into one school are serialised (a no-op lock on SQLite, whose IMMEDIATE transactions already are).
    list(School.objects.select_for_update().filter(pk=school.pk).values_list("pk", flat=True))

    numbers = [r.student_number for r in rows if r.student_number]
    phones = sorted({g.phone for r in rows for g in r.guardians})
    existing: dict[str, dict[str, Any]] = {}
    numbers_elsewhere: set[str] = set()
    for chunk in _chunks(numbers):
        for p in Pupil.objects.filter(student_number__in=chunk).values(
            "pk", "school_id", "student_number", *PUPIL_FIELDS
        ):
            if p["school_id"] == school.pk:
                existing[p["student_number"]] = p
            else:
                numbers_elsewhere.add(p["student_number"])
    accounts: dict[str, tuple[int, str]] = {}  # phone → (account id, full name)
    for chunk in _chunks(phones):
        for user_id, phone, full_name in User.objects.filter(phone__in=chunk).values_list("pk", "phone", "full_name"):
            accounts[str(phone)] = (user_id, full_name)
    new_phones = [p for p in phones if p not in accounts]
    usernames_taken: set[str] = set()
    for chunk in _chunks(new_phones):
        usernames_taken.update(User.objects.filter(username__in=chunk).values_list("username", flat=True))

    report.errors.extend(
        roster.check_against_database(
            rows,
            numbers_elsewhere=numbers_elsewhere,
            account_names={phone: name for phone, (_pk, name) in accounts.items()},
            usernames_taken=usernames_taken,
        )
    )
    if report.errors:
        raise RosterInvalid(report)

    # --- pupils ---------------------------------------------------------------------------------
    to_create: list[Pupil] = []
    to_update: list[Pupil] = []
    pupil_ids: dict[str, int] = {}
    changed: set[str] = set()
    for r in rows:
        fields = r.pupil_fields()
        current = existing.get(r.student_number)
        if current is None:
            pupil = Pupil(student_number=r.student_number, school_id=school.pk, created_at=now, **fields)
            pupil.clean_fields(exclude=["school"])
            to_create.append(pupil)
        else:
            pupil_ids[r.student_number] = current["pk"]
            if any(current[name] != value for name, value in fields.items()):
                pupil = Pupil(pk=current["pk"], student_number=r.student_number, school_id=school.pk, **fields)
                pupil.clean_fields(exclude=["school", "created_at"])  # only PUPIL_FIELDS are updated
                to_update.append(pupil)
                changed.add(r.student_number)
    Pupil.objects.bulk_create(to_create, batch_size=500)
    if to_update:
        Pupil.objects.bulk_update(to_update, list(PUPIL_FIELDS), batch_size=500)
    pupil_ids.update(
        _ids_by(Pupil.objects.filter(school_id=school.pk), "student_number", [p.student_number for p in to_create])
    )

    # --- parent accounts ------------------------------------------------------------------------
    names = {g.phone: g.name for r in rows for g in r.guardians}
    new_users = []
    for phone in new_phones:
        user = User(
            username=phone,
            phone=phone,
            full_name=names[phone],
            password=make_password(None),  # unusable: parents log in with an SMS code
            date_joined=now,
        )
        user.clean_fields(exclude=["password", "last_login"])
        new_users.append(user)
    User.objects.bulk_create(new_users, batch_size=500)
    user_ids = {phone: pk for phone, (pk, _name) in accounts.items()}
    user_ids.update(_ids_by(User.objects.all(), "phone", new_phones))
    report.accounts_created = len(new_users)

    parents: set[int] = set()
    for id_chunk in _chunks(list(user_ids.values())):
        parents.update(
            RoleAssignment.objects.filter(role=Role.PARENT, user_id__in=id_chunk).values_list("user_id", flat=True)
        )
    RoleAssignment.objects.bulk_create(
        [
            RoleAssignment(user_id=uid, role=Role.PARENT, granted_at=now)
            for uid in sorted(set(user_ids.values()) - parents)
        ],
        batch_size=500,
    )

    # --- guardians ------------------------------------------------------------------------------
    linked: dict[tuple[int, int], tuple[int, str]] = {}
    existing_ids = [p["pk"] for p in existing.values()]
    for id_chunk in _chunks(existing_ids):
        for link in Guardian.objects.filter(pupil_id__in=id_chunk).values("pk", "pupil_id", "user_id", "relation"):
            linked[(link["pupil_id"], link["user_id"])] = (link["pk"], link["relation"])
    guardians_new: list[Guardian] = []
    guardians_changed: list[Guardian] = []
    wanted: set[tuple[int, int]] = set()
    for r in rows:
        pid = pupil_ids[r.student_number]
        for g in r.guardians:
            key = (pid, user_ids[g.phone])
            wanted.add(key)
            current_link = linked.get(key)
            if current_link is None:
                guardians_new.append(Guardian(pupil_id=key[0], user_id=key[1], relation=g.relation))
                if r.student_number in existing:
                    changed.add(r.student_number)
            elif current_link[1] != g.relation:
                guardians_changed.append(
                    Guardian(pk=current_link[0], pupil_id=key[0], user_id=key[1], relation=g.relation)
                )
                changed.add(r.student_number)
    Guardian.objects.bulk_create(guardians_new, batch_size=500)
    if guardians_changed:
        Guardian.objects.bulk_update(guardians_changed, ["relation"], batch_size=500)
    report.guardians_linked = len(guardians_new)
    row_of_pupil = {pupil_ids[r.student_number]: r.row for r in rows}
    for pupil_id, _user_id in sorted(set(linked) - wanted):
        report.warnings.append(
            Problem(
                row_of_pupil[pupil_id],
                "guardian1_phone",
                "guardian_not_in_file",
                _("This pupil has another guardian who is not in the file; that guardian stays linked."),
            )
        )

    # --- counts and the audit entry ---------------------------------------------------------------
    report.created = len(to_create)
    report.updated = len(changed)
    report.unchanged = len(rows) - report.created - report.updated
    audit.record(
        actor=actor,
        action=AuditAction.ROSTER_IMPORTED,
        obj=school,
        now=now,
        school_id=school.pk,
        district_id=school.district_id,
        after={
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "rows": report.rows,
            "filename": report.filename,
            "accounts_created": report.accounts_created,
            "guardians_linked": report.guardians_linked,
        },
    )


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _ids_by(queryset: Any, field: str, values: Iterable[str]) -> dict[str, int]:
    """Primary keys of rows just written, by a unique field, in set-based chunks."""
    result: dict[str, int] = {}
    for chunk in _chunks(list(values)):
        result.update(queryset.filter(**{f"{field}__in": chunk}).values_list(field, "pk"))
    return result
