"""The teacher's day: who runs a session, the check-in from the phone's location, and the roll call.

A session (``enrolment.ClassSession``) is run by its class's teacher, or by a substitute the school names for that
one session. The check-in is one fix taken once (nothing tracks the teacher); its raw coordinates are purged after
a retention period, the outcome and the distance stay. The roll call is one sheet per session with one row per pupil
holding a live place that day; its counts are recomputed from the rows in the transaction of every mark.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehou.core.scope import ScopeSpec
from kehou.enrolment.models import ClassSession

SESSION_SCOPE = ScopeSpec.through("session", ClassSession.kehou_scope)
# A row of one session that names its own teacher (a substitution, a check-in): the session's school and district see
# it, and that teacher (not the class's, who may have been replaced).
OWN_TEACHER_SCOPE = ScopeSpec(
    district=SESSION_SCOPE.district, school=SESSION_SCOPE.school, teacher="teacher", operator=SESSION_SCOPE.operator
)


class AttendanceStatus(models.Model):
    """A roll-call status. The built-in ones (``BUILTIN``) are installed by migration and never renamed; a city may
    add its own beside them, each saying which count it goes to and whether it counts as attended."""

    class Group(models.TextChoices):
        PRESENT = "present", _("Present")
        ABSENT = "absent", _("Absent")
        LEAVE = "leave", _("On leave")
        UNMARKED = "unmarked", _("Unmarked")

    code = models.CharField(
        _("code"), max_length=24, unique=True, validators=[RegexValidator(r"^[a-z][a-z0-9_]{1,23}$")]
    )
    label_zh = models.CharField(_("label (Chinese)"), max_length=20)
    label_en = models.CharField(_("label (English)"), max_length=40)
    group = models.CharField(_("counted as"), max_length=10, choices=Group.choices)
    counts_as_attended = models.BooleanField(_("counts as attended"))
    builtin = models.BooleanField(_("built in"), default=False, editable=False)
    position = models.PositiveSmallIntegerField(_("position"), default=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("attendance status")
        verbose_name_plural = _("attendance statuses")
        constraints = [
            # Unmarked is the one state nobody marks: only the built-in row may be in that group.
            models.CheckConstraint(
                condition=~Q(group="unmarked") | Q(code="unmarked"), name="attendance_status_one_unmarked"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label_zh} ({self.code})"

    def label(self, language: str = "zh-hans") -> str:
        return self.label_en if language.startswith("en") else self.label_zh


# code: (Chinese, English, group, counts as attended, position)
BUILTIN: dict[str, tuple[str, str, str, bool, int]] = {
    "present": ("到", "Present", "present", True, 10),
    "late": ("迟到", "Late", "present", True, 20),
    "leave_personal": ("事假", "Personal leave", "leave", False, 30),
    "leave_sick": ("病假", "Sick leave", "leave", False, 40),
    "absent": ("缺勤", "Absent", "absent", False, 50),
    "left_early": ("早退", "Left early", "present", True, 60),
    "unmarked": ("未点名", "Unmarked", "unmarked", False, 90),
}
UNMARKED = "unmarked"
PRESENT = "present"
# A session's state on the timetable (derived, not stored).
SESSION_STATES = (
    ("upcoming", _("Upcoming")),
    ("open", _("Check-in open")),
    ("in_progress", _("Class under way")),
    ("checked_in", _("Checked in")),
    ("roll_call_taken", _("Roll call taken")),
    ("missed", _("Missed")),
)


class SessionSubstitute(models.Model):
    """A teacher the school names to run one session in place of the class's teacher (代课)."""

    session = models.OneToOneField(ClassSession, on_delete=models.CASCADE, related_name="substitute")
    teacher = models.ForeignKey(
        "people.TeacherProfile", on_delete=models.PROTECT, related_name="substitutions", verbose_name=_("teacher")
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    named_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    named_at = models.DateTimeField()

    kehou_scope: ClassVar[ScopeSpec] = OWN_TEACHER_SCOPE

    class Meta:
        verbose_name = _("substitute")
        verbose_name_plural = _("substitutes")

    def __str__(self) -> str:
        return f"{self.session_id} → {self.teacher_id}"


class CheckIn(models.Model):
    """The teacher's check-in at a session: one fix, judged by its accuracy circle against the school's radius."""

    class Outcome(models.TextChoices):
        INSIDE = "inside", _("Inside the school's radius")
        OUTSIDE = "outside", _("Outside the school's radius")
        UNCERTAIN = "uncertain", _("Uncertain (the fix is not precise enough)")
        MISSED = "missed", _("Missed (no check-in in time)")

    class Timing(models.TextChoices):
        ON_TIME = "on_time", _("On time")
        LATE = "late", _("Late")
        MISSED = "missed", _("Missed")

    class Makeup(models.TextChoices):
        NONE = "", _("None")
        PENDING = "pending", _("Make-up awaiting the school")
        APPROVED = "approved", _("Make-up approved")
        REJECTED = "rejected", _("Make-up rejected")

    session = models.OneToOneField(ClassSession, on_delete=models.CASCADE, related_name="check_in")
    teacher = models.ForeignKey("people.TeacherProfile", on_delete=models.PROTECT, related_name="check_ins")
    at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    # The fix as sent, converted to WGS-84; emptied after ATTENDANCE["COORDINATE_RETENTION_DAYS"].
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    crs = models.CharField(_("coordinate system sent"), max_length=6, blank=True)
    accuracy_m = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    distance_m = models.PositiveIntegerField(_("distance (m)"), null=True, blank=True)
    radius_m = models.PositiveIntegerField(_("radius (m)"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    timing = models.CharField(_("timing"), max_length=8, choices=Timing.choices)
    purged_at = models.DateTimeField(null=True, blank=True)
    makeup = models.CharField(_("make-up"), max_length=8, choices=Makeup.choices, default="", blank=True)
    makeup_reason = models.CharField(_("make-up reason"), max_length=200, blank=True)
    makeup_requested_at = models.DateTimeField(null=True, blank=True)
    makeup_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    makeup_decided_at = models.DateTimeField(null=True, blank=True)
    makeup_note = models.CharField(_("decision note"), max_length=200, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = OWN_TEACHER_SCOPE

    class Meta:
        ordering = ["-at"]
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="checkin_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="checkin_longitude_range",
            ),
            models.CheckConstraint(condition=Q(accuracy_m__isnull=True) | Q(accuracy_m__gt=0), name="checkin_accuracy"),
            # A make-up needs its reason.
            models.CheckConstraint(condition=Q(makeup="") | ~Q(makeup_reason=""), name="checkin_makeup_reason"),
        ]
        indexes = [models.Index(fields=["teacher", "makeup_requested_at"], name="checkin_makeup_month")]

    def __str__(self) -> str:
        return f"{self.session_id} {self.outcome}"

    @property
    def flagged(self) -> bool:
        """Shown to the school and the operator: outside, uncertain, missed or late, unless a make-up cleared it."""
        if self.makeup == self.Makeup.APPROVED:
            return False
        return self.outcome != self.Outcome.INSIDE or self.timing != self.Timing.ON_TIME


class RollCall(models.Model):
    """One roll-call sheet per session, with its live counts (recomputed from the rows with every mark)."""

    session = models.OneToOneField(ClassSession, on_delete=models.CASCADE, related_name="roll_call")
    expected = models.PositiveIntegerField(default=0)
    present = models.PositiveIntegerField(default=0)
    absent = models.PositiveIntegerField(default=0)
    leave = models.PositiveIntegerField(default=0)
    unmarked = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = SESSION_SCOPE

    class Meta:
        verbose_name = _("roll call")
        verbose_name_plural = _("roll calls")
        constraints = [
            models.CheckConstraint(
                condition=Q(expected=F("present") + F("absent") + F("leave") + F("unmarked")),
                name="roll_call_counts_add_up",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} {self.present}/{self.expected}"

    def counts(self) -> dict[str, int]:
        return {
            "expected": self.expected,
            "present": self.present,
            "absent": self.absent,
            "leave": self.leave,
            "unmarked": self.unmarked,
        }


class RollCallRow(models.Model):
    class Source(models.TextChoices):
        SHEET = "sheet", _("Put on the sheet")
        TEACHER = "teacher", _("Marked by the teacher")
        LEAVE = "leave", _("Approved leave")
        SCHOOL = "school", _("Corrected by the school")

    roll_call = models.ForeignKey(RollCall, on_delete=models.CASCADE, related_name="rows")
    pupil = models.ForeignKey("people.Pupil", on_delete=models.PROTECT, related_name="roll_call_rows")
    enrolment = models.ForeignKey("enrolment.Enrolment", on_delete=models.PROTECT, related_name="+")
    status = models.ForeignKey(
        AttendanceStatus, on_delete=models.PROTECT, to_field="code", db_column="status", related_name="+"
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.SHEET)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    marked_at = models.DateTimeField(null=True, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(
        district=f"roll_call__{SESSION_SCOPE.district}",
        school=f"roll_call__{SESSION_SCOPE.school}",
        teacher=f"roll_call__{SESSION_SCOPE.teacher}",
        pupil="pupil",
        operator=f"roll_call__{SESSION_SCOPE.operator}" if SESSION_SCOPE.operator else None,
    )

    class Meta:
        ordering = ["roll_call_id", "id"]
        constraints = [models.UniqueConstraint(fields=["roll_call", "pupil"], name="roll_call_row_once")]

    def __str__(self) -> str:
        return f"{self.roll_call_id} {self.pupil_id} {self.status_id}"


class LeaveRequest(models.Model):
    """A parent's request for a child's leave (请假): for one session, a day or a range of days, with a reason.
    Approved leave is on the roll call before the teacher opens it."""

    class Kind(models.TextChoices):
        PERSONAL = "leave_personal", _("Personal leave")
        SICK = "leave_sick", _("Sick leave")

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    pupil = models.ForeignKey("people.Pupil", on_delete=models.PROTECT, related_name="leave_requests")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    session = models.ForeignKey(
        ClassSession, on_delete=models.PROTECT, related_name="leave_requests", null=True, blank=True
    )
    first_date = models.DateField(_("from"))
    last_date = models.DateField(_("until"))
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("decision note"), max_length=200, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(
        district="pupil__school__district",
        school="pupil__school",
        pupil="pupil",
        teacher="session__course_class__teacher",
    )

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("leave request")
        verbose_name_plural = _("leave requests")
        constraints = [
            models.CheckConstraint(condition=Q(last_date__gte=F("first_date")), name="leave_range_ordered"),
            models.CheckConstraint(condition=~Q(reason=""), name="leave_reason_given"),
        ]
        indexes = [models.Index(fields=["pupil", "status", "first_date"], name="leave_pupil_dates")]

    def __str__(self) -> str:
        return f"{self.pupil_id} {self.first_date}–{self.last_date} {self.status}"


def ensure_builtin_statuses() -> int:
    """Install the built-in statuses where they are missing (the migration does it; a database flushed by a test or
    by ``manage.py flush`` gets them back after ``migrate`` through the app's post_migrate hook)."""
    made = 0
    for code, (zh, en, group, attended, position) in BUILTIN.items():
        _row, created = AttendanceStatus.objects.get_or_create(
            code=code,
            defaults={
                "label_zh": zh,
                "label_en": en,
                "group": group,
                "counts_as_attended": attended,
                "position": position,
                "builtin": True,
            },
        )
        made += created
    return made


# Preset tags a teacher may add to a comment: encouraging words about the child alone, never a comparison.
COMMENT_TAGS: dict[str, tuple[str, str]] = {
    "attentive": ("专注认真", "Attentive"),
    "speaks_up": ("积极发言", "Speaks up"),
    "cooperative": ("乐于合作", "Works well with others"),
    "improving": ("进步明显", "Clearly improving"),
    "creative": ("富有创意", "Creative"),
    "helpful": ("乐于助人", "Helps others"),
    "needs_encouragement": ("需要鼓励", "Needs encouragement"),
}


class Comment(models.Model):
    """A teacher's comment (点评) on one pupil for one session. Only the pupil's guardians (and the school and the
    bureaus, who see the session) read it; it is pushed to the guardians live."""

    session = models.ForeignKey(ClassSession, on_delete=models.CASCADE, related_name="comments")
    pupil = models.ForeignKey("people.Pupil", on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(pgettext_lazy("a teacher's words on a pupil", "comment"), max_length=2000)
    tags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(
        district=SESSION_SCOPE.district,
        school=SESSION_SCOPE.school,
        teacher=SESSION_SCOPE.teacher,
        pupil="pupil",
        operator=SESSION_SCOPE.operator,
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = pgettext_lazy("a teacher's words on a pupil", "comment")
        verbose_name_plural = pgettext_lazy("a teacher's words on a pupil", "comments")
        indexes = [models.Index(fields=["pupil", "-created_at"]), models.Index(fields=["session", "pupil"])]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="comment_text_given")]

    def __str__(self) -> str:
        return f"{self.session_id} {self.pupil_id}"

    def tag_labels(self, lang: str = "zh-hans") -> list[str]:
        i = 0 if lang.startswith("zh") else 1
        return [COMMENT_TAGS[t][i] for t in self.tags if t in COMMENT_TAGS]


class FollowUp(models.Model):
    """Something about a session that somebody must act on (the operator's exceptions queue): no check-in ten minutes
    after the start, no roll call taken, a check-in outside or uncertain, a make-up awaiting the school, pupils absent
    without leave. Opened and cleared by the scan (``services.followups``) from the session's evidence; it starts
    with whoever can fix it (the teacher; the school for a make-up or an absence) and escalates teacher → school →
    operator while nobody acts. The school or the operator may close it with a note (handled)."""

    class Kind(models.TextChoices):
        NO_CHECK_IN = "no_check_in", _("No check-in after the start")
        NO_ROLL_CALL = "no_roll_call", _("No roll call taken")
        OUTSIDE = "outside", _("Checked in outside the school")
        UNCERTAIN = "uncertain", _("Check-in location uncertain")
        MAKEUP_PENDING = "makeup_pending", _("Make-up check-in awaiting the school")
        ABSENT = "absent", _("Pupils absent without leave")

    class Level(models.TextChoices):
        TEACHER = "teacher", _("Teacher")
        SCHOOL = "school", _("School")
        OPERATOR = "operator", _("Operator")

    class Resolution(models.TextChoices):
        OPEN = "", _("Open")
        CLEARED = "cleared", _("Cleared by the evidence")
        HANDLED = "handled", _("Handled")

    session = models.ForeignKey(ClassSession, on_delete=models.CASCADE, related_name="follow_ups")
    school = models.ForeignKey("orgs.School", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    level = models.CharField(_("with"), max_length=10, choices=Level.choices)
    count = models.PositiveIntegerField(_("pupils"), default=0)  # pupils absent without leave
    opened_at = models.DateTimeField(_("opened at"))
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.CharField(_("resolution"), max_length=8, choices=Resolution.choices, default="", blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.via_school("school", teacher=SESSION_SCOPE.teacher)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        indexes = [models.Index(fields=["school", "resolved_at"]), models.Index(fields=["resolved_at", "level"])]
        constraints = [
            models.UniqueConstraint(fields=["session", "kind"], name="follow_up_once_per_session_and_kind"),
            models.CheckConstraint(
                condition=(Q(resolved_at__isnull=True) & Q(resolution=""))
                | (Q(resolved_at__isnull=False) & ~Q(resolution="")),
                name="follow_up_resolved_consistently",
            ),
            models.CheckConstraint(
                condition=~Q(resolution="handled") | Q(handled_by__isnull=False), name="follow_up_handled_by_someone"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.session_id}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
