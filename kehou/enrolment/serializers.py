"""Serializers of the classes, windows, selection and waivers API. Inputs are strict (unknown fields refused,
numbers must be JSON integers, flags JSON booleans) and only check shapes and types; every rule lives in the
services. Outputs render what the selectors read; the scope (for masking) and ``now`` come in the context."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kehou.core.serializers import NamedRefSerializer as RefSerializer
from kehou.core.serializers import (
    SchoolRefSerializer,
    StrictBooleanField,
    StrictIntegerField,
    StrictSerializer,
    local_time,
)

from . import selectors
from .models import (
    CareFeeStandard,
    ClassSession,
    ClassSlot,
    CourseClass,
    Enrolment,
    HardshipWaiver,
    LotteryDraw,
    SelectionWindow,
)
from .services.lottery import lottery_replay

MAX_FEN = 2**31 - 1


def _values(choices: Any) -> str:
    return ", ".join(f"`{v}`" for v in choices.values)


# --- references --------------------------------------------------------------------------------------------------
def _school(school: Any) -> dict[str, Any]:
    return {"id": school.pk, "code": school.code, "name": school.name}


# --- classes -----------------------------------------------------------------------------------------------------
class SlotSerializer(serializers.ModelSerializer[ClassSlot]):
    class Meta:
        model = ClassSlot
        fields = ["weekday", "starts_at", "ends_at"]


class SessionSerializer(serializers.ModelSerializer[ClassSession]):
    class Meta:
        model = ClassSession
        fields = ["number", "date", "starts_at", "ends_at"]


class CourseClassSerializer(serializers.ModelSerializer[CourseClass]):
    school = serializers.SerializerMethodField()
    term = serializers.SerializerMethodField()
    teacher = serializers.SerializerMethodField()
    kind = serializers.CharField(help_text=_values(CourseClass.Kind))
    pricing = serializers.CharField(help_text=_values(CourseClass.Pricing))
    status = serializers.CharField(help_text=_values(CourseClass.Status))
    course = serializers.SerializerMethodField(help_text="the library course's name (null for basic care)")
    seats = serializers.IntegerField(source="capacity", help_text="the capacity")
    seats_left = serializers.IntegerField()
    held = serializers.IntegerField(source="held_count", help_text="seats held, awaiting payment")
    confirmed = serializers.IntegerField(source="confirmed_count")
    waiting = serializers.IntegerField(source="waiting_count", help_text="on the waitlist")
    applied = serializers.IntegerField(source="applied_count", help_text="lottery applications not yet drawn")
    flagged = serializers.SerializerMethodField(
        help_text="true when the course's library entry is suspended or withdrawn (here or upstream)"
    )

    class Meta:
        model = CourseClass
        fields = [
            "id",
            "name",
            "kind",
            "status",
            "school",
            "term",
            "course",
            "entry",
            "teacher",
            "room",
            "grade_min",
            "grade_max",
            "seats",
            "taken",
            "held",
            "confirmed",
            "waiting",
            "applied",
            "seats_left",
            "pricing",
            "unit_price_fen",
            "session_count",
            "fee_fen",
            "materials_name",
            "materials_fee_fen",
            "flagged",
            "created_at",
        ]

    @extend_schema_field(SchoolRefSerializer)
    def get_school(self, obj: CourseClass) -> dict[str, Any]:
        return _school(obj.school)

    @extend_schema_field(RefSerializer)
    def get_term(self, obj: CourseClass) -> dict[str, Any]:
        return {"id": obj.term_id, "name": obj.term.name}

    @extend_schema_field(RefSerializer)
    def get_teacher(self, obj: CourseClass) -> dict[str, Any]:
        return {"id": obj.teacher_id, "name": obj.teacher.user.full_name}

    def get_course(self, obj: CourseClass) -> str | None:
        return obj.entry.item.name if obj.entry is not None else None

    def get_flagged(self, obj: CourseClass) -> bool:
        return obj.kind == CourseClass.Kind.COURSE and not getattr(obj, "entry_usable", True)


class CourseClassDetailSerializer(CourseClassSerializer):
    slots = SlotSerializer(many=True, read_only=True)
    sessions = SessionSerializer(many=True, read_only=True)

    class Meta(CourseClassSerializer.Meta):
        fields = [*CourseClassSerializer.Meta.fields, "introduction", "slots", "sessions"]


class SlotInputSerializer(StrictSerializer):
    weekday = StrictIntegerField(min_value=0, max_value=6, help_text="0 = Monday … 4 = Friday")
    starts_at = serializers.TimeField(help_text="HH:MM")
    ends_at = serializers.TimeField(help_text="HH:MM")


class ClassCreateSerializer(StrictSerializer):
    school = StrictIntegerField(min_value=1)
    term = StrictIntegerField(min_value=1)
    kind = serializers.CharField(
        required=False, default=CourseClass.Kind.COURSE, help_text=f"{_values(CourseClass.Kind)} (default `course`)"
    )
    entry = StrictIntegerField(
        min_value=1, required=False, allow_null=True, default=None, help_text="school library entry (a course)"
    )
    pricing = serializers.CharField(
        required=False, allow_null=True, default=None, help_text="care only: `day` or `month` (a course is `hour`)"
    )
    name = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    introduction = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    teacher = StrictIntegerField(min_value=1)
    room = serializers.CharField(max_length=40)
    capacity = StrictIntegerField(min_value=1, max_value=500)
    grade_min = StrictIntegerField(min_value=1, max_value=9)
    grade_max = StrictIntegerField(min_value=1, max_value=9)
    unit_price_fen = StrictIntegerField(
        min_value=0, max_value=MAX_FEN, help_text="per class hour (course) or per day / month (care), integer fen"
    )
    slots = SlotInputSerializer(many=True)
    materials_name = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    materials_fee_fen = StrictIntegerField(min_value=0, max_value=MAX_FEN, required=False, default=0)
    first_date = serializers.DateField(required=False, allow_null=True, default=None)


class ClassUpdateSerializer(StrictSerializer):
    capacity = StrictIntegerField(min_value=1, max_value=500, required=False)
    room = serializers.CharField(max_length=40, required=False)
    introduction = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ClassCancelResultSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    status = serializers.CharField()
    enrolments_ended = serializers.IntegerField()


class WaitlistEntrySerializer(serializers.Serializer[Any]):
    position = serializers.IntegerField(help_text="1 = next to get a seat")
    enrolment = serializers.IntegerField()
    pupil = RefSerializer(help_text="the name masked unless the caller is the pupil's school, guardian or teacher")
    queued_at = serializers.DateTimeField()
    wait_rank = serializers.IntegerField(allow_null=True, help_text="the drawn rank of a lottery loser")


class WaitlistSerializer(serializers.Serializer[Any]):
    course_class = serializers.IntegerField()
    capacity = serializers.IntegerField()
    taken = serializers.IntegerField()
    waiting = serializers.IntegerField()
    results = WaitlistEntrySerializer(many=True)


# --- windows -----------------------------------------------------------------------------------------------------
class WindowSerializer(serializers.ModelSerializer[SelectionWindow]):
    school = serializers.SerializerMethodField()
    term = serializers.SerializerMethodField()
    mode = serializers.CharField(help_text=_values(SelectionWindow.Mode))
    status = serializers.CharField(help_text=_values(SelectionWindow.Status))
    state = serializers.SerializerMethodField(help_text="`upcoming`, `open` or `closed` (by the clock)")
    seconds_to_open = serializers.SerializerMethodField()
    seconds_to_close = serializers.SerializerMethodField()
    enrolment_count = serializers.SerializerMethodField()

    class Meta:
        model = SelectionWindow
        fields = [
            "id",
            "school",
            "term",
            "grade",
            "opens_at",
            "closes_at",
            "mode",
            "max_classes",
            "hold_minutes",
            "status",
            "state",
            "seconds_to_open",
            "seconds_to_close",
            "drawn_at",
            "enrolment_count",
        ]

    def _view(self, obj: SelectionWindow) -> selectors.WindowView:
        return selectors.window_state(obj, self.context["now"])

    @extend_schema_field(SchoolRefSerializer)
    def get_school(self, obj: SelectionWindow) -> dict[str, Any]:
        return _school(obj.school)

    @extend_schema_field(RefSerializer)
    def get_term(self, obj: SelectionWindow) -> dict[str, Any]:
        return {"id": obj.term_id, "name": obj.term.name}

    def get_state(self, obj: SelectionWindow) -> str:
        return self._view(obj).state

    def get_seconds_to_open(self, obj: SelectionWindow) -> int:
        return self._view(obj).seconds_to_open

    def get_seconds_to_close(self, obj: SelectionWindow) -> int:
        return self._view(obj).seconds_to_close

    def get_enrolment_count(self, obj: SelectionWindow) -> int | None:
        return getattr(obj, "enrolment_count", None)


class WindowCreateSerializer(StrictSerializer):
    school = StrictIntegerField(min_value=1)
    term = StrictIntegerField(min_value=1)
    grade = StrictIntegerField(min_value=1, max_value=9)
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    mode = serializers.CharField(
        required=False, default=SelectionWindow.Mode.FIRST_COME, help_text=_values(SelectionWindow.Mode)
    )
    max_classes = StrictIntegerField(min_value=1, max_value=10, required=False, default=2)
    hold_minutes = StrictIntegerField(min_value=1, max_value=120, required=False, default=15)
    publish = StrictBooleanField(required=False, default=False, help_text="publish at once (else a draft)")


class WindowUpdateSerializer(StrictSerializer):
    opens_at = serializers.DateTimeField(required=False)
    closes_at = serializers.DateTimeField(required=False)
    mode = serializers.CharField(required=False, help_text=_values(SelectionWindow.Mode))
    max_classes = StrictIntegerField(min_value=1, max_value=10, required=False)
    hold_minutes = StrictIntegerField(min_value=1, max_value=120, required=False)


class StaggerSerializer(StrictSerializer):
    term = StrictIntegerField(min_value=1)
    first_opens_at = serializers.DateTimeField()
    step_minutes = StrictIntegerField(min_value=0, max_value=24 * 60, help_text="between one school and the next")
    length_minutes = StrictIntegerField(min_value=10, max_value=30 * 24 * 60, help_text="how long each window is open")
    mode = serializers.CharField(
        required=False, default=SelectionWindow.Mode.FIRST_COME, help_text=_values(SelectionWindow.Mode)
    )
    max_classes = StrictIntegerField(min_value=1, max_value=10, required=False, default=2)
    hold_minutes = StrictIntegerField(min_value=1, max_value=120, required=False, default=15)


class StaggerResultSerializer(serializers.Serializer[Any]):
    created = serializers.IntegerField(help_text="windows published")
    skipped = serializers.IntegerField(help_text="grades that already had an overlapping window")
    schools = serializers.IntegerField()
    last_opens_at = serializers.DateTimeField()


class DrawResultSerializer(serializers.Serializer[Any]):
    window = serializers.IntegerField()
    drawn = serializers.IntegerField(help_text="oversubscribed classes drawn")
    draws = serializers.ListField(child=serializers.IntegerField(), help_text="ids of the lottery draws recorded")


# --- the parent's flow -------------------------------------------------------------------------------------------
class ChildSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    grade = serializers.IntegerField()
    class_name = serializers.CharField()
    school = SchoolRefSerializer()
    windows = WindowSerializer(many=True, help_text="published windows of the child's grade: open, upcoming, recent")


class PlaceSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text=_values(Enrolment.Status))
    fee_fen = serializers.IntegerField()
    hold_expires_at = serializers.DateTimeField(allow_null=True)
    position = serializers.IntegerField(allow_null=True, help_text="waitlist position (1 = next)")


class OfferedClassSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField(help_text=_values(CourseClass.Kind))
    course = serializers.CharField(allow_null=True)
    category = serializers.CharField(allow_null=True)
    introduction = serializers.CharField()
    teacher = serializers.CharField(help_text="the teacher's name")
    room = serializers.CharField()
    term = RefSerializer()
    slots = SlotSerializer(many=True)
    session_count = serializers.IntegerField()
    pricing = serializers.CharField(help_text=_values(CourseClass.Pricing))
    unit_price_fen = serializers.IntegerField(help_text="the price per class hour (per day / month for care)")
    fee_fen = serializers.IntegerField(help_text="the whole course fee")
    fee_for_child_fen = serializers.IntegerField(help_text="0 under an approved hardship waiver")
    materials_name = serializers.CharField()
    materials_fee_fen = serializers.IntegerField()
    seats = serializers.IntegerField()
    seats_left = serializers.IntegerField()
    place = PlaceSerializer(allow_null=True, help_text="the child's own live place in the class")


class ChildClassesSerializer(serializers.Serializer[Any]):
    pupil = RefSerializer()
    windows = WindowSerializer(many=True)
    classes = OfferedClassSerializer(many=True)


def offered_class(offer: selectors.OfferedClass, waived: set[int]) -> dict[str, Any]:
    c = offer.course_class
    place = offer.place
    entry = c.entry
    return {
        "id": c.pk,
        "name": c.name,
        "kind": c.kind,
        "course": entry.item.name if entry else None,
        "category": entry.item.category.name if entry and entry.item.category_id else None,
        "introduction": c.introduction,
        "teacher": c.teacher.user.full_name,
        "room": c.room,
        "term": {"id": c.term_id, "name": c.term.name},
        "slots": SlotSerializer(c.slots.all(), many=True).data,
        "session_count": c.session_count,
        "pricing": c.pricing,
        "unit_price_fen": c.unit_price_fen,
        "fee_fen": c.fee_fen,
        "fee_for_child_fen": 0 if c.term_id in waived else c.fee_fen,
        "materials_name": c.materials_name,
        "materials_fee_fen": c.materials_fee_fen,
        "seats": c.capacity,
        "seats_left": offer.seats_left,
        "place": None
        if place is None
        else {
            "id": place.pk,
            "status": place.status,
            "fee_fen": place.fee_fen,
            "hold_expires_at": local_time(place.hold_expires_at),
            "position": offer.position,
        },
    }


class SelectSerializer(StrictSerializer):
    pupil = StrictIntegerField(min_value=1, max_value=2**63 - 1)
    course_class = StrictIntegerField(min_value=1, max_value=2**63 - 1)
    join_waitlist = StrictBooleanField(required=False, default=False, help_text="wait when the class is full")
    request_key = serializers.CharField(
        required=False, max_length=200, help_text="the idempotency key, when it cannot be sent as a header"
    )


class SelectionResultSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text=_values(Enrolment.Status))
    pupil = serializers.IntegerField()
    course_class = serializers.IntegerField()
    fee_fen = serializers.IntegerField()
    hold_expires_at = serializers.DateTimeField(allow_null=True, help_text="pay before this to keep the seat")
    position = serializers.IntegerField(allow_null=True, help_text="waitlist position (1 = next)")
    created = serializers.BooleanField(help_text="false when the key was seen before (a retry): nothing new written")


class EnrolmentSerializer(serializers.ModelSerializer[Enrolment]):
    status = serializers.CharField(help_text=_values(Enrolment.Status))
    pupil = serializers.SerializerMethodField()
    course_class = serializers.SerializerMethodField()
    school = serializers.SerializerMethodField()
    position = serializers.SerializerMethodField(help_text="waitlist position (1 = next), for a waiting place")

    class Meta:
        model = Enrolment
        fields = [
            "id",
            "status",
            "pupil",
            "course_class",
            "school",
            "window",
            "fee_fen",
            "waived",
            "hold_expires_at",
            "position",
            "wait_rank",
            "queued_at",
            "created_at",
            "status_changed_at",
            "confirmed_at",
            "ended_reason",
        ]

    @extend_schema_field(RefSerializer)
    def get_pupil(self, obj: Enrolment) -> dict[str, Any]:
        name = selectors.shown_pupil_name(
            scope=self.context["scope"], pupil=obj.pupil, teacher_id=obj.course_class.teacher_id
        )
        return {"id": obj.pupil_id, "name": name}

    @extend_schema_field(RefSerializer)
    def get_course_class(self, obj: Enrolment) -> dict[str, Any]:
        return {"id": obj.course_class_id, "name": obj.course_class.name}

    @extend_schema_field(SchoolRefSerializer)
    def get_school(self, obj: Enrolment) -> dict[str, Any]:
        return _school(obj.course_class.school)

    def get_position(self, obj: Enrolment) -> int | None:
        return self.context.get("positions", {}).get(obj.pk)


# --- waivers -----------------------------------------------------------------------------------------------------
class WaiverSerializer(serializers.ModelSerializer[HardshipWaiver]):
    status = serializers.CharField(help_text=_values(HardshipWaiver.Status))
    pupil = serializers.SerializerMethodField()
    school = serializers.SerializerMethodField()
    term = serializers.SerializerMethodField()
    requested_by = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()

    class Meta:
        model = HardshipWaiver
        fields = [
            "id",
            "pupil",
            "school",
            "term",
            "reason",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
        ]

    @extend_schema_field(RefSerializer)
    def get_pupil(self, obj: HardshipWaiver) -> dict[str, Any]:
        return {"id": obj.pupil_id, "name": selectors.shown_pupil_name(scope=self.context["scope"], pupil=obj.pupil)}

    @extend_schema_field(SchoolRefSerializer)
    def get_school(self, obj: HardshipWaiver) -> dict[str, Any]:
        return _school(obj.pupil.school)

    @extend_schema_field(RefSerializer)
    def get_term(self, obj: HardshipWaiver) -> dict[str, Any]:
        return {"id": obj.term_id, "name": obj.term.name}

    def get_requested_by(self, obj: HardshipWaiver) -> str:
        return str(obj.requested_by)

    def get_decided_by(self, obj: HardshipWaiver) -> str | None:
        return str(obj.decided_by) if obj.decided_by_id else None


class WaiverCreateSerializer(StrictSerializer):
    pupil = StrictIntegerField(min_value=1)
    term = StrictIntegerField(min_value=1)
    reason = serializers.CharField(max_length=200, allow_blank=True)


class WaiverDecideSerializer(StrictSerializer):
    approve = StrictBooleanField()


# --- lottery draws -----------------------------------------------------------------------------------------------
class DrawSerializer(serializers.ModelSerializer[LotteryDraw]):
    course_class = serializers.SerializerMethodField()
    school = serializers.SerializerMethodField()
    applicants = serializers.ListField(child=serializers.IntegerField(), help_text="pupil ids, sorted")
    order = serializers.ListField(child=serializers.IntegerField(), help_text="pupil ids in drawn order")
    winners = serializers.SerializerMethodField(help_text="the first `seats` of the order")
    verified = serializers.SerializerMethodField(
        help_text="true when re-running the draw from its seed and applicants reproduces the stored order"
    )
    method = serializers.SerializerMethodField()

    class Meta:
        model = LotteryDraw
        fields = [
            "id",
            "window",
            "course_class",
            "school",
            "seed",
            "seats",
            "applicants",
            "order",
            "winners",
            "drawn_at",
            "verified",
            "method",
        ]

    @extend_schema_field(RefSerializer)
    def get_course_class(self, obj: LotteryDraw) -> dict[str, Any]:
        return {"id": obj.course_class_id, "name": obj.course_class.name}

    @extend_schema_field(SchoolRefSerializer)
    def get_school(self, obj: LotteryDraw) -> dict[str, Any]:
        return _school(obj.course_class.school)

    def get_winners(self, obj: LotteryDraw) -> list[int]:
        return list(obj.order[: obj.seats])

    def get_verified(self, obj: LotteryDraw) -> bool:
        try:
            return bool(lottery_replay(obj) == list(obj.order))
        except (TypeError, ValueError):
            return False

    def get_method(self, obj: LotteryDraw) -> str:
        return 'applicants (pupil ids) ordered by sha256("<seed>:<pupil id>")'


# --- notifications and care standards ----------------------------------------------------------------------------
class CareStandardSerializer(serializers.ModelSerializer[CareFeeStandard]):
    region = serializers.SerializerMethodField()

    class Meta:
        model = CareFeeStandard
        fields = ["id", "region", "max_per_day_fen", "max_per_month_fen", "set_at"]

    @extend_schema_field({"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}}})
    def get_region(self, obj: CareFeeStandard) -> dict[str, Any]:
        return {"code": obj.region.code, "name": obj.region.name}


class CareStandardInputSerializer(StrictSerializer):
    region = serializers.CharField(
        required=False, max_length=12, help_text="region code; the caller's own (the city for the city bureau)"
    )
    max_per_day_fen = StrictIntegerField(min_value=1, max_value=MAX_FEN)
    max_per_month_fen = StrictIntegerField(min_value=1, max_value=MAX_FEN)
