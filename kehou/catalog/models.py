"""Course and teacher libraries: submissions and their versions, proof files, fee standards, the quality
standards, experts' recusals, randomly drawn review panels, scores, decisions, the three-level libraries and the
filings of district and school library changes with the city bureau."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehou.core.scope import Scope, ScopeSpec


def _everyone(scope: Scope, prefix: str) -> Q:
    # Not Q(): an empty Q vanishes when OR-ed into the scope's other conditions (Q(pk__in=[]) | Q() is "nothing").
    return Q(pk__isnull=False)


PUBLIC = ScopeSpec(rule=_everyone)  # reference data every signed-in role may read


class Category(models.Model):
    """A course category (科技, 体育, 艺术, 人文, 劳动, 心理, …): configurable."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=20, unique=True)
    order = models.PositiveSmallIntegerField(default=0)

    kehou_scope: ClassVar[ScopeSpec] = PUBLIC

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class FeeStandard(models.Model):
    """The allowed fee per class hour for a category, and the teacher pay rate, set by the city or a district."""

    region = models.ForeignKey("orgs.Region", on_delete=models.PROTECT, related_name="fee_standards")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="fee_standards")
    min_fee_fen = models.PositiveIntegerField(_("lowest fee per class hour (fen)"))
    max_fee_fen = models.PositiveIntegerField(_("highest fee per class hour (fen)"))
    teacher_pay_fen = models.PositiveIntegerField(_("teacher pay per class hour (fen)"))
    set_at = models.DateTimeField()

    kehou_scope: ClassVar[ScopeSpec] = PUBLIC

    class Meta:
        verbose_name = _("fee standard")
        verbose_name_plural = _("fee standards")
        constraints = [
            models.UniqueConstraint(fields=["region", "category"], name="fee_standard_once"),
            models.CheckConstraint(condition=Q(min_fee_fen__lte=F("max_fee_fen")), name="fee_standard_range"),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.category}"


