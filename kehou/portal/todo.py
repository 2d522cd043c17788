"""The to-do list each home starts with: the work waiting for this person, counted through the apps' selectors
and the person's scope, each item linking to the page where it is done.

A school's administrators: refunds to approve, waivers to decide as the second person, returned submissions to
revise, classes whose course is no longer usable. A district bureau: waivers to decide, submissions awaiting a
panel, panels ready for a decision. The city bureau: filings to acknowledge, the same for the city library, and
the payment alerts and failed tasks of the last week. An expert: scores due. A parent: seats held until a
deadline, waitlist places and lottery applications, refunds in progress. A teacher: today's sessions, and an
outside teacher's returned submissions. Counts per school or district are grouped in one query each, and the
library figures are the home's own (``home_sections``), so a home costs a few queries whatever the role.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehou.core.scope import Scope
from kehou.people.models import Role

RECENT = timedelta(days=7)  # payment alerts and failed tasks: what the last week brought


@dataclass
class Todo:
    kind: str  # stable, for the page's data-todo attribute (and tests)
    count: int
    label: str
    url: str
    where: str = ""  # the school or district, when the person acts for several
    rows: list[dict[str, Any]] = field(default_factory=list)
    urgent: bool = False
    mark: str = ""  # shown instead of the count (an item that is not a number of things)


def _short(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%m-%d %H:%M")


def _url(name: str, **query: Any) -> str:
    url = reverse(f"portal:{name}")
    query = {k: v for k, v in query.items() if v not in ("", None)}
    return f"{url}?{urlencode(query)}" if query else url


def todo_list(*, user: Any, scope: Scope, sections: list[dict[str, Any]], now: datetime) -> list[Todo]:
    items: list[Todo] = []
    schools = [s["school"] for s in sections if s["kind"] == "school"]
    districts = [s["district"] for s in sections if s["kind"] == "district"]
    several_places = len(schools) + len(districts) > 1
    if schools:
        items += _school_items(user=user, scope=scope, schools=schools, several=several_places)
    if districts:
        items += _district_items(scope=scope, districts=districts, several=several_places)
    items += _library_items(sections=sections, several=several_places)
    if scope.everything:
        items += _city_items(scope=scope, now=now)
    items += _submission_items(user=user, scope=scope, schools=schools)
    if Role.EXPERT in scope.roles:
        items += _expert_items(scope=scope)
    items += _follow_up_items(scope=scope, now=now)
    items += _pay_items(scope=scope)
    if Role.TEACHER in scope.roles:
        items += _teacher_items(scope=scope, now=now)
    if Role.PARENT in scope.roles:
        children = [c for s in sections if s["kind"] == "parent" for c in s["children"]]
        items += _parent_items(user=user, scope=scope, children=children, now=now)
    return items


# --- schools and districts --------------------------------------------------------------------------------------
def _school_items(*, user: Any, scope: Scope, schools: list[Any], several: bool) -> list[Todo]:
    from kehou.enrolment import selectors as enrolment_selectors
    from kehou.payments import selectors as payment_selectors

    ids = [s.pk for s in schools]
    refunds = Counter(
        dict(
            payment_selectors.refund_list(scope=scope, status="pending_approval")
            .filter(order__school_id__in=ids)
            .order_by()
            .values_list("order__school_id")
            .annotate(n=Count("pk"))
        )
    )
    waivers = Counter(
        dict(
            enrolment_selectors.waiver_list(scope=scope, status="pending")
            .filter(pupil__school_id__in=ids)
            .exclude(requested_by=user)
            .order_by()
            .values_list("pupil__school_id")
            .annotate(n=Count("pk"))
        )
    )
    flagged = Counter(
        enrolment_selectors.class_list(scope=scope, flagged=True, status="active")
        .filter(school_id__in=ids)
        .values_list("school_id", flat=True)
    )
    items: list[Todo] = []
    for school in schools:
        where = school.name if several else ""
        if n := refunds[school.pk]:
            items.append(
                Todo(
                    "refunds",
                    n,
                    ngettext("%(n)s refund awaits your approval", "%(n)s refunds await your approval", n) % {"n": n},
                    _url("refunds", status="pending_approval", school=school.pk),
                    where,
                    urgent=True,
                )
            )
        if n := waivers[school.pk]:
            items.append(
                Todo(
                    "waivers",
                    n,
                    ngettext(
                        "%(n)s hardship waiver awaits a second person's decision",
                        "%(n)s hardship waivers await a second person's decision",
                        n,
                    )
                    % {"n": n},
                    _url("waivers", status="pending", school=school.pk),
                    where,
                )
            )
        if n := flagged[school.pk]:
            items.append(
                Todo(
                    "flagged",
                    n,
                    ngettext(
                        "%(n)s class's course is no longer usable in the library",
                        "%(n)s classes' courses are no longer usable in the library",
                        n,
                    )
                    % {"n": n},
                    _url("classes", flagged="yes", school=school.pk),
                    where,
                )
            )
    return items


def _district_items(*, scope: Scope, districts: list[Any], several: bool) -> list[Todo]:
    from kehou.enrolment import selectors as enrolment_selectors

    waivers = Counter(
        dict(
            enrolment_selectors.waiver_list(scope=scope, status="pending")
            .filter(pupil__school__district_id__in=[d.pk for d in districts])
            .order_by()
            .values_list("pupil__school__district_id")
            .annotate(n=Count("pk"))
        )
    )
    items: list[Todo] = []
    for district in districts:
        if n := waivers[district.pk]:
            items.append(
                Todo(
                    "waivers",
                    n,
                    ngettext(
                        "%(n)s hardship waiver of your schools awaits your decision",
                        "%(n)s hardship waivers of your schools await your decision",
                        n,
                    )
                    % {"n": n},
                    _url("waivers", status="pending"),
                    district.name if several else "",
                )
            )
    return items


def _library_items(*, sections: list[dict[str, Any]], several: bool) -> list[Todo]:
    """From the home's library-and-review figures: what waits for the bureau that runs the library."""
    items: list[Todo] = []
    for s in sections:
        if s["kind"] != "library_review":
            continue
        region, totals = s["region"], s["totals"]
        where = (_("City library") if region.is_city else region.name) if several or region.is_city else ""
        if region.is_city and (n := totals["filings"]):
            items.append(
                Todo(
                    "filings",
                    n,
                    ngettext("%(n)s filing to acknowledge", "%(n)s filings to acknowledge", n) % {"n": n},
                    _url("filings", status="filed"),
                )
            )
        if n := totals["awaiting_decision"]:
            items.append(
                Todo(
                    "decide",
                    n,
                    ngettext("%(n)s panel has every score: decide it", "%(n)s panels have every score: decide them", n)
                    % {"n": n},
                    _url("review-panels", library=region.code, status="open"),
                    where,
                    urgent=True,
                )
            )
        if n := totals["awaiting_panel"]:
            items.append(
                Todo(
                    "draw",
                    n,
                    ngettext("%(n)s submission awaits a panel draw", "%(n)s submissions await a panel draw", n)
                    % {"n": n},
                    _url("review", library=region.code, status="submitted"),
                    where,
                )
            )
    return items


