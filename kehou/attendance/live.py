"""The live view of schools (the operator's 运营端, a school's, a bureau's): a day's sessions with each teacher's
check-in and the roll call's counts, the day's figures, and the open follow-ups. Read with a few flat queries
(``values()``, no model instances), so that an operator with 200 schools gets the page in well under a second
(``bench/live.py`` measures it)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from kehou.core.scope import Scope
from kehou.enrolment.models import ClassSession
from kehou.orgs.models import School

from .models import CheckIn, FollowUp
from .selectors import state_code
from .services.common import bounds_of, rules

# What a watcher reads in a session's check-in column.
CHECK_IN_LABELS = {
    "on_time": gettext_lazy("On time"),
    "late": gettext_lazy("Late"),
    "missing": gettext_lazy("Not checked in"),
    "missed": gettext_lazy("Missed"),
    "outside": gettext_lazy("Outside"),
    "uncertain": gettext_lazy("Uncertain"),
    "makeup": gettext_lazy("Make-up approved"),
    "not_yet": gettext_lazy("Not due yet"),
}


def may_watch(scope: Scope) -> bool:
    """Operators, schools and bureaus watch schools live; teachers, parents and experts do not."""
    return bool(scope.everything or scope.district_ids or scope.school_ids or scope.operator_school_ids)


def watched_schools(scope: Scope) -> list[dict[str, Any]]:
    """The schools the live view covers for this scope, by name."""
    return list(schools_watched(scope).order_by("name").values("id", "name", "district__name"))


def schools_watched(scope: Scope) -> Any:
    """The schools a scope watches live: its own (a school's admins), its authorised ones (an operator's staff), its
    districts' (a bureau), every one (the city); none for a teacher or a parent, who only teach at or attend one."""
    qs = School.objects.all()
    if scope.everything:
        return qs
    q = Q(pk__in=scope.school_ids) | Q(pk__in=scope.operator_school_ids) | Q(district_id__in=scope.district_ids)
    return qs.filter(q)


def board_topics(scope: Scope) -> list[str]:
    """The event-stream topics that announce changes to the caller's board (at most five, as the stream allows):
    the operator companies, else the city or districts, else the schools."""
    from kehou.orgs.models import Region

    if scope.operator_ids:
        return [f"operator:{o}" for o in sorted(scope.operator_ids)][:5]
    if scope.everything:
        city = Region.objects.filter(parent__isnull=True).values_list("pk", flat=True).first()
        return [f"district:{city}"] if city else []
    if scope.district_ids:
        return [f"district:{d}" for d in sorted(scope.district_ids)][:5]
    return [f"school:{s}" for s in sorted(scope.school_ids)][:5]


SESSION_FIELDS = (
    "pk",
    "date",
    "number",
    "starts_at",
    "ends_at",
    "course_class_id",
    "course_class__name",
    "course_class__room",
    "course_class__taken",
    "course_class__school_id",
    "course_class__school__name",
    "course_class__teacher_id",
    "course_class__teacher__user__full_name",
    "substitute__teacher__user__full_name",
    "check_in__outcome",
    "check_in__timing",
    "check_in__at",
    "check_in__makeup",
    "roll_call__expected",
    "roll_call__present",
    "roll_call__absent",
    "roll_call__leave",
    "roll_call__unmarked",
)


class _Times:
    __slots__ = ("date", "ends_at", "starts_at")

    def __init__(self, row: dict[str, Any]) -> None:
        self.date, self.starts_at, self.ends_at = row["date"], row["starts_at"], row["ends_at"]


def _check_in_code(row: dict[str, Any], start: datetime, now: datetime) -> str:
    outcome, timing = row["check_in__outcome"], row["check_in__timing"]
    if row["check_in__makeup"] == CheckIn.Makeup.APPROVED:
        return "makeup"
    if outcome is None:
        late_after = timedelta(minutes=int(rules()["NO_CHECK_IN_AFTER_MINUTES"]))
        return "missing" if now >= start + late_after else "not_yet"
    if outcome == CheckIn.Outcome.MISSED:
        return "missed"
    if outcome in (CheckIn.Outcome.OUTSIDE, CheckIn.Outcome.UNCERTAIN):
        return str(outcome)
    return "late" if timing == CheckIn.Timing.LATE else "on_time"


