"""Course classes, their sessions, selection windows, enrolments (seats, holds, waitlists) and lotteries.

The invariants of the selection rush live in the database (DESIGN.md rule 3):

- ``CourseClass.taken`` counts the seats that are held or confirmed; a check constraint keeps it within
  ``0 ≤ taken ≤ capacity`` and services move it only by a conditional ``UPDATE … WHERE taken < capacity``.
- One child holds a class once: a partial unique constraint over the live statuses of :class:`Enrolment`.
- A retried request is the same request: ``(requested_by, request_key)`` is unique.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kehou.catalog.models import PUBLIC
from kehou.core.scope import ScopeSpec

# Parents see the classes, windows and draws of the schools their children attend.
_SCHOOL_THINGS = ScopeSpec.via_school("school", pupil="school__pupils")


class CareFeeStandard(models.Model):
    """The ceiling for basic after-school care (基础托管), per day and per month, set by the city or a district
    (a district may only be stricter)."""

    region = models.OneToOneField("orgs.Region", on_delete=models.PROTECT, related_name="care_fee_standard")
    max_per_day_fen = models.PositiveIntegerField(_("highest fee per day (fen)"))
    max_per_month_fen = models.PositiveIntegerField(_("highest fee per month (fen)"))
    set_at = models.DateTimeField()

    kehou_scope: ClassVar[ScopeSpec] = PUBLIC

    class Meta:
        verbose_name = _("care fee standard")
        verbose_name_plural = _("care fee standards")

    def __str__(self) -> str:
        return f"{self.region}: {self.max_per_day_fen}/{self.max_per_month_fen}"


class CourseClass(models.Model):
    """A class of a course from the school library (or basic care), in a term, with a teacher and a timetable."""

    class Kind(models.TextChoices):
        COURSE = "course", _("Course")
        CARE = "care", _("Basic after-school care")

    class Pricing(models.TextChoices):
        PER_HOUR = "hour", _("per class hour")
        PER_DAY = "day", _("per day")
        PER_MONTH = "month", _("per month")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        CANCELLED = "cancelled", _("Cancelled")

    school = models.ForeignKey("orgs.School", on_delete=models.PROTECT, related_name="course_classes")
    term = models.ForeignKey("orgs.Term", on_delete=models.PROTECT, related_name="course_classes")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.COURSE)
    entry = models.ForeignKey(
        "catalog.LibraryEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="course_classes",
        verbose_name=_("school library entry"),
    )
    name = models.CharField(_("name"), max_length=80)
    introduction = models.TextField(_("introduction"), blank=True, max_length=2000)
    teacher = models.ForeignKey(
        "people.TeacherProfile", on_delete=models.PROTECT, related_name="course_classes", verbose_name=_("teacher")
    )
    room = models.CharField(_("room"), max_length=40)
    capacity = models.PositiveIntegerField(_("capacity"), validators=[MinValueValidator(1), MaxValueValidator(500)])
    taken = models.PositiveIntegerField(_("seats taken"), default=0)
    grade_min = models.PositiveSmallIntegerField(
        _("lowest grade"), validators=[MinValueValidator(1), MaxValueValidator(9)]
    )
    grade_max = models.PositiveSmallIntegerField(
        _("highest grade"), validators=[MinValueValidator(1), MaxValueValidator(9)]
    )
    pricing = models.CharField(_("priced"), max_length=6, choices=Pricing.choices, default=Pricing.PER_HOUR)
    unit_price_fen = models.PositiveIntegerField(_("price per unit (fen)"))
    session_count = models.PositiveIntegerField(_("sessions"), default=0)
    fee_fen = models.PositiveIntegerField(_("course fee (fen)"), default=0)
    materials_name = models.CharField(_("materials"), max_length=60, blank=True)
    materials_fee_fen = models.PositiveIntegerField(_("materials fee (fen)"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.via_school("school", pupil="school__pupils", teacher="teacher")

    class Meta:
        ordering = ["school_id", "grade_min", "name", "pk"]
        verbose_name = _("course class")
        verbose_name_plural = _("course classes")
        constraints = [
            models.CheckConstraint(condition=Q(taken__lte=F("capacity")), name="class_taken_within_capacity"),
            models.CheckConstraint(condition=Q(taken__gte=0), name="class_taken_not_negative"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="class_capacity_positive"),
            models.CheckConstraint(
                condition=Q(grade_min__gte=1, grade_max__lte=9, grade_min__lte=F("grade_max")),
                name="class_grade_range",
            ),
            models.CheckConstraint(
                condition=Q(kind="course", entry__isnull=False, pricing="hour")
                | Q(kind="care", entry__isnull=True, pricing__in=["day", "month"]),
                name="class_kind_binding",
            ),
            models.CheckConstraint(
                condition=Q(materials_fee_fen=0) | ~Q(materials_name=""), name="class_materials_named"
            ),
        ]
        indexes = [models.Index(fields=["school", "term", "status"])]

    def __str__(self) -> str:
        return self.name

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.taken, 0)


class ClassSlot(models.Model):
    """A weekly time slot of a class: weekday (0 = Monday) and a start and end time."""

    course_class = models.ForeignKey(CourseClass, on_delete=models.CASCADE, related_name="slots")
    weekday = models.PositiveSmallIntegerField(_("weekday"), validators=[MaxValueValidator(4)])
    starts_at = models.TimeField(_("starts at"))
    ends_at = models.TimeField(_("ends at"))

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.through("course_class", CourseClass.kehou_scope)

    class Meta:
        ordering = ["weekday", "starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="slot_ends_after_start"),
            models.CheckConstraint(condition=Q(weekday__lte=4), name="slot_weekday_school_day"),
            models.UniqueConstraint(fields=["course_class", "weekday", "starts_at"], name="slot_once"),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


class ClassSession(models.Model):
    """A dated class hour, generated from the term calendar (holidays skipped, make-up days added)."""

    course_class = models.ForeignKey(CourseClass, on_delete=models.CASCADE, related_name="sessions")
    number = models.PositiveIntegerField(_("number"))
    date = models.DateField(_("date"))
    starts_at = models.TimeField(_("starts at"))
    ends_at = models.TimeField(_("ends at"))

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.through("course_class", CourseClass.kehou_scope)

    class Meta:
        ordering = ["course_class_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["course_class", "number"], name="session_number_once"),
            models.UniqueConstraint(fields=["course_class", "date", "starts_at"], name="session_time_once"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="session_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.course_class_id} #{self.number} {self.date}"


class SelectionWindow(models.Model):
    """When the parents of one grade of a school may select, and how seats are given out."""

    class Mode(models.TextChoices):
        FIRST_COME = "first_come", _("First come, first served")
        LOTTERY = "lottery", _("Lottery when oversubscribed")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        CANCELLED = "cancelled", _("Cancelled")

    school = models.ForeignKey("orgs.School", on_delete=models.PROTECT, related_name="selection_windows")
    term = models.ForeignKey("orgs.Term", on_delete=models.PROTECT, related_name="selection_windows")
    grade = models.PositiveSmallIntegerField(_("grade"), validators=[MinValueValidator(1), MaxValueValidator(9)])
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    mode = models.CharField(_("mode"), max_length=12, choices=Mode.choices, default=Mode.FIRST_COME)
    max_classes = models.PositiveSmallIntegerField(
        _("most classes per child"), default=2, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    hold_minutes = models.PositiveSmallIntegerField(
        _("hold while paying (minutes)"), default=15, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    drawn_at = models.DateTimeField(_("lottery drawn at"), null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    kehou_scope: ClassVar[ScopeSpec] = _SCHOOL_THINGS

    class Meta:
        ordering = ["opens_at", "school_id", "grade"]
        verbose_name = _("selection window")
        verbose_name_plural = _("selection windows")
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=F("opens_at")), name="window_closes_after_open"),
            models.CheckConstraint(condition=Q(grade__gte=1, grade__lte=9), name="window_grade_range"),
            models.CheckConstraint(condition=Q(max_classes__gte=1), name="window_max_classes_positive"),
            models.CheckConstraint(condition=Q(hold_minutes__gte=1), name="window_hold_positive"),
            models.CheckConstraint(condition=Q(drawn_at__isnull=True) | Q(mode="lottery"), name="window_draw_mode"),
        ]
        indexes = [models.Index(fields=["school", "term", "grade"])]

    def __str__(self) -> str:
        return f"{self.school_id} G{self.grade} {self.opens_at:%Y-%m-%d %H:%M}"


class HardshipWaiver(models.Model):
    """A pupil from a family in hardship selects at zero fee in a term: marked by the school, approved by a
    second person (another administrator of the school, or the district bureau)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        REVOKED = "revoked", _("Revoked")

    pupil = models.ForeignKey("people.Pupil", on_delete=models.PROTECT, related_name="hardship_waivers")
    term = models.ForeignKey("orgs.Term", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.via_school("pupil__school", pupil="pupil", operator_via_school=False)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("hardship waiver")
        verbose_name_plural = _("hardship waivers")
        constraints = [
            models.UniqueConstraint(
                fields=["pupil", "term"],
                condition=Q(status__in=["pending", "approved"]),
                name="waiver_once_per_term",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_by__isnull=True)
                | (~Q(status="pending") & Q(decided_by__isnull=False, decided_at__isnull=False)),
                name="waiver_decision_recorded",
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")), name="waiver_four_eyes"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pupil_id} {self.term_id} {self.status}"


LIVE_STATUSES = ("applied", "waiting", "held", "confirmed")
# The order of a class's waitlist: lottery losers by their drawn rank, then first-come waiters by when they joined.
WAITLIST_ORDER = (F("wait_rank").asc(nulls_last=True), "queued_at", "pk")
SEAT_STATUSES = ("held", "confirmed")


class Enrolment(models.Model):
    """A child's place in a class: an application (lottery), a waitlist place, a held seat, or a confirmed one.

    ``held`` and ``confirmed`` rows are exactly the seats counted in ``CourseClass.taken``; every service that
    moves a row into or out of those statuses moves ``taken`` in the same transaction.
    """

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied (lottery)")
        WAITING = "waiting", _("On the waitlist")
        HELD = "held", _("Seat held, awaiting payment")
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Hold expired")

    course_class = models.ForeignKey(CourseClass, on_delete=models.PROTECT, related_name="enrolments")
    pupil = models.ForeignKey("people.Pupil", on_delete=models.PROTECT, related_name="enrolments")
    window = models.ForeignKey(SelectionWindow, on_delete=models.PROTECT, related_name="enrolments")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    fee_fen = models.PositiveIntegerField(_("course fee (fen)"))
    waived = models.BooleanField(_("fee waived (hardship)"), default=False)
    hold_expires_at = models.DateTimeField(_("hold expires at"), null=True, blank=True)
    # When the guardians were reminded that the hold is about to run out (once per hold: ``holds_remind``).
    hold_reminded_at = models.DateTimeField(null=True, blank=True)
    # Waitlist order: lottery losers carry their drawn rank; first-come waiters are ordered by queued_at.
    wait_rank = models.PositiveIntegerField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    request_key = models.CharField(max_length=64, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    status_changed_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(_("reason"), max_length=120, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.via_school(
        "course_class__school", pupil="pupil", teacher="course_class__teacher"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [
            models.UniqueConstraint(
                fields=["course_class", "pupil"], condition=Q(status__in=LIVE_STATUSES), name="enrolment_live_once"
            ),
            models.UniqueConstraint(
                fields=["requested_by", "request_key"], condition=~Q(request_key=""), name="enrolment_request_once"
            ),
            models.CheckConstraint(
                condition=~Q(status="held") | Q(hold_expires_at__isnull=False), name="enrolment_hold_has_expiry"
            ),
            models.CheckConstraint(
                condition=~Q(status="waiting") | Q(queued_at__isnull=False), name="enrolment_waiting_is_queued"
            ),
            models.CheckConstraint(condition=Q(waived=False) | Q(fee_fen=0), name="enrolment_waiver_is_free"),
        ]
        indexes = [
            models.Index(fields=["course_class", "status"]),
            models.Index(fields=["pupil", "status"]),
            models.Index(fields=["status", "hold_expires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.pupil_id} → {self.course_class_id} ({self.status})"


class LotteryDraw(models.Model):
    """The draw of one oversubscribed class at the close of a lottery window, reproducible from its seed:
    applicants (pupil ids) are ordered by ``sha256("<seed>:<pupil id>")`` (see ``catalog.draw``); the first
    ``seats`` win a hold, the rest are waitlisted in drawn order."""

    window = models.ForeignKey(SelectionWindow, on_delete=models.PROTECT, related_name="draws")
    course_class = models.ForeignKey(CourseClass, on_delete=models.PROTECT, related_name="draws")
    seed = models.CharField(max_length=64)
    seats = models.PositiveIntegerField()
    applicants = models.JSONField(default=list)  # pupil ids, sorted
    order = models.JSONField(default=list)  # pupil ids in drawn order
    drawn_at = models.DateTimeField()

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.through("course_class", CourseClass.kehou_scope)

    class Meta:
        ordering = ["-drawn_at"]
        constraints = [models.UniqueConstraint(fields=["window", "course_class"], name="draw_once_per_class")]

    def __str__(self) -> str:
        return f"draw {self.window_id}/{self.course_class_id}"