def _city_items(*, scope: Scope, now: datetime) -> list[Todo]:
    from kehou.core.selectors_tasks import failed_task_list
    from kehou.payments import selectors as payment_selectors

    since = now - RECENT
    items: list[Todo] = []
    alerts = payment_selectors.notification_list(scope=scope, alert=True).filter(received_at__gte=since).count()
    if alerts:
        items.append(
            Todo(
                "alerts",
                alerts,
                ngettext("%(n)s payment alert in the last 7 days", "%(n)s payment alerts in the last 7 days", alerts)
                % {"n": alerts},
                _url("payment-notifications", alert="yes"),
                urgent=True,
            )
        )
    failed = failed_task_list(scope=scope).filter(failed_at__gte=since).count()
    if failed:
        items.append(
            Todo(
                "failed-tasks",
                failed,
                ngettext(
                    "%(n)s background task failed in the last 7 days",
                    "%(n)s background tasks failed in the last 7 days",
                    failed,
                )
                % {"n": failed},
                _url("failed-tasks"),
            )
        )
    return items


def _submission_items(*, user: Any, scope: Scope, schools: list[Any]) -> list[Todo]:
    """Submissions returned for revision to the person who may revise them: their school's, or their own (an
    outside teacher)."""
    outside = Role.TEACHER in scope.roles and not schools
    if not schools and not outside:
        return []
    from kehou.catalog import selectors as catalog_selectors

    mine = Q(submitter_school__in=[s.pk for s in schools]) | Q(submitter_user=user)
    n = catalog_selectors.submission_list(scope=scope, status="returned").filter(mine).count()
    if not n:
        return []
    return [
        Todo(
            "returned",
            n,
            ngettext("%(n)s submission was returned for revision", "%(n)s submissions were returned for revision", n)
            % {"n": n},
            _url("submissions", status="returned"),
        )
    ]


