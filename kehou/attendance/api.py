"""The attendance API: a teacher's sessions, check-in and make-ups, the roll call, substitutes, flagged check-ins."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.request import Request
from rest_framework.response import Response

from kehou.core import clock
from kehou.core.api import (
    ERRORS,
    NOT_FOUND,
    ActionView,
    ScopedListAPIView,
    ScopedObjectView,
    parsed,
    query_bool,
    query_int,
)
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError, NotFound
from kehou.core.scope import Scope
from kehou.enrolment.models import ClassSession
from kehou.people.models import Pupil, TeacherProfile

from . import live, selectors
from .models import COMMENT_TAGS, CheckIn, FollowUp, LeaveRequest
from .serializers import (
    CheckInBody,
    CheckInResult,
    CommentBody,
    CommentSerializer,
    CommentTagSerializer,
    DecideBody,
    FlaggedCheckInSerializer,
    FollowUpHandleBody,
    FollowUpSerializer,
    LeaveBody,
    LeaveDecideBody,
    LeaveSerializer,
    LiveBoardSerializer,
    MakeupBody,
    MarksBody,
    RollCallSerializer,
    StatusSerializer,
    SubstituteBody,
    TeacherSessionSerializer,
)
from .services import checkin, comments, followups, leave, rollcall, substitutes


def _day(text: str | None) -> date:
    if not text:
        return timezone.localdate(clock.now())
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise KehouError(
            _("A date is written YYYY-MM-DD."), code=ErrorCode.INVALID, fields={"date": text[:20]}
        ) from None


@extend_schema(
    summary="The caller's sessions on one day (default: today), as the teacher's timetable shows them",
    parameters=[
        OpenApiParameter("date", OpenApiTypes.DATE, description="YYYY-MM-DD"),
        OpenApiParameter(
            "until", OpenApiTypes.DATE, description="YYYY-MM-DD: the last day of a range (at most 31 days)"
        ),
    ],
    responses={200: TeacherSessionSerializer(many=True), 400: ERRORS},
)
class TeacherSessionListView(ScopedListAPIView):
    serializer_class = TeacherSessionSerializer
    pagination_class = None  # a teacher's day (or week) is short; the whole list, in time order

    def select(self, scope: Scope) -> QuerySet[Any]:
        # the dates first: a bad one is the same 400 for everyone (the schema's, whoever asks)
        first = _day(self.request.query_params.get("date"))
        until = self.request.query_params.get("until")
        last = _day(until) if until else first
        if last < first or (last - first).days > 31:
            raise KehouError(
                _("A range runs forwards over at most 31 days."), code=ErrorCode.INVALID, fields={"until": until}
            )
        teacher = selectors.teacher_profile_of(self.request.user)
        if teacher is None:
            return ClassSession.objects.none()
        return selectors.teacher_sessions(teacher=teacher, first=first, last=last)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        teacher = selectors.teacher_profile_of(request.user)
        now = clock.now()
        cards = [
            selectors.session_card(s, now=now, teacher_id=teacher.pk if teacher else None) for s in self.get_queryset()
        ]
        return Response(TeacherSessionSerializer(cards, many=True).data)


class SessionView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.sessions_with_state()


@extend_schema_view(
    post=extend_schema(
        summary="Check in at a session with the phone's location (one fix; WGS-84 or GCJ-02, converted here)",
        request=CheckInBody,
        responses={201: CheckInResult, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class CheckInView(ActionView):
    body = CheckInBody

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.sessions_with_state()

    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        row = checkin.check_in(
            actor=actor,
            session=obj,
            lat=values["lat"],
            lng=values["lng"],
            accuracy_m=values["accuracy_m"],
            crs=values.get("crs", "wgs84"),
            now=now,
        )
        data = {
            "outcome": row.outcome,
            "distance_m": row.distance_m,
            "radius_m": row.radius_m,
            "accuracy_m": row.accuracy_m,
            "on_time": row.timing == CheckIn.Timing.ON_TIME,
            "timing": row.timing,
            "at": row.at,
        }
        return Response(CheckInResult(data).data, status=201)


@extend_schema_view(
    post=extend_schema(
        summary="Ask for a make-up check-in (补卡) for a flagged or missed check-in, with a reason",
        request=MakeupBody,
        responses={200: FlaggedCheckInSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class MakeupView(ActionView):
    body = MakeupBody

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.sessions_with_state()

    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        row = checkin.makeup_request(actor=actor, session=obj, reason=values["reason"], now=now)
        return FlaggedCheckInSerializer(row).data


@extend_schema_view(
    post=extend_schema(
        summary="The school approves or rejects a make-up check-in (a rejection says why)",
        request=DecideBody,
        responses={200: FlaggedCheckInSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class MakeupDecideView(ActionView):
    body = DecideBody

    def select(self, scope: Scope) -> QuerySet[Any]:
        return CheckIn.objects.select_related("session__course_class__school", "teacher__user")

    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        row = checkin.makeup_decide(
            actor=actor, check_in=obj, approve=values["approve"], note=values.get("note", ""), now=now
        )
        return FlaggedCheckInSerializer(row).data


@extend_schema(
    summary="Flagged check-ins (outside, uncertain, late, missed; not cleared by a make-up) in the caller's scope",
    parameters=[OpenApiParameter("makeup", str, enum=["pending"])],
)
class FlaggedCheckInListView(ScopedListAPIView):
    serializer_class = FlaggedCheckInSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        if self.request.query_params.get("makeup") == "pending":
            return selectors.pending_makeups(scope=scope)
        return selectors.flagged_check_ins(scope=scope)


def roll_call_answer(session: ClassSession, *, scope: Scope, roll_call: Any) -> dict[str, Any]:
    rows = selectors.roll_call_rows(scope=scope, roll_call=roll_call, session=session)
    return {"session": session.pk, "closed": roll_call.closed_at is not None, **roll_call.counts(), "rows": rows}


class RollCallView(SessionView):
    http_method_names = ["get", "post", "options"]  # type: ignore[misc]

    @extend_schema(
        summary="The session's roll call: live counts and one row per pupil with a place that day",
        responses={200: RollCallSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        session = self.get_object()
        roll_call = rollcall.roll_call_open(session=session, now=clock.now())
        return Response(RollCallSerializer(roll_call_answer(session, scope=self.scope, roll_call=roll_call)).data)

    @extend_schema(
        summary="Mark pupils (all or nothing); `all_present` then fills only the rows still unmarked",
        request=MarksBody,
        responses={200: RollCallSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        session = self.get_object()
        values = self.parsed(MarksBody)
        now = clock.now()
        roll_call = rollcall.roll_call_mark(actor=request.user, session=session, marks=values["marks"], now=now)
        if values.get("all_present"):
            roll_call = rollcall.roll_call_all_present(actor=request.user, session=session, now=now)
        return Response(RollCallSerializer(roll_call_answer(session, scope=self.scope, roll_call=roll_call)).data)


@extend_schema(summary="The roll-call statuses in use (built-in and the city's own)")
class StatusListView(ScopedListAPIView):
    serializer_class = StatusSerializer
    pagination_class = None
    dangerously_unscoped = True  # a list of labels, the same for everyone signed in

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        lang = getattr(request, "LANGUAGE_CODE", "zh-hans")
        data = [
            {
                "code": s.code,
                "label": s.label(lang),
                "group": s.group,
                "counts_as_attended": s.counts_as_attended,
                "builtin": s.builtin,
            }
            for s in selectors.statuses()
        ]
        return Response(StatusSerializer(data, many=True).data)


class SubstituteView(SessionView):
    http_method_names = ["post", "delete", "options"]  # type: ignore[misc]

    @extend_schema(
        summary="The school names another of its teachers to run this session (代课)",
        request=SubstituteBody,
        responses={200: TeacherSessionSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        session = self.get_object()
        values = self.parsed(SubstituteBody)
        teacher = TeacherProfile.objects.filter(pk=values["teacher"]).first()
        if teacher is None:
            raise NotFound(_("No such teacher."), fields={"teacher": values["teacher"]})
        now = clock.now()
        substitutes.substitute_name(
            actor=request.user, session=session, teacher=teacher, reason=values.get("reason", ""), now=now
        )
        session = self.get_object()
        return Response(TeacherSessionSerializer(selectors.session_card(session, now=now, teacher_id=None)).data)

    @extend_schema(
        summary="Remove the substitute: the class's teacher runs the session again",
        request=None,
        responses={204: None, 403: ERRORS, 404: NOT_FOUND},
    )
    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        session = self.get_object()
        substitutes.substitute_remove(actor=request.user, session=session, now=clock.now())
        return Response(status=204)


@extend_schema_view(
    get=extend_schema(
        summary="Leave requests in the caller's scope (a guardian: their children's; a school: its pupils')",
        parameters=[OpenApiParameter("status", str, enum=["pending", "approved", "rejected", "withdrawn"])],
    ),
    post=extend_schema(
        summary="A guardian asks leave for a child: one session (`session`) or days (`first_date`, `last_date`)",
        request=LeaveBody,
        responses={201: LeaveSerializer, 400: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    ),
)
class LeaveListView(ScopedListAPIView):
    serializer_class = LeaveSerializer
    http_method_names = ["get", "post", "options"]  # type: ignore[misc]

    def select(self, scope: Scope) -> QuerySet[Any]:
        qs = LeaveRequest.objects.all()
        status = self.request.query_params.get("status")
        if status in LeaveRequest.Status.values:
            qs = qs.filter(status=status)
        return qs.order_by("-requested_at", "-pk")

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        values = parsed(request, LeaveBody)
        pupil = Pupil.objects.filter(pk=values["pupil"]).select_related("school").first()
        if pupil is None:
            raise NotFound(_("Not found."))
        session = None
        if values.get("session"):
            session = selectors.sessions_with_state().filter(pk=values["session"]).first()
            if session is None:
                raise NotFound(_("Not found."))
        row = leave.leave_request(
            actor=request.user,
            pupil=pupil,
            kind=values["kind"],
            reason=values["reason"],
            session=session,
            first_date=values.get("first_date"),
            last_date=values.get("last_date"),
            now=clock.now(),
        )
        return Response(LeaveSerializer(row).data, status=201)


@extend_schema_view(
    post=extend_schema(
        summary="The school (or, for one session, the class's teacher) approves or rejects (with a reason)",
        request=LeaveDecideBody,
        responses={200: LeaveSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class LeaveDecideView(ActionView):
    body = LeaveDecideBody

    def select(self, scope: Scope) -> QuerySet[Any]:
        return LeaveRequest.objects.select_related("pupil__school", "session__course_class")

    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        row = leave.leave_decide(
            actor=actor, leave=obj, approve=values["approve"], note=values.get("note", ""), now=now
        )
        return LeaveSerializer(row).data


@extend_schema_view(
    post=extend_schema(
        summary="The guardian withdraws a request still awaiting a decision",
        request=None,
        responses={200: LeaveSerializer, 404: NOT_FOUND, 409: ERRORS},
    )
)
class LeaveWithdrawView(ActionView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return LeaveRequest.objects.all()

    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        return LeaveSerializer(leave.leave_withdraw(actor=actor, leave=obj, now=now)).data


# --- comments -----------------------------------------------------------------------------------------------------
class SessionCommentsView(SessionView):
    http_method_names = ["get", "post", "options"]  # type: ignore[misc]

    @extend_schema(
        summary="The comments written on this session's pupils (those the caller may see)",
        responses={200: CommentSerializer(many=True), 404: NOT_FOUND},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        session = self.get_object()
        rows = selectors.comments(scope=self.scope).filter(session=session)
        return Response(CommentSerializer(rows, many=True, context={"scope": self.scope}).data)

    @extend_schema(
        summary="The teacher who runs the session comments on a pupil; the pupil's guardians get it live",
        request=CommentBody,
        responses={201: CommentSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        session = self.get_object()
        values = self.parsed(CommentBody)
        row = comments.comment_add(
            actor=request.user,
            session=session,
            pupil_id=values["pupil"],
            text=values["text"],
            tags=values.get("tags") or [],
            now=clock.now(),
        )
        row = selectors.comments(scope=self.scope).get(pk=row.pk)
        return Response(CommentSerializer(row, context={"scope": self.scope}).data, status=201)


@extend_schema(
    summary="Comments in the caller's scope, newest first (a guardian: on their own children)",
    parameters=[OpenApiParameter("pupil", int), OpenApiParameter("session", int)],
)
class CommentListView(ScopedListAPIView):
    serializer_class = CommentSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        return super().get_serializer_context() | {"scope": self.scope}

    def select(self, scope: Scope) -> QuerySet[Any]:
        qs = selectors.comments(scope=None)
        for name in ("pupil", "session"):
            pk = query_int(self.request, name)
            if pk is not None:
                qs = qs.filter(**{f"{name}_id": pk})
        return qs


@extend_schema(summary="The preset tags a comment may carry", responses={200: CommentTagSerializer(many=True)})
class CommentTagListView(ScopedListAPIView):
    serializer_class = CommentTagSerializer
    pagination_class = None
    dangerously_unscoped = True  # a list of labels, the same for everyone signed in

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        zh = getattr(request, "LANGUAGE_CODE", "zh-hans").startswith("zh")
        data = [{"code": c, "label": zh_label if zh else en} for c, (zh_label, en) in COMMENT_TAGS.items()]
        return Response(CommentTagSerializer(data, many=True).data)


# --- the live view of schools and the follow-up queue ---------------------------------------------------------------
@extend_schema(
    summary="The live view of the caller's schools: a day's sessions (default today) with each teacher's check-in "
    "and the roll call's counts, the day's figures, and the open follow-ups",
    parameters=[
        OpenApiParameter("date", OpenApiTypes.DATE, description="YYYY-MM-DD (default: today)"),
        OpenApiParameter("school", int, description="one school"),
        OpenApiParameter("course_class", int, description="one class"),
        OpenApiParameter("teacher", str, description="part of a teacher's name"),
    ],
    responses={200: LiveBoardSerializer, 400: ERRORS},
)
class OperatorLiveView(ScopedObjectView):
    http_method_names: ClassVar[list[str]] = ["get", "options"]  # type: ignore[misc]
    serializer_class = LiveBoardSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return ClassSession.objects.none()  # the board reads through live.live_board, narrowed to the scope there

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        day = _day(request.query_params.get("date"))
        scope = self.scope  # who watches no school (a teacher, a parent) gets an empty board, as lists do
        board = live.live_board(
            scope=scope,
            day=day,
            now=clock.now(),
            school_id=query_int(request, "school"),
            class_id=query_int(request, "course_class"),
            teacher=(request.query_params.get("teacher") or "").strip()[:40],
        )
        return Response(LiveBoardSerializer(board | {"topics": live.board_topics(scope)}).data)


@extend_schema(
    summary="Follow-ups (the exceptions queue) in the caller's scope, newest first",
    parameters=[
        OpenApiParameter("open", bool, description="true: only open ones; false: only resolved ones"),
        OpenApiParameter("level", str, enum=FollowUp.Level.values),
        OpenApiParameter("kind", str, enum=FollowUp.Kind.values),
        OpenApiParameter("school", int),
        OpenApiParameter("date", OpenApiTypes.DATE, description="the sessions of one day"),
    ],
)
class FollowUpListView(ScopedListAPIView):
    serializer_class = FollowUpSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        p = self.request.query_params
        qs = live.follow_ups(scope=scope)
        is_open = query_bool(self.request, "open")
        if is_open is not None:
            qs = qs.filter(resolved_at__isnull=is_open)
        if p.get("level") in FollowUp.Level.values:
            qs = qs.filter(level=p["level"])
        if p.get("kind") in FollowUp.Kind.values:
            qs = qs.filter(kind=p["kind"])
        school = query_int(self.request, "school")
        if school is not None:
            qs = qs.filter(school_id=school)
        if p.get("date"):
            qs = qs.filter(session__date=_day(p["date"]))
        return qs


@extend_schema_view(
    post=extend_schema(
        summary="The school or an authorised operator closes an open follow-up, saying what was done",
        request=FollowUpHandleBody,
        responses={200: FollowUpSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class FollowUpHandleView(ActionView):
    body = FollowUpHandleBody

    def select(self, scope: Scope) -> QuerySet[Any]:
        return FollowUp.objects.select_related("school", "session__course_class", "handled_by")

    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        row = followups.followup_handle(actor=actor, follow_up=obj, note=values.get("note", ""), now=now)
        return FollowUpSerializer(row).data
