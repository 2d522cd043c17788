"""Pages of the teacher's day: the timetable (today and the week), a session (check-in and roll call), and for the
school and the operator the flagged check-ins with their make-ups."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.core import clock
from kehou.core.api import parse_id
from kehou.core.cells import reject_with_reason
from kehou.core.errors import KehouError
from kehou.core.pages import ActionPage, ScopedListPage, ScopedPage, cells, exporting, local, post_button, query_day
from kehou.core.permissions import administers
from kehou.core.scope import Scope
from kehou.notify.services import mark_read_kind
from kehou.people.models import Pupil, TeacherProfile
from kehou.people.selectors import shown_pupil_name

from . import selectors
from .models import COMMENT_TAGS, CheckIn, LeaveRequest
from .services import checkin, comments, leave, rollcall, substitutes
from .services.common import roll_call_closes, rules, runner_id

OUTCOME_CSS = {"inside": "ok", "outside": "bad", "uncertain": "warn", "missed": "bad"}


class TimetablePage(ScopedPage):
    """The teacher's home for the day: today's sessions first (or the week), each with its state and next step."""

    title = gettext_lazy("My timetable")
    template_name = "attendance/timetable.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return TeacherProfile.objects.none()

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        teacher = selectors.teacher_profile_of(request.user)
        now = clock.now()
        day = query_day(request)
        week = request.GET.get("view") == "week"
        first, last = selectors.week_of(day) if week else (day, day)
        cards = (
            [
                selectors.session_card(s, now=now, teacher_id=teacher.pk)
                for s in selectors.teacher_sessions(teacher=teacher, first=first, last=last)
            ]
            if teacher is not None
            else []
        )
        for card in cards:
            card["state_label"] = selectors.STATE_LABELS.get(card["state"], card["state"])
        days: list[dict[str, Any]] = []
        for card in cards:
            if not days or days[-1]["date"] != card["date"]:
                days.append({"date": card["date"], "cards": []})
            days[-1]["cards"].append(card)
        step = 7 if week else 1
        ctx = self.base_context() | {
            "days": days,
            "day": day,
            "week": week,
            "first": first,
            "last": last,
            "today": timezone.localdate(now),
            "prev": (day - timedelta(days=step)).isoformat(),
            "next": (day + timedelta(days=step)).isoformat(),
            "now_session": selectors.session_in_progress(teacher=teacher, now=now) if teacher else None,
            "teaches": teacher is not None,
            "count": len(cards),
        }
        return render(request, self.template_name, ctx)


class SessionPage(ScopedPage):
    """One session: check-in (for the teacher who runs it), the roll call with live counts, the substitute."""

    title = gettext_lazy("Session")
    template_name = "attendance/session.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.sessions_with_state()

    def get_object(self) -> Any:
        try:
            return self.get_queryset().get(pk=self.kwargs["pk"])
        except (self.get_queryset().model.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404 from exc

    def context(self, request: HttpRequest, session: Any) -> dict[str, Any]:
        now = clock.now()
        teacher = selectors.teacher_profile_of(request.user)
        teacher_id = teacher.pk if teacher else None
        card = selectors.session_card(session, now=now, teacher_id=teacher_id)
        card["state_label"] = selectors.STATE_LABELS.get(card["state"], card["state"])
        runs_it = teacher_id is not None and teacher_id == runner_id(session)
        school = session.course_class.school
        admin = administers(self.scope, school.pk)
        roll_call = None
        rows: list[dict[str, Any]] = []
        if now >= selectors.check_in_opens(session) or admin:
            roll_call = rollcall.roll_call_open(session=session, now=now)
            rows = selectors.roll_call_rows(scope=self.scope, roll_call=roll_call, session=session)
        lang = getattr(request, "LANGUAGE_CODE", "zh-hans")
        statuses = [
            {"code": s.code, "label": s.label(lang), "group": s.group}
            for s in selectors.statuses()
            if s.code != "unmarked"
        ]
        check_in = selectors.check_in_of(session)
        may_mark = (runs_it or admin) and roll_call is not None and roll_call.closed_at is None
        may_mark = may_mark and now < roll_call_closes(session)
        return self.base_context() | {
            "title": session.course_class.name,
            "session": session,
            "card": card,
            "school": school,
            "runs_it": runs_it,
            "admin": admin,
            "check_in": check_in,
            "check_in_open": runs_it
            and check_in is None
            and selectors.check_in_opens(session) <= now < selectors.session_bounds(session)[1],
            "makeup_possible": runs_it
            and (
                (check_in is None and now >= selectors.session_bounds(session)[1])
                or (check_in is not None and check_in.flagged and not check_in.makeup)
            ),
            "roll_call": roll_call,
            "rows": rows,
            "statuses": statuses,
            "may_mark": may_mark,
            "teachers": (
                list(school.teachers.select_related("user").exclude(pk=session.course_class.teacher_id))
                if admin
                else []
            ),
            "substitute": selectors.substitute_of(session),
            "api_roll_call": f"/api/v1/sessions/{session.pk}/roll-call",
            "comments": list(selectors.comments(scope=self.scope).filter(session=session)[:200]),
            "may_comment": runs_it and may_mark,
            "comment_tags": [(c, labels[0 if lang.startswith("zh") else 1]) for c, labels in COMMENT_TAGS.items()],
            "comment_max": int(rules()["COMMENT_MAX_CHARS"]),
            "comment_pupil": parse_id(request.GET.get("pupil", "")),
            "opens_at": timezone.localtime(selectors.check_in_opens(session)),
        }

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        session = self.get_object()
        return render(request, self.template_name, self.context(request, session))


class SessionActionPage(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.sessions_with_state()

    def fallback(self, obj: Any) -> str:
        return reverse("portal:session", args=[obj.pk])


class CheckInAction(SessionActionPage):
    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        p = request.POST
        row = checkin.check_in(
            actor=request.user,
            session=obj,
            lat=p.get("lat", ""),
            lng=p.get("lng", ""),
            accuracy_m=p.get("accuracy_m", ""),
            crs=p.get("crs", "wgs84"),
            now=clock.now(),
        )
        words = {
            "inside": _("Checked in: inside the school's radius (%(d)s m from its point).") % {"d": row.distance_m},
            "outside": _(
                "Checked in, but %(d)s m from the school (radius %(r)s m): the school sees it flagged. "
                "Ask for a make-up if you were there."
            )
            % {"d": row.distance_m, "r": row.radius_m},
            "uncertain": _(
                "Checked in, but the location is not precise enough (±%(a)s m) to be sure: the school sees it flagged."
            )
            % {"a": round(row.accuracy_m or 0)},
        }
        message = words.get(row.outcome, _("Checked in."))
        if row.timing == CheckIn.Timing.LATE:
            message += " " + _("It counts as late.")
        return message, reverse("portal:session", args=[obj.pk])


class MakeupAction(SessionActionPage):
    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        checkin.makeup_request(actor=request.user, session=obj, reason=request.POST.get("reason", ""), now=clock.now())
        return _("Make-up asked: the school decides."), reverse("portal:session", args=[obj.pk])


class RollCallAction(SessionActionPage):
    """The sheet's form: each pupil's chosen status (only changed rows are sent); "all present" fills the rest."""

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        now = clock.now()
        current = {
            r["pupil"]["id"]: r["status"]
            for r in selectors.roll_call_rows(
                scope=self.scope, roll_call=rollcall.roll_call_open(session=obj, now=now), session=obj
            )
        }
        marks = []
        for pupil_id, status in current.items():
            chosen = request.POST.get(f"p{pupil_id}", "")
            if chosen and chosen != "unmarked" and chosen != status:
                marks.append({"pupil": pupil_id, "status": chosen})
        sheet = rollcall.roll_call_mark(actor=request.user, session=obj, marks=marks, now=now)
        if request.POST.get("all_present"):
            sheet = rollcall.roll_call_all_present(actor=request.user, session=obj, now=now)
        return (
            _("Roll call saved: %(present)d present, %(absent)d absent, %(leave)d on leave, %(unmarked)d unmarked.")
            % sheet.counts(),
            reverse("portal:session", args=[obj.pk]),
        )


class CommentAction(SessionActionPage):
    """The teacher's comment on one pupil (the guardians receive it at once)."""

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        pupil_id = parse_id(request.POST.get("pupil") or "")
        if pupil_id is None:
            raise KehouError(_("Choose a pupil."))
        row = comments.comment_add(
            actor=request.user,
            session=obj,
            pupil_id=pupil_id,
            text=request.POST.get("text", ""),
            tags=request.POST.getlist("tags"),
            now=clock.now(),
        )
        return (
            _("Comment on %(name)s sent to the guardians.") % {"name": row.pupil.name},
            reverse("portal:session", args=[obj.pk]) + "#comments",
        )


