"""Lotteries (摇号): drawing a closed lottery window's oversubscribed classes from a recorded seed, re-running a
draw from its record, drawing every window that has closed; the periodic work of enrolment."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from kehou.catalog import draw
from kehou.core import audit
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, KehouError
from kehou.notify.services import notify
from kehou.people.models import Guardian, Pupil

from ..models import (
    CourseClass,
    Enrolment,
    LotteryDraw,
    SelectionWindow,
)
from .checks import _guardians
from .common import require_school_admin
from .waitlist import hold_end, holds_expire

S = Enrolment.Status


def lottery_draw(*, window: SelectionWindow, now: datetime, actor: Any = None, seed: str | None = None) -> int:
    """Draw a closed lottery window: for each class, applicants ordered by sha256("<seed>:<pupil id>"); the
    first ``seats left`` win a hold (or a confirmed seat when free), the rest wait in drawn order. A class with
    no more applicants than seats gives everyone a seat without a draw. Runs once per window (guarded by a
    conditional UPDATE of ``drawn_at``). Returns the number of classes drawn."""
    if actor is not None:  # a person draws (the periodic tick draws with no actor)
        require_school_admin(actor, window.school)
    if window.mode != SelectionWindow.Mode.LOTTERY:
        raise KehouError(_("This window is first come, first served."), code=ErrorCode.NOT_LOTTERY)
    if now < window.closes_at:
        raise Conflict(_("The lottery is drawn after the window closes."), code=ErrorCode.WINDOW_STILL_OPEN)
    hold = timedelta(hours=settings.KEHOU_LOTTERY_HOLD_HOURS)
    drawn = 0
    with transaction.atomic():
        if not SelectionWindow.objects.filter(pk=window.pk, drawn_at__isnull=True).update(drawn_at=now):
            raise Conflict(_("The lottery has been drawn."), code=ErrorCode.LOTTERY_DRAWN)
        applied = (
            Enrolment.objects.select_for_update()
            .filter(window=window, status=S.APPLIED, course_class__status=CourseClass.Status.ACTIVE)
            .values_list("pk", "pupil_id", "course_class_id", "fee_fen")
        )
        by_class: dict[int, dict[int, tuple[int, int]]] = {}
        for pk, pupil_id, class_id, fee in applied:
            by_class.setdefault(class_id, {})[pupil_id] = (pk, fee)
        for class_id, applicants in sorted(by_class.items()):
            course_class = CourseClass.objects.select_for_update().get(pk=class_id)
            seats = max(course_class.capacity - course_class.taken, 0)
            pool = sorted(applicants)
            class_seed = seed or draw.new_seed()
            order = draw.draw_order(class_seed, pool) if len(pool) > seats else pool
            winners, losers = order[:seats], order[seats:]
            if len(pool) > seats:
                LotteryDraw.objects.create(
                    window=window,
                    course_class=course_class,
                    seed=class_seed,
                    seats=seats,
                    applicants=pool,
                    order=order,
                    drawn_at=now,
                )
                drawn += 1
            if winners and not CourseClass.objects.filter(
                pk=class_id, taken__lte=F("capacity") - len(winners), status=CourseClass.Status.ACTIVE
            ).update(taken=F("taken") + len(winners)):
                raise Conflict(_("The class changed during the draw; draw again."), code=ErrorCode.DRAW_CONFLICT)
            for pupil_id in winners:
                pk, fee = applicants[pupil_id]
                values: dict[str, Any] = (
                    {"status": S.CONFIRMED, "confirmed_at": now}
                    if fee == 0
                    else {"status": S.HELD, "hold_expires_at": now + hold}
                )
                Enrolment.objects.filter(pk=pk, status=S.APPLIED).update(status_changed_at=now, **values)
            for rank, pupil_id in enumerate(losers, start=1):
                pk, _fee = applicants[pupil_id]
                Enrolment.objects.filter(pk=pk, status=S.APPLIED).update(
                    status=S.WAITING, wait_rank=rank, queued_at=now, status_changed_at=now
                )
            # Each winner's guardians are told which child has the seat, and until when it is held.
            children = dict(Pupil.objects.filter(pk__in=winners).values_list("pk", "name"))
            guardians: dict[int, list[int]] = {}
            for pupil_id, user_id in Guardian.objects.filter(pupil_id__in=winners).values_list("pupil_id", "user_id"):
                guardians.setdefault(pupil_id, []).append(user_id)
            for pupil_id in winners:
                pk, fee = applicants[pupil_id]
                names = {"child": children.get(pupil_id, ""), "name": course_class.name}
                if fee == 0:
                    body = _("Nothing to pay: the place is confirmed.")
                else:
                    body = _("Pay before %(time)s to keep it: then the seat goes to the next child waiting.") % {
                        "time": hold_end(now + hold)
                    }
                notify(
                    user_ids=guardians.get(pupil_id, []),
                    kind="lottery_won",
                    title=_("Lottery: %(child)s has a seat in “%(name)s”") % names,
                    body=body,
                    link=f"/parent/enrolments/{pk}/",
                    now=now,
                )
            notify(
                user_ids=_guardians(losers),
                kind="lottery_waitlisted",
                title=_("Lottery: your child is on the waitlist of “%(name)s”") % {"name": course_class.name},
                now=now,
            )
        audit.record(
            actor=actor,
            action=AuditAction.LOTTERY_DRAW,
            obj=window,
            after={"classes": len(by_class), "drawn": drawn},
            now=now,
            school_id=window.school_id,
            district_id=window.school.district_id,
        )
    return drawn


def lottery_replay(draw_row: LotteryDraw) -> list[int]:
    """Anyone can re-run a draw from its published seed and applicants."""
    return draw.draw_order(draw_row.seed, draw_row.applicants)


def lotteries_draw_closed(*, now: datetime) -> int:
    """Draw every lottery window that has closed and is not drawn yet. Returns how many classes were drawn."""
    windows = SelectionWindow.objects.filter(
        mode=SelectionWindow.Mode.LOTTERY,
        status=SelectionWindow.Status.PUBLISHED,
        closes_at__lte=now,
        drawn_at__isnull=True,
    ).select_related("school")
    drawn = 0
    for window in windows:
        try:
            drawn += lottery_draw(window=window, now=now)
        except Conflict:
            continue
    return drawn


def enrolment_tick(*, now: datetime) -> dict[str, int]:
    """The periodic work: expire holds (freeing seats for the waitlist) and draw closed lottery windows."""
    expired = holds_expire(now=now)
    return {"expired": expired, "lotteries": lotteries_draw_closed(now=now)}