def live_board(
    *,
    scope: Scope,
    day: date,
    now: datetime,
    school_id: int | None = None,
    class_id: int | None = None,
    teacher: str = "",
) -> dict[str, Any]:
    """One day's sessions in the caller's schools (optionally one school, one class, a teacher's name), the day's
    figures and the open follow-ups of those sessions. Sessions running now come first, then by time."""
    sessions = ClassSession.objects.filter(date=day, course_class__status="active")
    if not may_watch(scope):
        sessions = sessions.none()
    elif not scope.everything:
        sessions = sessions.filter(course_class__school_id__in=schools_watched(scope).values("pk"))
    if school_id is not None:
        sessions = sessions.filter(course_class__school_id=school_id)
    if class_id is not None:
        sessions = sessions.filter(course_class_id=class_id)
    if teacher:
        sessions = sessions.filter(
            Q(course_class__teacher__user__full_name__icontains=teacher)
            | Q(substitute__teacher__user__full_name__icontains=teacher)
        )
    rows = list(sessions.values(*SESSION_FIELDS).order_by("starts_at", "course_class__school__name", "pk"))
    ids = {r["pk"] for r in rows}
    open_by_session: dict[int, list[dict[str, Any]]] = defaultdict(list)
    follow_ups: list[dict[str, Any]] = []
    if ids:
        fq = FollowUp.objects.filter(session__date=day, resolved_at__isnull=True)
        if not scope.everything:
            fq = fq.filter(school_id__in=schools_watched(scope).values("pk"))
        if school_id is not None:
            fq = fq.filter(school_id=school_id)
        wanted = ("pk", "session_id", "kind", "level", "count", "opened_at", "escalated_at")
        for f in map(dict, fq.values(*wanted)):
            if f["session_id"] in ids:  # the sessions the filters kept
                open_by_session[f["session_id"]].append(f)
    summary = {
        "sessions": 0,
        "running_now": 0,
        "checked_in": 0,
        "late": 0,
        "missing": 0,
        "flagged": 0,
        "roll_calls_taken": 0,
        "pupils_expected": 0,
        "pupils_present": 0,
        "pupils_absent": 0,
        "pupils_on_leave": 0,
        "follow_ups_open": 0,
    }
    cards: list[dict[str, Any]] = []
    for r in rows:
        start, end = bounds_of(r["date"], r["starts_at"], r["ends_at"])
        state = state_code(
            start=start,
            end=end,
            outcome=r["check_in__outcome"],
            expected=r["roll_call__expected"],
            unmarked=r["roll_call__unmarked"],
            now=now,
        )
        check = _check_in_code(r, start, now)
        expected = r["roll_call__expected"] if r["roll_call__expected"] is not None else (r["course_class__taken"] or 0)
        counts = {
            "expected": expected,
            "present": r["roll_call__present"] or 0,
            "absent": r["roll_call__absent"] or 0,
            "leave": r["roll_call__leave"] or 0,
            "unmarked": r["roll_call__unmarked"] if r["roll_call__unmarked"] is not None else expected,
        }
        running = start <= now < end
        summary["sessions"] += 1
        summary["running_now"] += running
        summary["checked_in"] += check in ("on_time", "late", "outside", "uncertain", "makeup")
        summary["late"] += check == "late"
        summary["missing"] += check in ("missing", "missed")
        summary["flagged"] += check in ("outside", "uncertain")
        summary["roll_calls_taken"] += state == "roll_call_taken"
        summary["pupils_expected"] += expected
        summary["pupils_present"] += counts["present"]
        summary["pupils_absent"] += counts["absent"]
        summary["pupils_on_leave"] += counts["leave"]
        opened = open_by_session.get(r["pk"], [])
        summary["follow_ups_open"] += len(opened)
        cards.append(
            {
                "id": r["pk"],
                "date": r["date"],
                "number": r["number"],
                "starts_at": timezone.localtime(start),
                "ends_at": timezone.localtime(end),
                "running": running,
                "school": {"id": r["course_class__school_id"], "name": r["course_class__school__name"]},
                "course_class": {"id": r["course_class_id"], "name": r["course_class__name"]},
                "room": r["course_class__room"],
                "teacher": r["substitute__teacher__user__full_name"] or r["course_class__teacher__user__full_name"],
                "substitute": bool(r["substitute__teacher__user__full_name"]),
                "state": state,
                "check_in": {"code": check, "at": r["check_in__at"], "outcome": r["check_in__outcome"] or ""},
                "roll_call": counts,
                "follow_ups": [f["kind"] for f in opened],
            }
        )
        for f in opened:
            follow_ups.append(
                {
                    "id": f["pk"],
                    "kind": f["kind"],
                    "level": f["level"],
                    "count": f["count"],
                    "opened_at": f["opened_at"],
                    "escalated_at": f["escalated_at"],
                    "session": r["pk"],
                    "school": cards[-1]["school"],
                    "course_class": cards[-1]["course_class"],
                    "teacher": cards[-1]["teacher"],
                    "starts_at": cards[-1]["starts_at"],
                }
            )
    cards.sort(key=lambda c: (not c["running"], c["starts_at"], c["school"]["name"], c["id"]))
    level_order = {FollowUp.Level.OPERATOR: 0, FollowUp.Level.SCHOOL: 1, FollowUp.Level.TEACHER: 2}
    follow_ups.sort(key=lambda f: (level_order.get(f["level"], 3), f["opened_at"], f["id"]))
    return {"date": day, "now": now, "summary": summary, "sessions": cards, "follow_ups": follow_ups}


def follow_ups(*, scope: Scope) -> Any:
    """Follow-ups in the caller's scope, newest first, with what a list shows."""
    qs = FollowUp.objects.select_related("session__course_class", "school", "handled_by")
    return scope.filter(qs).order_by("-opened_at", "-pk")
