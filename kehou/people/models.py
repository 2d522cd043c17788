"""Accounts, roles bound to scopes, pupils, guardians, teachers, experts, API tokens and SMS codes."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehou.core.roles import Role
from kehou.core.scope import ScopeSpec

from .validators import validate_student_number_check

PHONE_RE = r"^1[3-9]\d{9}$"
# 全国学籍号: "G" + the 18-character resident identity number (or "L" + a locally issued number of that form).
STUDENT_NUMBER_RE = r"^[GL]\d{17}[\dX]$"
phone_validator = RegexValidator(PHONE_RE, _("Enter a mainland mobile number of 11 digits."), code="invalid_phone")
student_number_validator = RegexValidator(
    STUDENT_NUMBER_RE, _("A student number is G or L followed by 18 characters."), code="invalid_student_number"
)


class User(AbstractUser):
    phone = models.CharField(
        _("mobile phone"), max_length=11, unique=True, null=True, blank=True, validators=[phone_validator]
    )
    full_name = models.CharField(_("name"), max_length=40, blank=True)
    failed_login_count = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(owner="")

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")

    def __str__(self) -> str:
        return self.full_name or self.username


class RoleAssignment(models.Model):
    """One role of one person, bound to the scope it acts in. A person may hold several."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    district = models.ForeignKey("orgs.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("orgs.School", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    operator = models.ForeignKey(
        "orgs.OperatorCompany", null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    granted_at = models.DateTimeField(_("granted at"))

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(
        district="district", school="school", owner="user", operator_via_school=False
    )

    class Meta:
        verbose_name = _("role assignment")
        constraints = [
            models.CheckConstraint(
                name="role_binding_matches_role",
                condition=(
                    Q(role="district_admin", district__isnull=False, school__isnull=True, operator__isnull=True)
                    | Q(role="school_admin", school__isnull=False, district__isnull=True, operator__isnull=True)
                    | Q(role="operator_staff", operator__isnull=False, district__isnull=True, school__isnull=True)
                    | (
                        Q(role__in=["superuser", "city_admin", "teacher", "parent", "expert"])
                        & Q(district__isnull=True, school__isnull=True, operator__isnull=True)
                    )
                ),
            ),
            models.UniqueConstraint(
                fields=["user", "district"], condition=Q(role="district_admin"), name="district_admin_once"
            ),
            models.UniqueConstraint(
                fields=["user", "school"], condition=Q(role="school_admin"), name="school_admin_once"
            ),
            models.UniqueConstraint(
                fields=["user", "operator"], condition=Q(role="operator_staff"), name="operator_staff_once"
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=Q(role__in=["superuser", "city_admin", "teacher", "parent", "expert"]),
                name="unbound_role_once",
            ),
        ]

    def __str__(self) -> str:
        target = self.district or self.school or self.operator
        return f"{self.user} · {self.get_role_display()}" + (f" · {target}" if target else "")


class TeacherProfile(models.Model):
    class Kind(models.TextChoices):
        STAFF = "staff", _("School staff teacher")
        OUTSIDE = "outside", _("Outside teacher (social resource)")

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="teacher_profile")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    organisation = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="teachers"
    )
    # The school that employs a staff teacher, and the schools an outside teacher teaches at.
    schools = models.ManyToManyField("orgs.School", related_name="teachers", blank=True)
    subjects = models.CharField(_("subjects"), max_length=120, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(
        district="schools__district", school="schools", teacher="", owner="user"
    )

    class Meta:
        verbose_name = _("teacher")
        verbose_name_plural = _("teachers")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="outside") | Q(organisation__isnull=True), name="staff_teacher_has_no_organisation"
            )
        ]

    def __str__(self) -> str:
        return str(self.user)


class ExpertProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="expert_profile")
    specialities = models.JSONField(_("specialities"), default=list, blank=True)
    affiliation = models.CharField(_("affiliation"), max_length=100, blank=True)
    affiliation_school = models.ForeignKey(
        "orgs.School", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    affiliation_organisation = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(expert="", owner="user")

    class Meta:
        verbose_name = _("expert")
        verbose_name_plural = _("experts")

    def __str__(self) -> str:
        return str(self.user)


class Pupil(models.Model):
    class Gender(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    student_number = models.CharField(
        _("student number (学籍号)"),
        max_length=19,
        unique=True,
        validators=[student_number_validator, validate_student_number_check],
    )
    name = models.CharField(_("name"), max_length=40)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("birth date"))
    school = models.ForeignKey("orgs.School", on_delete=models.PROTECT, related_name="pupils")
    grade = models.PositiveSmallIntegerField(_("grade"), validators=[MinValueValidator(1), MaxValueValidator(9)])
    class_name = models.CharField(_("class"), max_length=20)
    created_at = models.DateTimeField(_("registered at"))

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.via_school("school", pupil="")

    class Meta:
        ordering = ["school_id", "grade", "class_name", "name"]
        verbose_name = _("pupil")
        verbose_name_plural = _("pupils")
        constraints = [
            models.CheckConstraint(condition=Q(grade__gte=1, grade__lte=9), name="pupil_grade_range"),
        ]
        indexes = [models.Index(fields=["school", "grade", "class_name"])]

    def __str__(self) -> str:
        return self.name


class Guardian(models.Model):
    class Relation(models.TextChoices):
        FATHER = "father", _("Father")
        MOTHER = "mother", _("Mother")
        GRANDFATHER = "grandfather", _("Grandfather")
        GRANDMOTHER = "grandmother", _("Grandmother")
        OTHER = "other", _("Other guardian")

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="guardians")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="guardianships")
    relation = models.CharField(_("relation"), max_length=12, choices=Relation.choices)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.via_school("pupil__school", pupil="pupil", owner="user")

    class Meta:
        verbose_name = _("guardian")
        verbose_name_plural = _("guardians")
        constraints = [models.UniqueConstraint(fields=["pupil", "user"], name="guardian_once_per_pupil")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_relation_display()}) → {self.pupil}"


class ApiToken(models.Model):
    """A bearer token for API clients. Only a SHA-256 of the secret is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(owner="user")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("created_at")), name="token_expires_after")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class SmsCode(models.Model):
    """A one-time login code sent by SMS. Only a hash of the code is stored."""

    phone = models.CharField(max_length=11, db_index=True, validators=[phone_validator])
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    # The resend window (seconds since the epoch // 60) the code was sent in: one code per phone per window.
    window = models.PositiveBigIntegerField(default=0)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec()

    class Meta:
        indexes = [models.Index(fields=["phone", "-created_at"])]
        constraints = [models.UniqueConstraint(fields=["phone", "window"], name="sms_code_once_per_window")]

    def __str__(self) -> str:
        return f"SMS code for {self.phone[:3]}****{self.phone[-4:]}"
