"""The rollups behind the dashboards, recomputed from the raw rows one school and day at a time.

``rollup_days(school_ids, dates)`` computes each class's figures for those days with one grouped query per school
and day range, then writes :class:`ClassDay` and :class:`SchoolDay` rows as upserts of whole rows: run twice, or on
two workers at once, it writes the same numbers (idempotent). ``rollup_changed`` is what the task worker runs every
minute: it finds the sessions whose roll call or check-in changed since its mark, rolls up their schools' days, and
moves the mark. ``rollup_terms`` recomputes each school's participation in the current term.

Definitions (docs/supervision.md):

* a session is *planned* when its class is active; *delivered* when its teacher checked in (not missed) or its roll
  call has a mark;
* pupil-sessions *expected* and *attended* are the roll calls' expected and present (leave is not attended);
* a roll call is *taken* when no pupil is left unmarked, and *on time* when that was done by the session's end plus
  ``ON_TIME_AFTER_MINUTES``;
* a check-in is *on time* when its timing says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from kehou.attendance.models import CheckIn, RollCall
from kehou.enrolment.models import ClassSession, CourseClass, Enrolment
from kehou.orgs.models import School, Term
from kehou.people.models import Pupil, TeacherProfile

from ..common import FIELDS, MARK, current_term
from ..models import ClassDay, RollupMark, SchoolDay, SchoolTerm

BATCH_DAYS = 400  # (school, day) pairs rolled up per run of the task at most


def _grace() -> timedelta:
    return timedelta(minutes=int(settings.KEHOU_ATTENDANCE["ON_TIME_AFTER_MINUTES"]))


def _class_figures(school_id: int, days: set[date]) -> dict[tuple[int, date], dict[str, int]]:
    """Each class's figures for these days at one school, from its sessions, roll calls and check-ins."""
    tz = timezone.get_current_timezone()
    figures: dict[tuple[int, date], dict[str, int]] = {}
    sessions = (
        ClassSession.objects.filter(
            course_class__school_id=school_id, course_class__status=CourseClass.Status.ACTIVE, date__in=days
        )
        .select_related("roll_call", "check_in")
        .only(
            "pk",
            "course_class_id",
            "date",
            "ends_at",
            "roll_call__expected",
            "roll_call__present",
            "roll_call__absent",
            "roll_call__leave",
            "roll_call__unmarked",
            "roll_call__updated_at",
            "check_in__timing",
        )
    )
    for s in sessions:
        row = figures.setdefault((s.course_class_id, s.date), dict.fromkeys(FIELDS, 0))
        row["sessions_planned"] += 1
        roll: RollCall | None = getattr(s, "roll_call", None)
        check: CheckIn | None = getattr(s, "check_in", None)
        marked = roll is not None and (roll.present + roll.absent + roll.leave) > 0
        checked = check is not None and check.timing != CheckIn.Timing.MISSED
        if marked or checked:
            row["sessions_delivered"] += 1
        if roll is not None:
            row["pupil_sessions_expected"] += roll.expected
            row["pupil_sessions_attended"] += roll.present
            if roll.expected and roll.unmarked == 0:
                row["roll_calls_taken"] += 1
                end = datetime.combine(s.date, s.ends_at, tzinfo=tz)
                if roll.updated_at <= end + _grace():
                    row["roll_calls_on_time"] += 1
        if checked:
            row["check_ins"] += 1
            if check is not None and check.timing == CheckIn.Timing.ON_TIME:
                row["check_ins_on_time"] += 1
    return figures


def rollup_days(pairs: Iterable[tuple[int, date]], *, now: datetime) -> int:
    """Recompute the class and school rows of these (school, day) pairs. Returns the school-days written."""
    by_school: dict[int, set[date]] = defaultdict(set)
    for school_id, day in pairs:
        by_school[school_id].add(day)
    districts = dict(School.objects.filter(pk__in=by_school).values_list("pk", "district_id"))
    written = 0
    for school_id, days in by_school.items():
        if school_id not in districts:
            continue
        figures = _class_figures(school_id, days)
        with transaction.atomic():
            # whole rows replaced: a class whose sessions are gone (cancelled) loses its row
            ClassDay.objects.filter(school_id=school_id, date__in=days).exclude(
                Q(*[Q(course_class_id=c, date=d) for c, d in figures] or [Q(pk__in=[])], _connector=Q.OR)
            ).delete()
            ClassDay.objects.bulk_create(
                [
                    ClassDay(course_class_id=c, school_id=school_id, date=d, computed_at=now, **values)
                    for (c, d), values in figures.items()
                ],
                update_conflicts=True,
                unique_fields=["course_class", "date"],
                update_fields=[*FIELDS, "computed_at"],
            )
            totals: dict[date, dict[str, int]] = {d: dict.fromkeys(FIELDS, 0) for d in days}
            for (_c, d), values in figures.items():
                for key, value in values.items():
                    totals[d][key] += value
            SchoolDay.objects.bulk_create(
                [
                    SchoolDay(school_id=school_id, district_id=districts[school_id], date=d, computed_at=now, **v)
                    for d, v in totals.items()
                ],
                update_conflicts=True,
                unique_fields=["school", "date"],
                update_fields=[*FIELDS, "computed_at"],
            )
        written += len(days)
    return written