class QualityItem(models.Model):
    """One of the city's quality standards (20 by default) against which experts score a submission."""

    number = models.PositiveSmallIntegerField(_("number"), unique=True)
    title = models.CharField(_("standard"), max_length=80)
    description = models.CharField(_("description"), max_length=300, blank=True)
    weight = models.PositiveSmallIntegerField(_("weight"), validators=[MinValueValidator(1)])
    max_score = models.PositiveSmallIntegerField(_("highest score"), default=10, validators=[MinValueValidator(1)])
    is_veto = models.BooleanField(_("veto item"), default=False)

    kehou_scope: ClassVar[ScopeSpec] = PUBLIC

    class Meta:
        ordering = ["number"]
        verbose_name = _("quality standard")
        verbose_name_plural = _("quality standards")
        constraints = [
            models.CheckConstraint(condition=Q(weight__gte=1, max_score__gte=1), name="quality_item_positive")
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"


class ReviewPolicy(models.Model):
    """How a region's panels are drawn and decided. The city's row is the default; a district may override."""

    region = models.OneToOneField("orgs.Region", on_delete=models.PROTECT, related_name="review_policy")
    panel_size = models.PositiveSmallIntegerField(
        _("panel size"), default=5, validators=[MinValueValidator(1), MaxValueValidator(15)]
    )
    # Thresholds are in basis points of the weighted score (10000 = every item at its highest score).
    admit_threshold_bp = models.PositiveIntegerField(_("admit at mean ≥ (‱)"), default=7500)
    return_threshold_bp = models.PositiveIntegerField(_("return for revision at mean ≥ (‱)"), default=6000)

    kehou_scope: ClassVar[ScopeSpec] = PUBLIC

    class Meta:
        verbose_name = _("review policy")
        constraints = [
            models.CheckConstraint(
                condition=Q(return_threshold_bp__lte=F("admit_threshold_bp"), admit_threshold_bp__lte=10000),
                name="review_policy_thresholds",
            ),
            models.CheckConstraint(condition=Q(panel_size__gte=1, panel_size__lte=15), name="review_policy_size"),
        ]

    def __str__(self) -> str:
        return f"{self.region}: {self.panel_size}"


def _submission_rule(scope: Scope, prefix: str) -> Q:
    # A district bureau also follows its own schools' submissions to the city library.
    if scope.district_ids:
        return Q(**{f"{prefix}submitter_school__district__in": scope.district_ids})
    return Q(pk__in=[])


class Submission(models.Model):
    class Kind(models.TextChoices):
        COURSE = "course", _("Featured course")
        TEACHER = "teacher", _("Teacher dossier")
        LESSON = "lesson", _("Prepared lesson")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        IN_REVIEW = "in_review", _("In review")
        RETURNED = "returned", _("Returned for revision")
        ADMITTED = "admitted", _("Admitted")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", pgettext_lazy("submission", "Withdrawn")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    library_region = models.ForeignKey(
        "orgs.Region", on_delete=models.PROTECT, related_name="submissions", verbose_name=_("library")
    )
    submitter_school = models.ForeignKey(
        "orgs.School", null=True, blank=True, on_delete=models.PROTECT, related_name="submissions"
    )
    submitter_organisation = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="submissions"
    )
    submitter_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submissions")
    title = models.CharField(_("title"), max_length=80)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="submissions")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    version_count = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(
        district="library_region",
        school="submitter_school",
        owner="submitter_user",
        expert="panels__members__expert",
        operator_via_school=False,
        rule=_submission_rule,
    )

    class Meta:
        ordering = ["-updated_at", "-pk"]
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        constraints = [
            models.CheckConstraint(
                condition=Q(submitter_school__isnull=True) | Q(submitter_organisation__isnull=True),
                name="submission_one_submitter",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class SubmissionVersion(models.Model):
    """Every version of a submission is kept; a revision adds a version, nothing is overwritten."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    change_note = models.CharField(_("what changed"), max_length=300, blank=True)
    # Course
    name = models.CharField(_("name"), max_length=80)
    introduction = models.TextField(_("introduction"), max_length=3000, blank=True)
    grades = models.JSONField(_("target grades"), default=list, blank=True)
    minutes_per_hour = models.PositiveSmallIntegerField(_("minutes per class hour"), null=True, blank=True)
    hours_per_term = models.PositiveSmallIntegerField(_("class hours per term"), null=True, blank=True)
    fee_per_hour_fen = models.PositiveIntegerField(_("fee per class hour (fen)"), null=True, blank=True)
    materials_description = models.CharField(_("materials (optional)"), max_length=200, blank=True)
    materials_price_fen = models.PositiveIntegerField(_("materials price (fen)"), null=True, blank=True)
    teachers = models.ManyToManyField("people.TeacherProfile", related_name="course_versions", blank=True)
    # Teacher dossier
    teacher = models.ForeignKey(
        "people.TeacherProfile", null=True, blank=True, on_delete=models.PROTECT, related_name="dossier_versions"
    )
    identity_number = models.CharField(_("identity number"), max_length=18, blank=True)
    qualifications = models.TextField(_("qualifications"), max_length=2000, blank=True)
    certificates = models.TextField(_("certificates"), max_length=2000, blank=True)
    subjects = models.CharField(_("subjects"), max_length=120, blank=True)
    background_checked_on = models.DateField(_("background check date"), null=True, blank=True)
    background_check_result = models.CharField(_("background check result"), max_length=200, blank=True)
    # Prepared lesson (备课), submitted by its teacher from the teaching platform: a snapshot of it,
    # {"goals", "steps": [{"text", "minutes"}], "notes", "source_plan", "source_version"}
    content = models.JSONField(_("lesson"), default=dict, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.through("submission", Submission.kehou_scope)

    class Meta:
        ordering = ["submission_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "number"], name="submission_version_once"),
            models.CheckConstraint(
                condition=Q(materials_price_fen__isnull=True) | Q(materials_price_fen__gte=0),
                name="materials_price_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"


class ProofFile(models.Model):
    """An uploaded proof (PDF or image), stored under a server-made name, shown only to those who review it."""

    class Kind(models.TextChoices):
        IDENTITY = "identity", _("Identity document")
        QUALIFICATION = "qualification", _("Qualification")
        CERTIFICATE = "certificate", _("Certificate")
        BACKGROUND = "background", _("Background check")
        COURSE_PLAN = "course_plan", _("Course plan")
        OTHER = "other", _("Other")

    version = models.ForeignKey(SubmissionVersion, on_delete=models.PROTECT, related_name="proofs")
    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)
    file = models.FileField(upload_to="proofs/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.through("version__submission", Submission.kehou_scope)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.original_name


class ExpertRecusal(models.Model):
    """An expert's declared conflict of interest: a school, an organisation, or one submission."""

    expert = models.ForeignKey("people.ExpertProfile", on_delete=models.CASCADE, related_name="recusals")
    school = models.ForeignKey("orgs.School", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    submission = models.ForeignKey(Submission, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=200)
    declared_at = models.DateTimeField()

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(expert="expert")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(school__isnull=False) | Q(organisation__isnull=False) | Q(submission__isnull=False),
                name="recusal_names_something",
            )
        ]

    def __str__(self) -> str:
        return f"{self.expert}: {self.reason}"


class Panel(models.Model):
    """A review panel drawn at random. ``seed`` and ``pool`` let anyone re-run the draw (see catalog.draw)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Scoring")
        DECIDED = "decided", _("Decided")
        CANCELLED = "cancelled", _("Cancelled")

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="panels")
    version_number = models.PositiveSmallIntegerField()
    round = models.PositiveSmallIntegerField()
    region = models.ForeignKey("orgs.Region", on_delete=models.PROTECT, related_name="+")
    size = models.PositiveSmallIntegerField()
    seed = models.CharField(max_length=64)
    pool = models.JSONField(help_text="Sorted ids of the eligible experts the draw used.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    drawn_at = models.DateTimeField()
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.through("submission", Submission.kehou_scope)

    class Meta:
        ordering = ["-drawn_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "round"], name="panel_round_once"),
            models.UniqueConstraint(
                fields=["submission"], condition=Q(status="open"), name="one_open_panel_per_submission"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.submission} #{self.round}"


class PanelMember(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("On the panel")
        DECLINED = "declined", _("Declined")

    panel = models.ForeignKey(Panel, on_delete=models.PROTECT, related_name="members")
    expert = models.ForeignKey("people.ExpertProfile", on_delete=models.PROTECT, related_name="panel_seats")
    draw_position = models.PositiveSmallIntegerField(help_text="Position of the expert in the draw's ordering.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    replaces = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by")
    joined_at = models.DateTimeField()
    declined_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(max_length=200, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.through("panel__submission", Submission.kehou_scope)

    class Meta:
        ordering = ["panel_id", "draw_position"]
        constraints = [
            models.UniqueConstraint(fields=["panel", "expert"], name="expert_once_per_panel"),
            models.UniqueConstraint(fields=["panel", "draw_position"], name="draw_position_once"),
        ]

    def __str__(self) -> str:
        return f"{self.expert} @ {self.panel}"


class Score(models.Model):
    """One panel member's score sheet. One per member (the database refuses a second)."""

    member = models.OneToOneField(PanelMember, on_delete=models.PROTECT, related_name="score")
    item_scores = models.JSONField()  # {"1": 9, "2": 7, …} by quality item number
    vetoed_items = models.JSONField(default=list, blank=True)  # numbers of veto items this expert failed
    total_bp = models.PositiveIntegerField(validators=[MaxValueValidator(10000)])
    comment = models.TextField(_("comment"), max_length=2000)
    scored_at = models.DateTimeField()

    # Scores are independent: an expert reads only their own sheet, and the submitter none (the submitter sees the
    # anonymised comments of a decided panel through the decision); bureaus read them through the submission.
    kehou_scope: ClassVar[ScopeSpec] = replace(
        ScopeSpec.through("member__panel__submission", Submission.kehou_scope),
        expert="member__expert",
        school=None,
        owner=None,
    )

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(total_bp__lte=10000), name="score_total_range")]

    def __str__(self) -> str:
        return f"{self.member}: {self.total_bp}"


