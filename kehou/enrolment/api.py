"""API of course classes, selection windows, the parents' selection, waivers, lottery draws, notifications and the
care fee standards.

Every read goes through :class:`~kehou.core.api.ScopeGuard` (``select(scope)``; a row outside the caller's scope is
the same 404 as a missing one); action views fetch their row through the scope before they read the body; every
write is one service call (``services.classes``, ``windows``, ``selection``, ``waivers``) whose error codes are the
services'. ``POST /enrolments/`` is the hot path of the selection rush: it builds no scope and reads nothing itself
(the service checks guardianship with the same query that finds the child).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from kehou.core import clock
from kehou.core.api import (
    ERRORS,
    NOT_FOUND,
    ScopedListAPIView,
    ScopedObjectView,
    ScopedReadOnlyViewSet,
    ScopeGuard,
    parsed,
    query_int,
    request_key,
)
from kehou.core.scope import Scope
from kehou.notify.services import mark_read
from kehou.orgs.models import Region
from kehou.people.models import Pupil

from . import selectors
from .models import ClassSession, CourseClass, Enrolment, HardshipWaiver, LotteryDraw, SelectionWindow
from .serializers import (
    CareStandardInputSerializer,
    CareStandardSerializer,
    ChildClassesSerializer,
    ChildSerializer,
    ClassCancelResultSerializer,
    ClassCreateSerializer,
    ClassUpdateSerializer,
    CourseClassDetailSerializer,
    CourseClassSerializer,
    DrawResultSerializer,
    DrawSerializer,
    EmptySerializer,
    EnrolmentSerializer,
    NotificationReadResultSerializer,
    NotificationReadSerializer,
    NotificationSerializer,
    ReasonSerializer,
    SelectionResultSerializer,
    SelectSerializer,
    StaggerResultSerializer,
    StaggerSerializer,
    WaitlistSerializer,
    WaiverCreateSerializer,
    WaiverDecideSerializer,
    WaiverSerializer,
    WindowCreateSerializer,
    WindowSerializer,
    WindowUpdateSerializer,
    local_time,
    offered_class,
)
from .services import classes, selection, waivers, windows
from .services.classes import Slot


def _status_filter(request: Request, choices: Any) -> str:
    """A status filter: one of the choices, or no filter."""
    value = request.query_params.get("status", "").strip()
    return value if value in choices.values else ""


# --- classes -----------------------------------------------------------------------------------------------------
def _class_response(scope: Scope, pk: int, status_code: int = 200) -> Response:
    fresh = selectors.class_list(scope=scope).filter(pk=pk).prefetch_related("slots", "sessions").get()
    return Response(CourseClassDetailSerializer(fresh).data, status=status_code)


@extend_schema_view(
    list=extend_schema(
        summary="Course classes in the caller's scope, with seat counts",
        description=(
            "`seats` is the capacity, `taken` the seats held or confirmed (`held` + `confirmed`), `waiting` the "
            "waitlist, `applied` the lottery applications not yet drawn. `flagged=1` keeps only courses whose "
            "library entry has been suspended or withdrawn (at the school's level or upstream)."
        ),
        parameters=[
            OpenApiParameter("school", int, description="school id"),
            OpenApiParameter("district", str, description="district code"),
            OpenApiParameter("term", int, description="term id"),
            OpenApiParameter("grade", int, description="classes open to this grade"),
            OpenApiParameter("kind", str, enum=CourseClass.Kind.values),
            OpenApiParameter("status", str, enum=CourseClass.Status.values),
            OpenApiParameter("teacher", int, description="teacher id"),
            OpenApiParameter("search", str, description="class or teacher name contains"),
            OpenApiParameter("flagged", str, enum=["1"]),
        ],
    ),
    retrieve=extend_schema(summary="One class with its weekly slots and dated sessions"),
)
class CourseClassViewSet(ScopedReadOnlyViewSet):
    def get_serializer_class(self) -> type[Any]:
        return CourseClassDetailSerializer if self.action == "retrieve" else CourseClassSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        if self.action == "retrieve":
            sessions = Prefetch("sessions", queryset=ClassSession.objects.order_by("number"))
            return selectors.class_list(scope=scope).prefetch_related("slots", sessions)
        p = self.request.query_params
        return selectors.class_list(
            scope=scope,
            school_id=query_int(self.request, "school"),
            district_code=p.get("district", "").strip(),
            term_id=query_int(self.request, "term"),
            grade=query_int(self.request, "grade"),
            kind=p.get("kind", "").strip(),
            status=_status_filter(self.request, CourseClass.Status),
            teacher_id=query_int(self.request, "teacher"),
            search=p.get("search", "").strip(),
            flagged=p.get("flagged", "") == "1",
        )

    @extend_schema(
        summary="Create a course class (or basic care) from the school library",
        description=(
            "A school admin of `school`. A course names its school-library `entry` and is priced per class hour "
            "within the fee standard; basic care is `kind=care` with `pricing` `day` or `month` within the care "
            "standard. Sessions are generated from the term calendar (holidays skipped, make-up days added) from "
            "`first_date` on; `fee_fen` = price × sessions (× days / months for care). Codes: `entry_not_found`, "
            "`entry_not_course`, 409 `entry_not_usable`, `fee_out_of_standard`, `care_pricing`, `no_care_standard`, "
            "`grades_out_of_range`, `no_slots`, `slot_weekday`, `slot_length`, `slot_overlap`, "
            "`teacher_not_at_school`, `teacher_not_in_library`, 409 `teacher_clash`, `no_sessions`, "
            "`first_date_out_of_term`, `unknown_term`, `unknown_teacher`; 403 `not_school_admin` for the bureaus."
        ),
        request=ClassCreateSerializer,
        responses={201: CourseClassDetailSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        v = parsed(request, ClassCreateSerializer)
        scope = self.scope
        refs = selectors.class_refs(
            scope=scope, school_id=v["school"], term_id=v["term"], teacher_id=v["teacher"], entry_id=v["entry"]
        )
        created = classes.class_create(
            actor=request.user,
            school=refs.school,
            term=refs.term,
            teacher=refs.teacher,
            entry=refs.entry,
            kind=v["kind"],
            pricing=v["pricing"],
            name=v["name"],
            introduction=v["introduction"],
            room=v["room"],
            capacity=v["capacity"],
            grade_min=v["grade_min"],
            grade_max=v["grade_max"],
            unit_price_fen=v["unit_price_fen"],
            slots=[Slot(s["weekday"], s["starts_at"], s["ends_at"]) for s in v["slots"]],
            materials_name=v["materials_name"],
            materials_fee_fen=v["materials_fee_fen"],
            first_date=v["first_date"],
            now=clock.now(),
        )
        return _class_response(scope, created.pk, status.HTTP_201_CREATED)


def _classes() -> QuerySet[CourseClass]:
    return CourseClass.objects.select_related("school", "school__district")


class ClassUpdateView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return _classes()

    @extend_schema(
        summary="Change a class's capacity, room or introduction",
        description=(
            "A school admin. The capacity never drops below the seats taken (409 `capacity_below_taken`); new "
            "seats go to the head of the waitlist at once. 409 `class_cancelled`."
        ),
        request=ClassUpdateSerializer,
        responses={200: CourseClassDetailSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        course_class = self.get_object()
        v = self.parsed(ClassUpdateSerializer)
        classes.class_update(actor=request.user, course_class=course_class, now=clock.now(), **v)
        return _class_response(self.scope, course_class.pk)


class ClassCancelView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return _classes()

    @extend_schema(
        summary="Cancel a class: every live place ends and the guardians are told",
        description="A school admin; `reason` is required (`reason_required`); 409 `class_cancelled` the second time.",
        request=ReasonSerializer,
        responses={200: ClassCancelResultSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        course_class = self.get_object()
        v = self.parsed(ReasonSerializer)
        ended = classes.class_cancel(actor=request.user, course_class=course_class, reason=v["reason"], now=clock.now())
        return Response({"id": course_class.pk, "status": course_class.status, "enrolments_ended": ended})


class ClassWaitlistView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return CourseClass.objects.all()

    @extend_schema(
        summary="A class's waitlist, in order",
        description=(
            "Position 1 gets the next seat that frees. Pupils' names are shown in full to the pupil's school, its "
            "guardians and the class's teacher; masked (`张**`) for everyone else who may see the class."
        ),
        responses={200: WaitlistSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        course_class = self.get_object()
        scope = self.scope
        rows = [
            {
                "position": i,
                "enrolment": e.pk,
                "pupil": {
                    "id": e.pupil_id,
                    "name": selectors.shown_pupil_name(scope=scope, pupil=e.pupil, teacher_id=course_class.teacher_id),
                },
                "queued_at": e.queued_at,
                "wait_rank": e.wait_rank,
            }
            for i, e in enumerate(selectors.waitlist(course_class=course_class), start=1)
        ]
        body = {
            "course_class": course_class.pk,
            "capacity": course_class.capacity,
            "taken": course_class.taken,
            "waiting": len(rows),
            "results": rows,
        }
        return Response(WaitlistSerializer(body).data)


# --- windows -----------------------------------------------------------------------------------------------------
def _window_response(scope: Scope, pk: int, status_code: int = 200) -> Response:
    fresh = selectors.window_list(scope=scope).filter(pk=pk).get()
    return Response(WindowSerializer(fresh, context={"now": clock.now()}).data, status=status_code)


@extend_schema_view(
    list=extend_schema(
        summary="Selection windows in the caller's scope, with their state and countdown",
        description=(
            "`state` is `upcoming`, `open` or `closed` by the clock; `seconds_to_open` / `seconds_to_close` count "
            "down to the next edge (0 once passed). A window is open from `opens_at` (inclusive) to `closes_at` "
            "(exclusive). Parents see the windows of their children's schools."
        ),
        parameters=[
            OpenApiParameter("school", int, description="school id"),
            OpenApiParameter("district", str, description="district code"),
            OpenApiParameter("term", int, description="term id"),
            OpenApiParameter("grade", int),
            OpenApiParameter("status", str, enum=SelectionWindow.Status.values),
        ],
    ),
    retrieve=extend_schema(summary="One selection window with its state and countdown"),
)
class WindowViewSet(ScopedReadOnlyViewSet):
    serializer_class = WindowSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        p = self.request.query_params
        return selectors.window_list(
            scope=scope,
            school_id=query_int(self.request, "school"),
            district_code=p.get("district", "").strip(),
            term_id=query_int(self.request, "term"),
            grade=query_int(self.request, "grade"),
            status=_status_filter(self.request, SelectionWindow.Status),
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return super().get_serializer_context() | {"now": clock.now()}

    @extend_schema(
        summary="Set a selection window for one grade of a school",
        description=(
            "A school admin. `mode` `first_come` or `lottery` (oversubscribed classes drawn at close); "
            "`max_classes` a child may hold (1–10); `hold_minutes` a seat is held while paying (1–120). Published at "
            "once with `publish: true`, else a draft. Codes: `grade_out_of_range`, `window_dates`, "
            "`window_too_long`, `window_in_past`, `invalid_mode`, 409 `window_overlap`, `unknown_term`."
        ),
        request=WindowCreateSerializer,
        responses={201: WindowSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        v = parsed(request, WindowCreateSerializer)
        scope = self.scope
        school = selectors.school_in_scope(scope=scope, school_id=v.pop("school"))
        term = selectors.term_named(term_id=v.pop("term"))
        window = windows.window_create(actor=request.user, school=school, term=term, now=clock.now(), **v)
        return _window_response(scope, window.pk, status.HTTP_201_CREATED)


def _windows() -> QuerySet[SelectionWindow]:
    return SelectionWindow.objects.select_related("school", "school__district", "term")


class WindowUpdateView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return _windows()

    @extend_schema(
        summary="Change a window's times or rules",
        description=(
            "Until it opens, anything; once open, only a later `closes_at` (409 `window_started`). 409 "
            "`window_cancelled`, `lottery_drawn`, `window_overlap`; the checks of creating a window."
        ),
        request=WindowUpdateSerializer,
        responses={200: WindowSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        window = self.get_object()
        v = self.parsed(WindowUpdateSerializer)
        windows.window_update(actor=request.user, window=window, now=clock.now(), **v)
        return _window_response(self.scope, window.pk)


class WindowPublishView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return _windows()

    @extend_schema(
        summary="Publish a draft window (parents see it with a countdown)",
        description="409 `window_status` unless it is a draft; `window_in_past`.",
        request=EmptySerializer,
        responses={200: WindowSerializer, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        window = self.get_object()
        self.parsed(EmptySerializer)
        windows.window_publish(actor=request.user, window=window, now=clock.now())
        return _window_response(self.scope, window.pk)


class WindowCancelView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return _windows()

    @extend_schema(
        summary="Call a window off",
        description=(
            "Until it opens, or once open while nobody has selected in it (409 `window_has_selections`); 409 "
            "`window_status` when already cancelled."
        ),
        request=EmptySerializer,
        responses={200: WindowSerializer, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        window = self.get_object()
        self.parsed(EmptySerializer)
        windows.window_cancel(actor=request.user, window=window, now=clock.now())
        return _window_response(self.scope, window.pk)


class WindowDrawView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return _windows()

    @extend_schema(
        summary="Draw a closed lottery window now",
        description=(
            "A school admin (the periodic `manage.py tick` also draws closed windows by itself). Each "
            "oversubscribed class is drawn with a fresh recorded seed; winners get a hold, the rest wait in drawn "
            "order; guardians are told. `not_lottery`; 409 `window_still_open`, `lottery_drawn`."
        ),
        request=EmptySerializer,
        responses={200: DrawResultSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        window = self.get_object()
        self.parsed(EmptySerializer)
        drawn = selection.lottery_draw(window=window, now=clock.now(), actor=request.user)
        ids = list(LotteryDraw.objects.filter(window=window).order_by("pk").values_list("pk", flat=True))
        return Response({"window": window.pk, "drawn": drawn, "draws": ids})


class DistrictStaggerView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return Region.objects.exclude(kind=Region.Kind.CITY)

    @extend_schema(
        summary="Stagger the selection windows of a district's schools",
        description=(
            "The district bureau publishes a window for every grade of every joined school, each school opening "
            "`step_minutes` after the one before (in school-code order), each open `length_minutes`. A grade that "
            "already has an overlapping window is skipped. `invalid_step`, `invalid_length`, `window_in_past`, "
            "`unknown_term`; 403 `not_district_admin` for the city bureau."
        ),
        request=StaggerSerializer,
        responses={201: StaggerResultSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        district = self.get_object()
        v = self.parsed(StaggerSerializer)
        term = selectors.term_named(term_id=v.pop("term"))
        result = windows.windows_stagger(actor=request.user, district=district, term=term, now=clock.now(), **v)
        body = {
            "created": result.created,
            "skipped": result.skipped,
            "schools": result.schools,
            "last_opens_at": timezone.localtime(result.last_opens_at),
        }
        return Response(StaggerResultSerializer(body).data, status=status.HTTP_201_CREATED)


# --- the parent's flow -------------------------------------------------------------------------------------------
class ChildListView(ScopedListAPIView):
    pagination_class = None
    serializer_class = ChildSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.children_of(self.request.user).order_by("birth_date", "pk")

    @extend_schema(
        summary="The caller's children, each with the selection windows of its grade",
        description="Open and upcoming windows, and those closed in the last week (lottery results stay visible).",
        responses={200: ChildSerializer(many=True)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        now = clock.now()
        rows = []
        for pupil in self.get_queryset():
            views = selectors.windows_for_pupil(pupil=pupil, now=now)
            rows.append(
                {
                    "id": pupil.pk,
                    "name": pupil.name,
                    "grade": pupil.grade,
                    "class_name": pupil.class_name,
                    "school": {"id": pupil.school_id, "code": pupil.school.code, "name": pupil.school.name},
                    "windows": WindowSerializer([v.window for v in views], many=True, context={"now": now}).data,
                }
            )
        return Response(rows)


class ChildClassesView(ScopedObjectView):
    lookup_url_kwarg = "pupil_id"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return Pupil.objects.select_related("school")

    @extend_schema(
        summary="The classes open to a child, with seats left and the child's own place",
        description=(
            "The active classes of the child's school for the child's grade whose course is still usable: course, "
            "introduction, teacher, weekly slots, price, fee (0 under an approved hardship waiver), seats left, and "
            "the child's live place in each (`held` with its expiry, `waiting` with its position, …). A parent "
            "opens their own children; the school and the bureaus may open the pupils they see."
        ),
        parameters=[OpenApiParameter("term", int, description="term id")],
        responses={200: ChildClassesSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        pupil = self.get_object()
        now = clock.now()
        offers = selectors.classes_for_pupil(pupil=pupil, term_id=query_int(request, "term"))
        waived = selectors.waived_terms(pupil=pupil)
        views = selectors.windows_for_pupil(pupil=pupil, now=now)
        body = {
            "pupil": {"id": pupil.pk, "name": pupil.name},
            "windows": WindowSerializer([v.window for v in views], many=True, context={"now": now}).data,
            "classes": [offered_class(o, waived) for o in offers],
        }
        return Response(body)


@extend_schema_view(
    list=extend_schema(
        summary="Places (enrolments) in the caller's scope",
        description=(
            "A parent sees their children's; the school its own; a teacher their classes'. Waiting places carry "
            "their waitlist `position`. Pupil names are masked for the bureaus and operators."
        ),
        parameters=[
            OpenApiParameter("class", int, description="class id"),
            OpenApiParameter("school", int, description="school id"),
            OpenApiParameter("pupil", int, description="pupil id"),
            OpenApiParameter("status", str, enum=Enrolment.Status.values),
            OpenApiParameter("search", str, description="pupil or class name contains"),
        ],
    ),
    retrieve=extend_schema(summary="One place"),
)
class EnrolmentViewSet(ScopedReadOnlyViewSet):
    serializer_class = EnrolmentSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        p = self.request.query_params
        return selectors.enrolment_list(
            scope=scope,
            class_id=query_int(self.request, "class"),
            school_id=query_int(self.request, "school"),
            pupil_id=query_int(self.request, "pupil"),
            status=_status_filter(self.request, Enrolment.Status),
            search=p.get("search", "").strip(),
        ).select_related("course_class__teacher")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.get_queryset()
        page = self.paginate_queryset(queryset)
        rows = list(queryset) if page is None else page
        context = {"scope": self.scope, "positions": selectors.waitlist_positions(rows)}
        data = EnrolmentSerializer(rows, many=True, context=context).data
        return Response(data) if page is None else self.get_paginated_response(data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        enrolment = self.get_object()
        context = {"scope": self.scope, "positions": selectors.waitlist_positions([enrolment])}
        return Response(EnrolmentSerializer(enrolment, context=context).data)

    @extend_schema(
        summary="Select a class for a child (the selection rush)",
        description=(
            "A guardian selects for their child. Send a client-made key of 8–64 letters, digits or `-_.:` in the "
            "`Idempotency-Key` header (or as `request_key` in the body): the same key again answers 200 with the "
            "first answer's place and writes nothing (`request_key_reused` with 409 if it named another selection). "
            "First come: a seat held for the window's hold time (`held`, pay before `hold_expires_at`; `confirmed` "
            "at once when the fee is 0), or with `join_waitlist` a waitlist place when full (`waiting`, with "
            "`position`). Lottery window: an application (`applied`), drawn at close. Codes: 409 `class_full` "
            "(`fields.waiting` says how many wait), `window_closed`, `time_clash`, `too_many_classes`, "
            "`already_selected`, `course_suspended`, `request_key_reused`; 400 `request_key_required`, "
            "`request_key_invalid`, `request_key_mismatch`, `grade_not_eligible`; 404 for a child that is not the "
            "caller's or a class not offered at the child's school (`class_not_found`)."
        ),
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="8–64 of A–Z a–z 0–9 - _ . : (required here or as `request_key`)",
            )
        ],
        request=SelectSerializer,
        responses={
            201: SelectionResultSerializer,
            200: OpenApiResponse(SelectionResultSerializer, description="a retry: the first answer's place"),
            400: ERRORS,
            404: NOT_FOUND,
            409: ERRORS,
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # The hot path: no scope, no reads of its own; the service finds the child through its guardians.
        body = SelectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        v = body.validated_data
        key = request_key(request, v.get("request_key", ""))
        result = selection.enrolment_select(
            actor=request.user,
            pupil_id=v["pupil"],
            class_id=v["course_class"],
            request_key=key,
            join_waitlist=v["join_waitlist"],
            now=clock.now(),
        )
        e = result.enrolment
        answer = {
            "id": e.pk,
            "status": e.status,
            "pupil": e.pupil_id,
            "course_class": e.course_class_id,
            "fee_fen": e.fee_fen,
            "hold_expires_at": local_time(e.hold_expires_at),
            "position": result.position,
            "created": result.created,
        }
        return Response(answer, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class EnrolmentCancelView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return Enrolment.objects.select_related("course_class", "course_class__school", "pupil")

    @extend_schema(
        summary="Cancel a place (application, waitlist place, hold or confirmed seat)",
        description=(
            "A guardian of the child, or the school. A freed seat goes to the head of the waitlist at once. "
            "Cancelling twice answers the cancelled place; 409 `enrolment_ended` for an expired one; 403 "
            "`not_guardian` for others who may see the place (a teacher, a bureau)."
        ),
        request=ReasonSerializer,
        responses={200: EnrolmentSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        enrolment = self.get_object()
        v = self.parsed(ReasonSerializer)
        selection.enrolment_cancel(actor=request.user, enrolment=enrolment, reason=v["reason"], now=clock.now())
        scope = self.scope
        fresh = selectors.enrolment_list(scope=scope).select_related("course_class__teacher").get(pk=enrolment.pk)
        context = {"scope": scope, "positions": {}}
        return Response(EnrolmentSerializer(fresh, context=context).data)


# --- waivers -----------------------------------------------------------------------------------------------------
@extend_schema_view(
    list=extend_schema(
        summary="Hardship fee waivers in the caller's scope",
        description="Pupil names are masked for the district bureau and the city.",
        parameters=[
            OpenApiParameter("school", int, description="school id"),
            OpenApiParameter("term", int, description="term id"),
            OpenApiParameter("status", str, enum=HardshipWaiver.Status.values),
        ],
    ),
    retrieve=extend_schema(summary="One hardship waiver"),
)
class WaiverViewSet(ScopedReadOnlyViewSet):
    serializer_class = WaiverSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.waiver_list(
            scope=scope,
            school_id=query_int(self.request, "school"),
            term_id=query_int(self.request, "term"),
            status=_status_filter(self.request, HardshipWaiver.Status),
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return super().get_serializer_context() | {"scope": self.scope}

    @extend_schema(
        summary="Mark a pupil as from a family in hardship for a term (awaits a second person's approval)",
        description=(
            "A school admin of the pupil's school; approved by another admin of the school or the district bureau. "
            "An approved pupil selects at zero fee. `reason_required`, `unknown_term`; 409 `waiver_exists`."
        ),
        request=WaiverCreateSerializer,
        responses={201: WaiverSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        v = parsed(request, WaiverCreateSerializer)
        scope = self.scope
        pupil = selectors.pupil_in_scope(scope=scope, pupil_id=v["pupil"])
        term = selectors.term_named(term_id=v["term"])
        waiver = waivers.waiver_request(actor=request.user, pupil=pupil, term=term, reason=v["reason"], now=clock.now())
        return _waiver_response(scope, waiver.pk, status.HTTP_201_CREATED)


def _waiver_response(scope: Scope, pk: int, status_code: int = 200) -> Response:
    fresh = selectors.waiver_list(scope=scope).get(pk=pk)
    return Response(WaiverSerializer(fresh, context={"scope": scope}).data, status=status_code)


def _waivers() -> QuerySet[HardshipWaiver]:
    return HardshipWaiver.objects.select_related("pupil", "pupil__school", "pupil__school__district")


class WaiverDecideView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return _waivers()

    @extend_schema(
        summary="Approve or reject a pending waiver",
        description=(
            "Another admin of the school, or the district bureau; never the person who marked the pupil (403 "
            "`four_eyes`). 409 `waiver_decided` the second time."
        ),
        request=WaiverDecideSerializer,
        responses={200: WaiverSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        waiver = self.get_object()
        v = self.parsed(WaiverDecideSerializer)
        waivers.waiver_decide(actor=request.user, waiver=waiver, approve=v["approve"], now=clock.now())
        return _waiver_response(self.scope, waiver.pk)


class WaiverRevokeView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return _waivers()

    @extend_schema(
        summary="Revoke an approved waiver (for future selections; seats already taken keep their fee)",
        description="A school admin; 409 `waiver_not_approved`.",
        request=EmptySerializer,
        responses={200: WaiverSerializer, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        waiver = self.get_object()
        self.parsed(EmptySerializer)
        waivers.waiver_revoke(actor=request.user, waiver=waiver, now=clock.now())
        return _waiver_response(self.scope, waiver.pk)


# --- lottery draws -----------------------------------------------------------------------------------------------
@extend_schema_view(
    list=extend_schema(
        summary="Lottery draws in the caller's scope",
        description=(
            "Each oversubscribed class of a lottery window is drawn once, with a recorded seed: applicants (pupil "
            'ids) ordered by sha256("<seed>:<pupil id>"). `verified` re-runs the draw and says whether it '
            "reproduces the stored order."
        ),
        parameters=[
            OpenApiParameter("window", int, description="window id"),
            OpenApiParameter("school", int, description="school id"),
        ],
    ),
    retrieve=extend_schema(summary="One lottery draw: seed, applicants, order, winners and whether it verifies"),
)
class LotteryDrawViewSet(ScopedReadOnlyViewSet):
    serializer_class = DrawSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.draw_list(
            scope=scope, window_id=query_int(self.request, "window"), school_id=query_int(self.request, "school")
        )


# --- notifications -----------------------------------------------------------------------------------------------
@extend_schema(
    summary="The caller's own notifications, newest first",
    parameters=[OpenApiParameter("unread", str, enum=["1"])],
)
class NotificationListView(ScopedListAPIView):
    serializer_class = NotificationSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.notification_list(
            user=self.request.user, unread=self.request.query_params.get("unread") == "1"
        )


class NotificationReadView(ScopeGuard, generics.GenericAPIView):  # type: ignore[type-arg]
    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.notification_list(user=self.request.user)

    @extend_schema(
        summary="Mark the caller's notifications read (the ones named, or all)",
        request=NotificationReadSerializer,
        responses={200: NotificationReadResultSerializer, 400: ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        v = parsed(request, NotificationReadSerializer)
        marked = mark_read(user=request.user, ids=v.get("ids"), now=clock.now())
        return Response({"marked": marked})


# --- care fee standards ------------------------------------------------------------------------------------------
class CareStandardListView(ScopeGuard, generics.ListAPIView):  # type: ignore[type-arg]
    serializer_class = CareStandardSerializer
    pagination_class = None

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.care_standards(scope=scope)

    @extend_schema(
        summary="Care fee standards: the highest fee of basic after-school care per day and per month",
        description="The city's and the viewer's own districts' (the city bureau: all). Integer fen.",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Set a care fee standard",
        description=(
            "The city bureau for the city (the default for it), a district bureau for its own district (the default "
            "for it), only stricter than the city's (`standard_looser_than_city`). `unknown_region`, "
            "`region_required`; 403 for others who may see the region."
        ),
        request=CareStandardInputSerializer,
        responses={200: CareStandardSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        v = parsed(request, CareStandardInputSerializer)
        region = selectors.care_region_named(scope=self.scope, code=v.get("region"))
        standard = classes.care_standard_set(
            actor=request.user,
            region=region,
            max_per_day_fen=v["max_per_day_fen"],
            max_per_month_fen=v["max_per_month_fen"],
            now=clock.now(),
        )
        return Response(CareStandardSerializer(standard).data)