def rollup_range(first: date, last: date, *, now: datetime, school_ids: Iterable[int] | None = None) -> int:
    """Every school's (or these schools') days from ``first`` to ``last``: the catch-up after a change of rules, and
    the demo's."""
    schools = list(school_ids) if school_ids is not None else list(School.objects.values_list("pk", flat=True))
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return rollup_days(((s, d) for s in schools for d in days), now=now)


def rollup_changed(*, now: datetime) -> dict[str, int]:
    """The schools' days whose roll calls or check-ins changed since the mark, rolled up; the mark moved to
    ``now``. One run at a time holds the mark (others skip), so several workers never do the same work twice."""
    with transaction.atomic():
        mark = RollupMark.objects.select_for_update(skip_locked=True).filter(name=MARK).first()
        if mark is None:
            if RollupMark.objects.filter(name=MARK).exists():
                return {"school_days_rolled_up": 0}  # another worker holds it
            mark = RollupMark.objects.create(name=MARK, upto=now - timedelta(days=1), ran_at=now)
        since = mark.upto
        changed = set(
            ClassSession.objects.filter(
                Q(roll_call__updated_at__gt=since, roll_call__updated_at__lte=now)
                | Q(check_in__at__gt=since, check_in__at__lte=now)
                | Q(date=timezone.localdate(now))  # today's planned sessions, whatever happened to them
            )
            .values_list("course_class__school_id", "date")
            .distinct()[: BATCH_DAYS + 1]
        )
        upto = now
        if len(changed) > BATCH_DAYS:  # a long backlog: take the oldest part, leave the mark where it ended
            changed = set(sorted(changed, key=lambda p: p[1])[:BATCH_DAYS])
            upto = since + (now - since) / 2
        written = rollup_days(changed, now=now)
        RollupMark.objects.filter(pk=mark.pk).update(upto=upto, ran_at=now)
    return {"school_days_rolled_up": written}


def rollup_terms(*, now: datetime, term: Term | None = None) -> int:
    """Each school's participation in the term: pupils, pupils with a confirmed place, teachers and classes."""
    term = term or current_term(timezone.localdate(now))
    if term is None:
        return 0
    pupils = dict(Pupil.objects.values("school_id").annotate(n=Count("pk")).values_list("school_id", "n").order_by())
    taking = dict(
        Enrolment.objects.filter(status=Enrolment.Status.CONFIRMED, course_class__term=term)
        .values("course_class__school_id")
        .annotate(n=Count("pupil_id", distinct=True))
        .values_list("course_class__school_id", "n")
        .order_by()
    )
    classes: dict[int, dict[str, Any]] = defaultdict(lambda: {"n": 0, "outside": 0, "staff_t": set(), "out_t": set()})
    rows = CourseClass.objects.filter(term=term, status=CourseClass.Status.ACTIVE).values_list(
        "school_id", "teacher_id", "teacher__kind"
    )
    for school_id, teacher_id, kind in rows:
        c = classes[school_id]
        c["n"] += 1
        if kind == TeacherProfile.Kind.OUTSIDE:
            c["outside"] += 1
            c["out_t"].add(teacher_id)
        elif teacher_id is not None:
            c["staff_t"].add(teacher_id)
    schools = list(School.objects.values_list("pk", "district_id"))
    SchoolTerm.objects.bulk_create(
        [
            SchoolTerm(
                school_id=pk,
                district_id=district,
                term=term,
                pupils=pupils.get(pk, 0),
                pupils_taking_part=taking.get(pk, 0),
                teachers_staff=len(classes[pk]["staff_t"]) if pk in classes else 0,
                teachers_outside=len(classes[pk]["out_t"]) if pk in classes else 0,
                classes=classes[pk]["n"] if pk in classes else 0,
                classes_outside=classes[pk]["outside"] if pk in classes else 0,
                computed_at=now,
            )
            for pk, district in schools
        ],
        update_conflicts=True,
        unique_fields=["school", "term"],
        update_fields=[
            "pupils",
            "pupils_taking_part",
            "teachers_staff",
            "teachers_outside",
            "classes",
            "classes_outside",
            "computed_at",
        ],
    )
    return len(schools)