class Decision(models.Model):
    class Outcome(models.TextChoices):
        ADMITTED = "admitted", _("Admitted")
        RETURNED = "returned", _("Returned for revision")
        REJECTED = "rejected", _("Rejected")

    panel = models.OneToOneField(Panel, on_delete=models.PROTECT, related_name="decision")
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    mean_bp = models.PositiveIntegerField()
    reasons = models.JSONField()
    decided_at = models.DateTimeField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.through("panel__submission", Submission.kehou_scope)

    def __str__(self) -> str:
        return f"{self.panel}: {self.outcome}"


class CatalogItem(models.Model):
    """What a decision admitted: a course (with its teachers) or a teacher. Read by everyone signed in."""

    kind = models.CharField(max_length=10, choices=Submission.Kind.choices)
    submission = models.OneToOneField(Submission, on_delete=models.PROTECT, related_name="item")
    version = models.ForeignKey(SubmissionVersion, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=80)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="items")
    provider_school = models.ForeignKey(
        "orgs.School", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    provider_organisation = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    teacher = models.ForeignKey(
        "people.TeacherProfile", null=True, blank=True, on_delete=models.PROTECT, related_name="library_items"
    )
    admitted_at = models.DateTimeField()

    kehou_scope: ClassVar[ScopeSpec] = PUBLIC

    class Meta:
        ordering = ["category__order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=("course", "lesson")) | Q(teacher__isnull=False),
                name="teacher_item_names_teacher",
            )
        ]

    def __str__(self) -> str:
        return self.name