# --- experts, teachers, parents ---------------------------------------------------------------------------------
def _expert_items(*, scope: Scope) -> list[Todo]:
    from kehou.catalog import selectors as catalog_selectors

    n = catalog_selectors.my_seats(scope=scope, state="pending").count()
    if not n:
        return []
    return [
        Todo(
            "scores",
            n,
            ngettext("%(n)s submission waits for your score", "%(n)s submissions wait for your score", n) % {"n": n},
            _url("review-tasks", state="pending"),
            urgent=True,
        )
    ]


def _follow_up_items(*, scope: Scope, now: datetime) -> list[Todo]:
    """Open follow-ups (the live view's queue): for those who watch schools, every open one in their schools, urgent
    when one has reached them; for a teacher, their own sessions' (each links to the session)."""
    from kehou.attendance import live
    from kehou.attendance.models import FollowUp

    open_rows = live.follow_ups(scope=scope).filter(resolved_at__isnull=True)
    if live.may_watch(scope):
        # the last level a follow-up reaches is the operator's; bureaus watch it there too
        mine = FollowUp.Level.SCHOOL if scope.school_ids and not scope.operator_school_ids else FollowUp.Level.OPERATOR
        by_level = Counter(open_rows.values_list("level", flat=True))
        n = sum(by_level.values())
        if not n:
            return []
        label = ngettext("%(n)s follow-up open in your schools", "%(n)s follow-ups open in your schools", n)
        return [Todo("follow-ups", n, label % {"n": n}, _url("live"), urgent=by_level[mine] > 0)]
    if Role.TEACHER not in scope.roles:
        return []
    rows = list(open_rows.filter(level=FollowUp.Level.TEACHER).select_related("session__course_class")[:5])
    if not rows:
        return []
    n = len(rows)
    return [
        Todo(
            "follow-ups",
            n,
            ngettext("%(n)s thing to put right", "%(n)s things to put right", n) % {"n": n},
            reverse("portal:session", args=[rows[0].session_id]),
            rows=[
                {
                    "text": f"{r.get_kind_display()} · {r.session.course_class.name}",
                    "detail": f"{r.session.date:%m-%d} {r.session.starts_at:%H:%M}",
                    "url": reverse("portal:session", args=[r.session_id]),
                }
                for r in rows
            ],
            urgent=True,
        )
    ]


