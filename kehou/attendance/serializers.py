"""What the attendance API reads and answers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kehou.core.serializers import StrictIntegerField, StrictSerializer

from .live import CHECK_IN_LABELS
from .models import SESSION_STATES, CheckIn, FollowUp


class IdName(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CheckInBrief(serializers.Serializer[Any]):
    outcome = serializers.ChoiceField(choices=CheckIn.Outcome.choices)
    at = serializers.DateTimeField(allow_null=True)
    timing = serializers.ChoiceField(choices=CheckIn.Timing.choices)
    distance_m = serializers.IntegerField(allow_null=True)
    makeup = serializers.CharField(allow_blank=True)


class Counts(serializers.Serializer[Any]):
    expected = serializers.IntegerField()
    present = serializers.IntegerField()
    absent = serializers.IntegerField()
    leave = serializers.IntegerField()
    unmarked = serializers.IntegerField()


class TeacherSessionSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    date = serializers.DateField()
    number = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    course_class = IdName()
    school = IdName()
    room = serializers.CharField()
    state = serializers.ChoiceField(choices=SESSION_STATES)
    runs_it = serializers.BooleanField(help_text="false when a substitute runs this session of your class")
    substitute = serializers.CharField(allow_blank=True)
    check_in = CheckInBrief(allow_null=True)
    roll_call = Counts()


class CheckInBody(StrictSerializer):
    # Taken as JSON numbers (or numeric strings); range, NaN and units are judged by the service with stable codes.
    lat = serializers.JSONField()
    lng = serializers.JSONField()
    accuracy_m = serializers.JSONField()
    crs = serializers.CharField(max_length=10, default="wgs84")


class CheckInResult(serializers.Serializer[Any]):
    outcome = serializers.ChoiceField(choices=CheckIn.Outcome.choices)
    distance_m = serializers.IntegerField()
    radius_m = serializers.IntegerField()
    accuracy_m = serializers.FloatField()
    on_time = serializers.BooleanField()
    timing = serializers.ChoiceField(choices=CheckIn.Timing.choices)
    at = serializers.DateTimeField()


class MakeupBody(StrictSerializer):
    reason = serializers.CharField(max_length=200, allow_blank=True)


class DecideBody(StrictSerializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(max_length=200, allow_blank=True, default="")


class Mark(StrictSerializer):
    pupil = serializers.IntegerField(min_value=1)
    status = serializers.CharField(max_length=24)


class MarksBody(StrictSerializer):
    marks = Mark(many=True, allow_empty=True)
    all_present = serializers.BooleanField(
        default=False, help_text="after the marks, fill every row still unmarked with present"
    )


class RowPupil(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    grade = serializers.IntegerField()
    class_name = serializers.CharField()


class Row(serializers.Serializer[Any]):
    pupil = RowPupil()
    status = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]
    marked_at = serializers.DateTimeField(allow_null=True)


class RollCallSerializer(Counts):
    session = serializers.IntegerField()
    closed = serializers.BooleanField()
    rows = Row(many=True)


class StatusSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    group = serializers.CharField()
    counts_as_attended = serializers.BooleanField()
    builtin = serializers.BooleanField()


class FlaggedCheckInSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    session = serializers.IntegerField(source="session_id")
    date = serializers.DateField(source="session.date")
    course_class = serializers.CharField(source="session.course_class.name")
    school = serializers.CharField(source="session.course_class.school.name")
    teacher = serializers.CharField(source="teacher.user.full_name")
    outcome = serializers.ChoiceField(choices=CheckIn.Outcome.choices)
    timing = serializers.ChoiceField(choices=CheckIn.Timing.choices)
    distance_m = serializers.IntegerField(allow_null=True)
    radius_m = serializers.IntegerField(allow_null=True)
    accuracy_m = serializers.FloatField(allow_null=True)
    at = serializers.DateTimeField(allow_null=True)
    makeup = serializers.CharField()
    makeup_reason = serializers.CharField()


class SubstituteBody(StrictSerializer):
    teacher = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=200, allow_blank=True, default="")


class LeaveBody(StrictSerializer):
    pupil = serializers.IntegerField(min_value=1)
    kind = serializers.CharField(max_length=20, help_text="`leave_sick` or `leave_personal`")
    reason = serializers.CharField(max_length=200, allow_blank=True)
    session = serializers.IntegerField(min_value=1, required=False, help_text="one session; or the dates")
    first_date = serializers.DateField(required=False)
    last_date = serializers.DateField(required=False)


class LeaveSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    pupil = serializers.IntegerField(source="pupil_id")
    kind = serializers.CharField()
    session = serializers.IntegerField(source="session_id", allow_null=True)
    first_date = serializers.DateField()
    last_date = serializers.DateField()
    reason = serializers.CharField()
    status = serializers.CharField()
    requested_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField()


class LeaveDecideBody(StrictSerializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(max_length=200, allow_blank=True, default="")


class CommentBody(StrictSerializer):
    pupil = StrictIntegerField(min_value=1, max_value=2**63 - 1)
    text = serializers.CharField(
        allow_blank=True, max_length=20000, help_text="at most `KEHOU_ATTENDANCE.COMMENT_MAX_CHARS` characters (500)"
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        max_length=20,
        help_text="preset tags (`GET /api/v1/comment-tags/`), at most five",
    )


class CommentPupil(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CommentSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    session = serializers.IntegerField(source="session_id")
    course_class = serializers.CharField(source="session.course_class.name")
    date = serializers.DateField(source="session.date")
    pupil = serializers.SerializerMethodField()
    text = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    teacher = serializers.CharField(source="author.full_name")
    created_at = serializers.DateTimeField()

    @extend_schema_field(CommentPupil)
    def get_pupil(self, obj: Any) -> dict[str, Any]:
        """The name as the viewer may see it (masked for bureaus and operators): the view passes its scope."""
        from kehou.people.selectors import shown_pupil_name

        name = shown_pupil_name(
            scope=self.context["scope"], pupil=obj.pupil, teacher_id=obj.session.course_class.teacher_id
        )
        return {"id": obj.pupil_id, "name": name}


class CommentTagSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


class LiveCheckIn(serializers.Serializer[Any]):
    code = serializers.ChoiceField(
        choices=list(CHECK_IN_LABELS),
        help_text="on_time, late, missing (none 10 minutes after the start), missed, outside, uncertain, makeup "
        "(a make-up the school approved), not_yet",
    )
    outcome = serializers.CharField(allow_blank=True)
    at = serializers.DateTimeField(allow_null=True)


class LiveSession(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    date = serializers.DateField()
    number = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    running = serializers.BooleanField()
    school = IdName()
    course_class = IdName()
    room = serializers.CharField(allow_blank=True)
    teacher = serializers.CharField(allow_blank=True, allow_null=True)
    substitute = serializers.BooleanField()
    state = serializers.ChoiceField(choices=SESSION_STATES)
    check_in = LiveCheckIn()
    roll_call = Counts()
    follow_ups = serializers.ListField(child=serializers.ChoiceField(choices=FollowUp.Kind.choices))


class LiveFollowUp(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=FollowUp.Kind.choices)
    level = serializers.ChoiceField(choices=FollowUp.Level.choices)
    count = serializers.IntegerField()
    opened_at = serializers.DateTimeField()
    escalated_at = serializers.DateTimeField(allow_null=True)
    session = serializers.IntegerField()
    school = IdName()
    course_class = IdName()
    teacher = serializers.CharField(allow_blank=True, allow_null=True)
    starts_at = serializers.DateTimeField()


class LiveSummary(serializers.Serializer[Any]):
    sessions = serializers.IntegerField()
    running_now = serializers.IntegerField()
    checked_in = serializers.IntegerField()
    late = serializers.IntegerField()
    missing = serializers.IntegerField()
    flagged = serializers.IntegerField(help_text="check-ins outside or uncertain")
    roll_calls_taken = serializers.IntegerField()
    pupils_expected = serializers.IntegerField()
    pupils_present = serializers.IntegerField()
    pupils_absent = serializers.IntegerField()
    pupils_on_leave = serializers.IntegerField()
    follow_ups_open = serializers.IntegerField()


class LiveBoardSerializer(serializers.Serializer[Any]):
    date = serializers.DateField()
    now = serializers.DateTimeField()
    summary = LiveSummary()
    sessions = LiveSession(many=True)
    follow_ups = LiveFollowUp(many=True)
    topics = serializers.ListField(
        child=serializers.CharField(),
        help_text="the event-stream topics that announce changes to this board (`/api/v1/events/?topic=…`)",
    )


class FollowUpSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    session = serializers.IntegerField(source="session_id")
    date = serializers.DateField(source="session.date")
    course_class = serializers.CharField(source="session.course_class.name")
    school = IdName()
    kind = serializers.ChoiceField(choices=FollowUp.Kind.choices)
    level = serializers.ChoiceField(choices=FollowUp.Level.choices)
    count = serializers.IntegerField()
    opened_at = serializers.DateTimeField()
    escalated_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolution = serializers.CharField(allow_blank=True)
    handled_by = serializers.CharField(source="handled_by.full_name", allow_null=True, default=None)
    note = serializers.CharField(allow_blank=True)


class FollowUpHandleBody(StrictSerializer):
    note = serializers.CharField(max_length=200, allow_blank=True, help_text="what was done (required, 1–200)")