def _library_rule(scope: Scope, prefix: str) -> Q:
    p = prefix
    schools = scope.school_ids | scope.operator_school_ids
    q = Q(**{f"{p}level": "city"})
    if schools:
        q |= Q(**{f"{p}level": "district", f"{p}region__schools__in": schools})
    if scope.district_ids:
        q |= Q(**{f"{p}level": "school", f"{p}school__district__in": scope.district_ids})
    return q


class LibraryEntry(models.Model):
    """An item in the city library, a district library or a school library.

    A district entry adopts a city entry, a school entry picks a city or district entry (``upstream``). An entry
    is usable only while it and everything upstream of it are active (see selectors.usable_entries).
    """

    class Level(models.TextChoices):
        CITY = "city", _("City library")
        DISTRICT = "district", _("District library")
        SCHOOL = "school", _("School library")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Source(models.TextChoices):
        ADMITTED = "admitted", _("Admitted by review")
        ADOPTED = "adopted", _("Adopted from the city library")
        PICKED = "picked", _("Picked into the school library")

    item = models.ForeignKey(CatalogItem, on_delete=models.PROTECT, related_name="entries")
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    region = models.ForeignKey("orgs.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(
        "orgs.School", null=True, blank=True, on_delete=models.PROTECT, related_name="library_entries"
    )
    upstream = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="downstream")
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    added_at = models.DateTimeField()
    status_changed_at = models.DateTimeField()

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(
        district="region", school="school", operator_via_school=True, rule=_library_rule
    )

    class Meta:
        ordering = ["level", "item__category__order", "item__name"]
        verbose_name = _("library entry")
        verbose_name_plural = _("library entries")
        constraints = [
            models.CheckConstraint(
                name="library_entry_level_binding",
                condition=(
                    Q(level="city", region__isnull=False, school__isnull=True, upstream__isnull=True)
                    | Q(level="district", region__isnull=False, school__isnull=True)
                    | Q(level="school", school__isnull=False, region__isnull=True, upstream__isnull=False)
                ),
            ),
            models.UniqueConstraint(fields=["item", "region"], name="library_item_once_per_region"),
            models.UniqueConstraint(fields=["item", "school"], name="library_item_once_per_school"),
        ]

    def __str__(self) -> str:
        where = self.school or self.region
        return f"{self.item} @ {where}"


class LibraryEntryEvent(models.Model):
    """History of an entry's status (append-only)."""

    entry = models.ForeignKey(LibraryEntry, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    reason = models.CharField(max_length=200, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.through("entry", LibraryEntry.kehou_scope)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.entry}: {self.from_status}→{self.to_status}"


class Filing(models.Model):
    """A change to a district or school library, filed (备案) with the city bureau."""

    class Change(models.TextChoices):
        ADDED = "added", _("Added")
        SUSPENDED = "suspended", _("Suspended")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        REACTIVATED = "reactivated", _("Reactivated")

    class Status(models.TextChoices):
        FILED = "filed", _("Filed")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")

    entry = models.ForeignKey(LibraryEntry, on_delete=models.PROTECT, related_name="filings")
    change = models.CharField(_("change"), max_length=12, choices=Change.choices)
    district = models.ForeignKey("orgs.Region", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("orgs.School", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.FILED)
    filed_at = models.DateTimeField()
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(district="district", school="school", operator_via_school=False)

    class Meta:
        ordering = ["-filed_at", "-pk"]
        verbose_name = _("filing")
        verbose_name_plural = _("filings")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="filed", acknowledged_at__isnull=True)
                | Q(status="acknowledged", acknowledged_at__isnull=False),
                name="filing_acknowledgement",
            )
        ]

    def __str__(self) -> str:
        return f"{self.entry}: {self.change}"
