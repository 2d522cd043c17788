"""API of course classes: list, detail, create, change, cancel, waitlist."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from kehou.core import clock
from kehou.core.api import (
    ERRORS,
    NOT_FOUND,
    ActionView,
    ScopedObjectView,
    ScopedReadOnlyViewSet,
    parsed,
    query_int,
)
from kehou.core.scope import Scope

from .. import selectors
from ..models import ClassSession, CourseClass
from ..serializers import (
    ClassCancelResultSerializer,
    ClassCreateSerializer,
    ClassUpdateSerializer,
    CourseClassDetailSerializer,
    CourseClassSerializer,
    ReasonSerializer,
    WaitlistSerializer,
)
from ..services import classes
from ..services.classes import Slot
from .common import _status_filter


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


class _ClassAction(ActionView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return _classes()

    def answer(self, obj: CourseClass, result: Any) -> Response:
        return _class_response(self.scope, obj.pk)


@extend_schema_view(
    post=extend_schema(
        summary="Change a class's capacity, room or introduction",
        description=(
            "A school admin. The capacity never drops below the seats taken (409 `capacity_below_taken`); new "
            "seats go to the head of the waitlist at once. 409 `class_cancelled`."
        ),
        request=ClassUpdateSerializer,
        responses={200: CourseClassDetailSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class ClassUpdateView(_ClassAction):
    body = ClassUpdateSerializer

    def act(self, obj: CourseClass, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        return classes.class_update(actor=actor, course_class=obj, now=now, **values)


@extend_schema_view(
    post=extend_schema(
        summary="Cancel a class: every live place ends and the guardians are told",
        description="A school admin; `reason` is required (`reason_required`); 409 `class_cancelled` the second time.",
        request=ReasonSerializer,
        responses={200: ClassCancelResultSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class ClassCancelView(_ClassAction):
    body = ReasonSerializer

    def act(self, obj: CourseClass, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        return classes.class_cancel(actor=actor, course_class=obj, reason=values["reason"], now=now)

    def answer(self, obj: CourseClass, result: Any) -> Response:
        return Response({"id": obj.pk, "status": obj.status, "enrolments_ended": result})


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