def _pay_items(*, scope: Scope) -> list[Todo]:
    """Class-hour pay: for a school, the lines awaiting its approval and the disputes awaiting its answer; for an
    operator, what the schools approved and what is approved but not paid; for a teacher, rejected lines. One
    aggregate query."""
    from kehou.payroll import selectors as pay_selectors

    items: list[Todo] = _disbursement_items(scope=scope)
    if not (scope.school_ids or scope.operator_school_ids or scope.teacher_ids):
        return items
    own_school = Q(school_id__in=scope.school_ids)
    operators = Q(school_id__in=scope.operator_school_ids)
    c = (
        pay_selectors.pay_line_list(scope=scope)
        .order_by()
        .aggregate(
            disputes=Count("pk", filter=own_school & Q(disputed_at__isnull=False, dispute_answered_at__isnull=True)),
            school=Count("pk", filter=own_school & Q(status="computed")),
            operator=Count("pk", filter=operators & Q(status="school_approved")),
            unpaid=Count("pk", filter=operators & Q(status="approved", payout__isnull=True)),
            rejected=Count(
                "pk", filter=Q(teacher_id__in=scope.teacher_ids, status="rejected", disputed_at__isnull=True)
            ),
            own=Count("pk", filter=Q(teacher_id__in=scope.teacher_ids) & ~Q(status="rejected")),
        )
    )
    if c["disputes"]:
        n = c["disputes"]
        label = ngettext("%(n)s pay dispute to answer", "%(n)s pay disputes to answer", n) % {"n": n}
        items.append(Todo("pay-disputes", n, label, _url("pay", disputed=1), urgent=True))
    if c["school"]:
        n = c["school"]
        label = ngettext("%(n)s pay line to approve", "%(n)s pay lines to approve", n) % {"n": n}
        items.append(Todo("pay-school", n, label, _url("pay", status="computed")))
    if c["operator"]:
        n = c["operator"]
        label = ngettext(
            "%(n)s pay line approved by schools awaits you", "%(n)s pay lines approved by schools await you", n
        ) % {"n": n}
        items.append(Todo("pay-operator", n, label, _url("pay", status="school_approved")))
    if c["unpaid"]:
        n = c["unpaid"]
        label = ngettext("%(n)s approved pay line to pay out", "%(n)s approved pay lines to pay out", n) % {"n": n}
        items.append(Todo("pay-payout", n, label, _url("pay", status="approved")))
    if c["rejected"] and not (scope.school_ids or scope.operator_school_ids):
        n = c["rejected"]
        label = ngettext("%(n)s pay line was rejected", "%(n)s pay lines were rejected", n) % {"n": n}
        items.append(Todo("pay-rejected", n, label, _url("pay", status="rejected")))
    if c["own"] and len(scope.teacher_ids) == 1:
        from kehou.payroll.models import Payee

        if not Payee.objects.filter(teacher_id__in=scope.teacher_ids).exists():
            label = _("Bind your WeChat account to receive your class-hour pay")
            items.append(Todo("pay-account", 1, label, reverse("portal:payee"), urgent=True))
    return items


def _disbursement_items(*, scope: Scope) -> list[Todo]:
    """Disbursements from escrow awaiting this bureau's decision (costs: the district's; tax: the city's)."""
    from kehou.payroll.services.disbursements import awaiting

    if not (scope.district_ids or scope.everything):
        return []
    n = awaiting(scope).count()
    if not n:
        return []
    label = ngettext("%(n)s disbursement from escrow to decide", "%(n)s disbursements from escrow to decide", n) % {
        "n": n
    }
    return [Todo("disbursements", n, label, reverse("portal:disbursements"), urgent=True)]