class ParentCommentsPage(ScopedPage):
    """What the teachers said about a guardian's children, newest first; new ones appear as they are written."""

    title = gettext_lazy("Teachers' comments")
    template_name = "attendance/parent_comments.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.comments(scope=None).filter(pupil_id__in=scope.pupil_ids)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        rows = list(self.get_queryset()[:100])
        read = mark_read_kind(user=request.user, kind="comment", now=clock.now())
        return render(request, self.template_name, self.base_context() | {"comments": rows, "marked_read": read})


class SubstituteAction(SessionActionPage):
    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        now = clock.now()
        if request.POST.get("remove"):
            substitutes.substitute_remove(actor=request.user, session=obj, now=now)
            return _("The class's own teacher runs this session again."), None
        teacher = TeacherProfile.objects.filter(pk=parse_id(request.POST.get("teacher") or "") or 0).first()
        if teacher is None:
            raise KehouError(_("Choose a teacher."))
        substitutes.substitute_name(
            actor=request.user, session=obj, teacher=teacher, reason=request.POST.get("reason", ""), now=now
        )
        return _("%(name)s will run this session.") % {"name": teacher.user.full_name}, None


class FlaggedCheckInPage(ScopedListPage):
    """For the school and the operator: check-ins outside, uncertain, late or missed, and make-ups to decide."""

    title = gettext_lazy("Flagged check-ins")
    export_name = "check-ins"
    search_placeholder = gettext_lazy("Teacher or class")

    @property
    def columns(self) -> Any:  # type: ignore[override]
        request, scope = self.request, self.scope
        outcomes = dict(CheckIn.Outcome.choices)
        timings = dict(CheckIn.Timing.choices)
        makeups = dict(CheckIn.Makeup.choices)

        def outcome(c: CheckIn) -> Any:
            text = f"{outcomes.get(c.outcome, c.outcome)} · {timings.get(c.timing, c.timing)}"
            if exporting(request):
                return text
            return format_html('<span class="tag {}">{}</span>', OUTCOME_CSS.get(c.outcome, ""), text)

        def makeup(c: CheckIn) -> Any:
            label = makeups.get(c.makeup, "") if c.makeup else "—"
            if exporting(request) or c.makeup != CheckIn.Makeup.PENDING:
                return f"{label} {c.makeup_reason}".strip() if c.makeup else label
            if not administers(scope, c.session.course_class.school_id):
                return f"{label}：{c.makeup_reason}"
            url = reverse("portal:check-in-decide", args=[c.pk])
            approve = post_button(
                request,
                url,
                _("Approve"),
                extra={"decision": "approve"},
                confirm=_("Approve this make-up? The check-in will no longer be flagged."),
            )
            reject = reject_with_reason(
                request,
                url,
                label=_("Reject"),
                confirm=_("Reject this make-up?"),
                reason_label=_("Why"),
                submit=_("Reject"),
            )
            return cells([format_html("<span>{}</span> ", c.makeup_reason), approve, reject])

        def session_link(c: CheckIn) -> Any:
            text = f"{c.session.course_class.name} {c.session.date:%m-%d} {c.session.starts_at:%H:%M}"
            if exporting(request):
                return text
            return format_html('<a href="{}">{}</a>', reverse("portal:session", args=[c.session_id]), text)

        def distance(c: CheckIn) -> Any:
            if c.distance_m is None:
                return "—"
            return f"{c.distance_m} m / {c.radius_m} m (±{round(c.accuracy_m or 0)} m)"

        return (
            (_("Session"), session_link),
            (_("School"), lambda c: c.session.course_class.school.name),
            (_("Teacher"), lambda c: c.teacher.user.full_name),
            (_("Outcome"), outcome),
            (_("Distance / radius"), distance),
            (_("Checked in at"), lambda c: local(c.at) if c.at else "—"),
            (_("Make-up"), makeup),
        )

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        qs = selectors.pending_makeups(scope=scope) if g.get("makeup") == "pending" else None
        qs = qs if qs is not None else selectors.flagged_check_ins(scope=scope)
        q = g.get("q", "").strip()
        if q:
            from django.db.models import Q

            qs = qs.filter(Q(teacher__user__full_name__icontains=q) | Q(session__course_class__name__icontains=q))
        return qs.order_by("-session__date", "-session__starts_at")

    def filters(self) -> list[dict[str, Any]]:
        return [
            {
                "name": "makeup",
                "label": _("Make-up"),
                "choices": [("pending", _("Awaiting a decision"))],
                "value": self.request.GET.get("makeup", ""),
            }
        ]


class MakeupDecideAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return CheckIn.objects.select_related("session__course_class__school")

    def fallback(self, obj: Any) -> str:
        return reverse("portal:check-ins")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        approve = request.POST.get("decision") == "approve"
        checkin.makeup_decide(
            actor=request.user, check_in=obj, approve=approve, note=request.POST.get("reason", ""), now=clock.now()
        )
        return (_("Make-up approved.") if approve else _("Make-up rejected.")), None


# --- leave ----------------------------------------------------------------------------------------------------------
class ParentLeavePage(ScopedPage):
    """A guardian's leave requests for their children, and the form to ask for one (a session, or days)."""

    title = gettext_lazy("Leave requests")
    template_name = "attendance/parent_leave.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return LeaveRequest.objects.select_related("pupil", "session__course_class").order_by("-requested_at")

    def context(self, request: HttpRequest) -> dict[str, Any]:
        scope = self.scope
        now = clock.now()
        today = timezone.localdate(now)
        pupils = list(scope.filter(Pupil.objects.filter(pk__in=scope.pupil_ids)).order_by("name"))
        sessions = [
            s
            for s in selectors.sessions_with_state()
            .filter(
                course_class__enrolments__pupil__in=pupils,
                course_class__enrolments__status="confirmed",
                date__gte=today,
                date__lte=today + timedelta(days=14),
                course_class__status="active",
            )
            .distinct()
            if selectors.session_bounds(s)[1] > now
        ][:40]
        return self.base_context() | {
            "requests": list(self.get_queryset()[:50]),
            "pupils": pupils,
            "sessions": sessions,
            "kinds": LeaveRequest.Kind.choices,
            "today": today,
        }

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return render(request, self.template_name, self.context(request))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from django.contrib import messages
        from django.http import HttpResponseRedirect

        p = request.POST
        try:
            pupil = Pupil.objects.filter(pk=parse_id(p.get("pupil") or "") or 0).first()
            if pupil is None:
                raise KehouError(_("Choose a child."))
            session = None
            if p.get("session"):
                session = selectors.sessions_with_state().filter(pk=parse_id(p.get("session") or "") or 0).first()
                if session is None:
                    raise KehouError(_("Choose a session."))
            leave.leave_request(
                actor=request.user,
                pupil=pupil,
                kind=p.get("kind", ""),
                reason=p.get("reason", ""),
                session=session,
                first_date=_date(p.get("first_date")),
                last_date=_date(p.get("last_date")),
                now=clock.now(),
            )
        except KehouError as exc:
            messages.error(request, exc.message)
            return render(request, self.template_name, self.context(request) | {"form": p}, status=400)
        messages.success(request, _("Leave asked: the school decides, and you will be told."))
        return HttpResponseRedirect(reverse("portal:parent-leave"))


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        return None


