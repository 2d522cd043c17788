"""The city's organisations: regions (GB/T 2260), schools, operator companies, teacher organisations, terms."""

from __future__ import annotations

from typing import ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehou.core.scope import ScopeSpec


class Region(models.Model):
    class Kind(models.TextChoices):
        CITY = "city", _("City")
        DISTRICT = "district", _("District")
        COUNTY = "county", _("County")
        ZONE = "zone", _("Development zone / management area")

    code = models.CharField(_("code"), max_length=12, unique=True, validators=[RegexValidator(r"^\d{6,12}$")])
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")

    # A district (any non-city region) is itself the unit of district scope.
    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(district="", operator_via_school=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="city", parent__isnull=True) | (~Q(kind="city") & Q(parent__isnull=False)),
                name="region_city_is_root",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_city(self) -> bool:
        return self.kind == self.Kind.CITY


class School(models.Model):
    class Crs(models.TextChoices):
        WGS84 = "wgs84", _("WGS-84 (GPS, phones)")
        GCJ02 = "gcj02", _("GCJ-02 (Chinese maps)")

    class LeaveApprover(models.TextChoices):
        TEACHER = "teacher", _("The class's teacher or the school")
        SCHOOL = "school", _("The school only")

    class Stage(models.TextChoices):
        PRIMARY = "primary", _("Primary school")
        JUNIOR = "junior", _("Junior high school")
        NINE_YEAR = "nine_year", _("Nine-year school")

    class Authority(models.TextChoices):
        CITY_BUREAU = "city_bureau", _("City bureau school (局属)")
        PROVINCE_INSTITUTION = "province_institution", _("Province institution school")
        CITY_PRIVATE = "city_private", _("City-managed private school")
        DISTRICT = "district", _("District school")

    code = models.CharField(
        _("school identifier"), max_length=10, unique=True, validators=[RegexValidator(r"^\d{10}$")]
    )
    name = models.CharField(_("name"), max_length=80)
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices)
    authority = models.CharField(_("run by"), max_length=24, choices=Authority.choices)
    district = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="schools", verbose_name=_("district"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    # The system the school's point is stated in (check-ins are compared in WGS-84 after converting both).
    coordinate_system = models.CharField(_("coordinate system"), max_length=6, choices=Crs.choices, default=Crs.WGS84)
    checkin_radius_m = models.PositiveIntegerField(
        _("check-in radius (m)"), default=300, validators=[MinValueValidator(20), MaxValueValidator(5000)]
    )
    joined_at = models.DateTimeField(_("joined the platform at"), null=True, blank=True)
    phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    leave_approver = models.CharField(
        _("who decides leave for one session"),
        max_length=8,
        choices=LeaveApprover.choices,
        default=LeaveApprover.TEACHER,
        help_text=_("The school's administrators always may; with “the class's teacher” the teacher may too."),
    )

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.via_school("", teacher="teachers", pupil="pupils")

    class Meta:
        ordering = ["district__code", "code"]
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        constraints = [
            models.CheckConstraint(condition=Q(latitude__gte=-90, latitude__lte=90), name="school_latitude_range"),
            models.CheckConstraint(condition=Q(longitude__gte=-180, longitude__lte=180), name="school_longitude_range"),
            models.CheckConstraint(condition=Q(checkin_radius_m__gte=20), name="school_checkin_radius_min"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_joined(self) -> bool:
        return self.joined_at is not None

    @property
    def grade_range(self) -> range:
        if self.stage == self.Stage.PRIMARY:
            return range(1, 7)
        if self.stage == self.Stage.JUNIOR:
            return range(7, 10)
        return range(1, 10)

    @property
    def uses_city_library(self) -> bool:
        """局属 and other city-managed schools pick from the city library; district schools from their district's."""
        return self.authority != self.Authority.DISTRICT


class OperatorCompany(models.Model):
    """A company that runs featured courses for a set of authorised schools (运营方)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        unique=True,
        validators=[RegexValidator(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")],
    )
    contact_name = models.CharField(_("contact"), max_length=40, blank=True)
    schools: models.ManyToManyField[School, OperatorAuthorisation] = models.ManyToManyField(
        School, through="OperatorAuthorisation", related_name="operators"
    )

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(
        district="schools__district", school="schools", operator="", operator_via_school=False
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("operator company")
        verbose_name_plural = _("operator companies")

    def __str__(self) -> str:
        return self.name


class OperatorAuthorisation(models.Model):
    operator = models.ForeignKey(OperatorCompany, on_delete=models.CASCADE, related_name="authorisations")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="operator_authorisations")
    granted_at = models.DateTimeField(_("granted at"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["operator", "school"], name="operator_school_once")]

    def __str__(self) -> str:
        return f"{self.operator_id} → {self.school_id}"


class Organisation(models.Model):
    """An outside ("social resource") provider that teachers may belong to (社会资源机构)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    district = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="organisations")

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(district="district", operator_via_school=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Term(models.Model):
    """A semester (学期) set by the city. Teaching days are Monday–Friday within [starts_on, ends_on],
    minus holidays, plus make-up days (调休补课), see :class:`CalendarDay`."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec()  # visible to everyone signed in (see selectors)

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = _("term")
        verbose_name_plural = _("terms")
        constraints = [models.CheckConstraint(condition=Q(ends_on__gt=models.F("starts_on")), name="term_dates")]

    def __str__(self) -> str:
        return self.name


class CalendarDay(models.Model):
    """An exception to the Monday–Friday rule: a holiday, or a weekend make-up teaching day.

    ``school`` is null for city-wide days; a school may add its own (e.g. a sports day)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday (no classes)")
        MAKEUP = "makeup", _("Make-up teaching day (调休补课)")

    term = models.ForeignKey(Term, on_delete=models.CASCADE, related_name="calendar_days")
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.CASCADE, related_name="calendar_days")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=60, blank=True)
    # Weekday whose timetable a make-up day follows (0=Monday); null for holidays.
    follows_weekday = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(4)])

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["term", "date"], condition=Q(school__isnull=True), name="city_day_once"),
            models.UniqueConstraint(fields=["term", "school", "date"], name="school_day_once"),
            models.CheckConstraint(
                condition=Q(kind="holiday", follows_weekday__isnull=True)
                | Q(kind="makeup", follows_weekday__isnull=False),
                name="makeup_follows_weekday",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"