def _teacher_items(*, scope: Scope, now: datetime) -> list[Todo]:
    from django.utils.formats import date_format

    from kehou.enrolment import selectors as enrolment_selectors

    today = timezone.localdate(now)
    coming = list(enrolment_selectors.teacher_sessions_from(scope=scope, day=today)[:12])
    if not coming:
        return []

    def row(s: Any, with_day: bool) -> dict[str, Any]:
        day = f"{date_format(s.date, 'MONTH_DAY_FORMAT')} {date_format(s.date, 'D')} " if with_day else ""
        return {
            "text": s.course_class.name,
            "detail": f"{day}{s.starts_at:%H:%M}–{s.ends_at:%H:%M} · {s.course_class.school.name}"
            + (f" · {s.course_class.room}" if s.course_class.room else ""),
            "url": reverse("portal:class", args=[s.course_class_id]),
        }

    todays = [s for s in coming if s.date == today]
    if not todays:
        label = _("No session today; your next one")
        return [Todo("next-session", 0, label, _url("classes"), rows=[row(coming[0], True)], mark="›")]
    n = len(todays)
    return [
        Todo(
            "sessions",
            n,
            ngettext("%(n)s session to teach today", "%(n)s sessions to teach today", n) % {"n": n},
            _url("classes"),
            rows=[row(s, False) for s in todays],
        )
    ]


def _parent_items(*, user: Any, scope: Scope, children: list[Any], now: datetime) -> list[Todo]:
    from kehou.enrolment import selectors as enrolment_selectors
    from kehou.enrolment.models import Enrolment
    from kehou.payments import selectors as payment_selectors

    places = list(enrolment_selectors.family_places_open(user=user, scope=scope)[:50])
    # (the hold's end, the place) of the seats held until later than now, the soonest first
    held = sorted(
        ((e.hold_expires_at, e) for e in places if e.status == Enrolment.Status.HELD and e.hold_expires_at),
        key=lambda pair: pair[0],
    )
    held = [(until, e) for until, e in held if until > now]
    waiting = [e for e in places if e.status == Enrolment.Status.WAITING]
    applied = [e for e in places if e.status == Enrolment.Status.APPLIED]
    items: list[Todo] = []
    if held:
        rows = [
            {
                "text": f"{e.pupil.name} · {e.course_class.name}",
                "detail": (_("offered from the waitlist") + " · " if e.queued_at else "")
                + _("pay by %(at)s") % {"at": _short(until)},
                "deadline": until,
                "url": reverse("portal:place-pay", args=[e.pk]),
            }
            for until, e in held
        ]
        n = len(held)
        items.append(
            Todo(
                "held",
                n,
                ngettext(
                    "%(n)s seat is held for you: pay before it expires",
                    "%(n)s seats are held for you: pay before they expire",
                    n,
                )
                % {"n": n},
                _url("parent-places", status="held"),
                rows=rows,
                urgent=True,
            )
        )
    to_choose = enrolment_selectors.windows_open_without_place(pupils=children, now=now)
    if to_choose:
        rows = [
            {
                "text": pupil.name,
                "detail": _("selection closes %(at)s") % {"at": _short(w.closes_at)},
                "deadline": w.closes_at,
                "url": reverse("portal:child-classes", args=[pupil.pk]),
            }
            for pupil, w in to_choose
        ]
        n = len(to_choose)
        items.append(
            Todo(
                "choose",
                n,
                ngettext(
                    "Class selection is open: %(n)s child has no place yet",
                    "Class selection is open: %(n)s children have no place yet",
                    n,
                )
                % {"n": n},
                _url("parent-home"),
                rows=rows,
            )
        )
    if waiting:
        n = len(waiting)
        items.append(
            Todo(
                "waiting",
                n,
                ngettext("%(n)s place on a waitlist", "%(n)s places on waitlists", n) % {"n": n},
                _url("parent-places", status="waiting"),
            )
        )
    if applied:
        n = len(applied)
        items.append(
            Todo(
                "applied",
                n,
                ngettext("%(n)s lottery application awaits the draw", "%(n)s lottery applications await the draw", n)
                % {"n": n},
                _url("parent-places", status="applied"),
            )
        )
    refunds = (
        payment_selectors.refund_list(scope=scope)
        .filter(order__pupil__guardians__user=user, status__in=("pending_approval", "processing"))
        .count()
    )
    if refunds:
        items.append(
            Todo(
                "refunds-open",
                refunds,
                ngettext("%(n)s refund in progress", "%(n)s refunds in progress", refunds) % {"n": refunds},
                _url("parent-orders"),
            )
        )
    return items