class LeaveListPage(ScopedListPage):
    """For the school: its pupils' leave requests, those awaiting a decision first; and who decides leave for one
    session at each school the caller administers."""

    title = gettext_lazy("Leave requests")
    template_name = "attendance/leave_list.html"

    def extra_context(self) -> dict[str, Any]:
        from kehou.orgs.models import School

        scope = self.scope
        schools = [s for s in scope.filter(School.objects.order_by("name"))[:50] if administers(scope, s.pk)]
        return {"approver_schools": schools, "approver_choices": School.LeaveApprover.choices}

    export_name = "leave-requests"
    search_placeholder = gettext_lazy("Pupil name")

    @property
    def columns(self) -> Any:  # type: ignore[override]
        request, scope = self.request, self.scope
        kinds = dict(LeaveRequest.Kind.choices)
        states = dict(LeaveRequest.Status.choices)

        def when(r: LeaveRequest) -> str:
            if r.session_id and r.session is not None:
                return f"{r.session.course_class.name} {r.session.date:%m-%d} {r.session.starts_at:%H:%M}"
            if r.first_date == r.last_date:
                return f"{r.first_date:%Y-%m-%d}"
            return f"{r.first_date:%Y-%m-%d} – {r.last_date:%Y-%m-%d}"

        def decide(r: LeaveRequest) -> Any:
            label = str(states.get(r.status, r.status))
            if exporting(request) or r.status != LeaveRequest.Status.PENDING:
                return f"{label} {r.note}".strip()
            if not administers(scope, r.pupil.school_id):
                return label
            url = reverse("portal:leave-decide", args=[r.pk])
            approve = post_button(
                request, url, _("Approve"), extra={"decision": "approve"}, confirm=_("Approve this leave?")
            )
            reject = reject_with_reason(
                request,
                url,
                label=_("Reject"),
                confirm=_("Reject this leave?"),
                reason_label=_("Why"),
                submit=_("Reject"),
            )
            return cells([approve, reject])

        return (
            (_("Pupil"), lambda r: shown_pupil_name(scope=scope, pupil=r.pupil)),
            (_("Class"), lambda r: f"{r.pupil.grade}-{r.pupil.class_name}"),
            (_("Kind"), lambda r: str(kinds.get(r.kind, r.kind))),
            (_("When"), when),
            (_("Reason"), lambda r: r.reason),
            (_("Asked at"), lambda r: local(r.requested_at)),
            (_("Decision"), decide),
        )

    def select(self, scope: Scope) -> QuerySet[Any]:
        qs = LeaveRequest.objects.select_related("pupil", "session__course_class")
        status = self.request.GET.get("status", "")
        if status in LeaveRequest.Status.values:
            qs = qs.filter(status=status)
        q = self.request.GET.get("q", "").strip()
        if q:
            qs = qs.filter(pupil__name__icontains=q)
        return qs.order_by("-requested_at", "-pk")

    def filters(self) -> list[dict[str, Any]]:
        return [
            {
                "name": "status",
                "label": _("Status"),
                "choices": list(LeaveRequest.Status.choices),
                "value": self.request.GET.get("status", ""),
            }
        ]


class LeaveDecideAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return LeaveRequest.objects.select_related("pupil__school", "session__course_class")

    def fallback(self, obj: Any) -> str:
        return reverse("portal:leave-requests")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        approve = request.POST.get("decision") == "approve"
        leave.leave_decide(
            actor=request.user, leave=obj, approve=approve, note=request.POST.get("reason", ""), now=clock.now()
        )
        return (_("Leave approved.") if approve else _("Leave rejected.")), None


class LeaveWithdrawAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return LeaveRequest.objects.all()

    def fallback(self, obj: Any) -> str:
        return reverse("portal:parent-leave")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        leave.leave_withdraw(actor=request.user, leave=obj, now=clock.now())
        return _("Leave request withdrawn."), None


class LeaveApproverAction(ActionPage):
    """The school's choice of who decides leave for one session."""

    def select(self, scope: Scope) -> QuerySet[Any]:
        from kehou.orgs.models import School

        return School.objects.all()

    def fallback(self, obj: Any) -> str:
        return reverse("portal:leave-requests")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        school = leave.leave_approver_set(
            actor=request.user, school=obj, approver=request.POST.get("approver", ""), now=clock.now()
        )
        message = _("%(school)s: %(who)s decide leave for one session.") % {
            "school": school.name,
            "who": school.get_leave_approver_display(),
        }
        return message, reverse("portal:leave-requests")
