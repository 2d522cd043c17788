"""Supervision (一站式监管): the rollup tables the bureaus' dashboards read, never the raw rows.

:class:`ClassDay` holds one class's figures for one day (sessions planned and delivered, pupil-sessions expected and
attended, roll calls taken on time, check-ins on time), :class:`SchoolDay` the same summed for one school and day,
and :class:`SchoolTerm` a school's participation in a term (pupils taking part, teachers). They are recomputed from
the raw rows for a school and a day at a time (``kehou.supervision.services.rollup``): idempotent, safe to run on
several workers at once (each write is an upsert of the whole row), and kept current by the task worker, which
follows what changed since its last run (:class:`RollupMark`).
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehou.core.scope import ScopeSpec


class Figures(models.Model):
    sessions_planned = models.PositiveIntegerField(default=0)
    sessions_delivered = models.PositiveIntegerField(default=0)  # a check-in or a marked roll call
    pupil_sessions_expected = models.PositiveIntegerField(default=0)  # on the roll calls
    pupil_sessions_attended = models.PositiveIntegerField(default=0)
    roll_calls_taken = models.PositiveIntegerField(default=0)
    roll_calls_on_time = models.PositiveIntegerField(default=0)
    check_ins = models.PositiveIntegerField(default=0)
    check_ins_on_time = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        abstract = True


class ClassDay(Figures):
    course_class = models.ForeignKey("enrolment.CourseClass", on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey("orgs.School", on_delete=models.CASCADE, related_name="+")
    date = models.DateField()

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.via_school("school", operator_via_school=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course_class", "date"], name="rollup_class_day_once")]
        indexes = [models.Index(fields=["school", "date"], name="class_day_school_date")]

    def __str__(self) -> str:
        return f"{self.course_class_id} {self.date}"


class SchoolDay(Figures):
    school = models.ForeignKey("orgs.School", on_delete=models.CASCADE, related_name="+")
    district = models.ForeignKey("orgs.Region", on_delete=models.CASCADE, related_name="+")
    date = models.DateField()

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.via_school("school", operator_via_school=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school", "date"], name="rollup_school_day_once")]
        indexes = [models.Index(fields=["district", "date"], name="school_day_district_date")]

    def __str__(self) -> str:
        return f"{self.school_id} {self.date}"


class SchoolTerm(models.Model):
    """A school's participation in a term: its pupils, those taking part (a confirmed place), its classes' teachers
    (staff and outside) and its items (classes) taught by outside teachers (the province caps them at 30%)."""

    school = models.ForeignKey("orgs.School", on_delete=models.CASCADE, related_name="+")
    district = models.ForeignKey("orgs.Region", on_delete=models.CASCADE, related_name="+")
    term = models.ForeignKey("orgs.Term", on_delete=models.CASCADE, related_name="+")
    pupils = models.PositiveIntegerField(default=0)
    pupils_taking_part = models.PositiveIntegerField(default=0)
    teachers_staff = models.PositiveIntegerField(default=0)
    teachers_outside = models.PositiveIntegerField(default=0)
    classes = models.PositiveIntegerField(default=0)
    classes_outside = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.via_school("school", operator_via_school=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school", "term"], name="rollup_school_term_once")]

    def __str__(self) -> str:
        return f"{self.school_id} {self.term_id}"


class RollupMark(models.Model):
    """How far the rollup has followed the raw rows: changes up to ``upto`` are in the tables."""

    name = models.CharField(max_length=40, unique=True)
    upto = models.DateTimeField()
    ran_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} {self.upto:%Y-%m-%d %H:%M:%S}"


class ProgressReport(models.Model):
    """A progress report (通报) the city issues, on demand or on its weekly schedule: the districts and the schools
    ahead and behind, with the dashboards' figures and the onboarding progress, as a PDF and an Excel workbook filed
    here. Each district sees the reports that name it; the city sees all."""

    number = models.CharField(_("number"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=120)
    term = models.ForeignKey("orgs.Term", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    districts = models.ManyToManyField("orgs.Region", related_name="+", blank=True)
    summary = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    pdf = models.FileField(upload_to="supervision/reports/%Y/")
    xlsx = models.FileField(upload_to="supervision/reports/%Y/")
    pdf_sha256 = models.CharField(max_length=64)
    xlsx_sha256 = models.CharField(max_length=64)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(district="districts", operator_via_school=False)

    class Meta:
        ordering = ["-issued_at", "-pk"]
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")

    def __str__(self) -> str:
        return self.number
