"""The teaching platform (教学平台): logging a classroom screen in by scanning its QR code with the teacher's phone.

A screen (any browser, e.g. the room's PC) starts a :class:`ScreenLogin` and shows its QR code and a number; the
teacher, signed in on the phone, scans it, sees what is asking (screen name, network address, time, the number to
match) and confirms or rejects. The screen learns the result by polling with a secret only it holds, and once
approved exchanges it, once, for a session limited to teaching.

    waiting → scanned → approved → used
    waiting | scanned → rejected;  waiting | scanned | approved → expired (after ``expires_at``)
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehou.catalog.models import PUBLIC
from kehou.core.scope import ScopeSpec
from kehou.enrolment.models import CourseClass

_CLASS_SCOPE = CourseClass.kehou_scope


class ScreenLogin(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for a scan")
        SCANNED = "scanned", _("Scanned, awaiting the teacher")
        APPROVED = "approved", _("Approved")
        USED = "used", _("Logged in")
        EXPIRED = "expired", _("Expired")
        REJECTED = "rejected", _("Rejected")

    public_id = models.CharField(max_length=32, unique=True)  # the id the screen and the API use
    token_hash = models.CharField(max_length=64, unique=True)  # SHA-256 of the QR's one-time token
    secret_hash = models.CharField(max_length=64)  # SHA-256 of the screen's secret
    match_number = models.CharField(_("number to match"), max_length=2)
    screen_name = models.CharField(_("screen name"), max_length=60, blank=True)
    screen_ip = models.CharField(_("screen's address"), max_length=64, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.WAITING)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    scanned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    scanned_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    wrong_secrets = models.PositiveSmallIntegerField(default=0)

    # The teacher who scanned it sees it; nobody else (the screen reaches it through its secret, not a scope).
    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(owner="scanned_by")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("screen login")
        verbose_name_plural = _("screen logins")
        indexes = [models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="waiting") | Q(scanned_by__isnull=False) | Q(status="expired"),
                name="screen_login_scanned_by",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.status}"


class CourseOutline(models.Model):
    """One version of a library course's outline (课程设置): its units and lessons. Editing makes a new version; the
    versions before it stay as they were (a session linked to one of their lessons keeps it)."""

    item = models.ForeignKey("catalog.CatalogItem", on_delete=models.PROTECT, related_name="outlines")
    version = models.PositiveIntegerField(_("version"))
    note = models.CharField(_("what changed"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    kehou_scope: ClassVar[ScopeSpec] = PUBLIC  # a library course's outline is read by everyone signed in

    class Meta:
        ordering = ["item_id", "-version"]
        verbose_name = _("course outline")
        verbose_name_plural = _("course outlines")
        constraints = [
            models.UniqueConstraint(fields=["item", "version"], name="outline_version_once"),
            models.CheckConstraint(condition=Q(version__gte=1), name="outline_version_from_one"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} v{self.version}"


class OutlineUnit(models.Model):
    outline = models.ForeignKey(CourseOutline, on_delete=models.CASCADE, related_name="units")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("unit"), max_length=60)

    kehou_scope: ClassVar[ScopeSpec] = PUBLIC

    class Meta:
        ordering = ["outline_id", "position"]
        constraints = [models.UniqueConstraint(fields=["outline", "position"], name="outline_unit_position_once")]

    def __str__(self) -> str:
        return self.name


class OutlineLesson(models.Model):
    unit = models.ForeignKey(OutlineUnit, on_delete=models.CASCADE, related_name="lessons")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("lesson"), max_length=60)
    minutes = models.PositiveSmallIntegerField(_("minutes"))

    kehou_scope: ClassVar[ScopeSpec] = PUBLIC

    class Meta:
        ordering = ["unit__outline_id", "unit__position", "position"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "position"], name="outline_lesson_position_once"),
            models.CheckConstraint(condition=Q(minutes__gte=5, minutes__lte=240), name="outline_lesson_minutes"),
        ]

    def __str__(self) -> str:
        return self.name


class SessionLesson(models.Model):
    """The lesson of the outline taught in one session of a course class."""

    session = models.OneToOneField("enrolment.ClassSession", on_delete=models.CASCADE, related_name="lesson_link")
    lesson = models.ForeignKey(OutlineLesson, on_delete=models.PROTECT, related_name="sessions")
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField()

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.through("session__course_class", _CLASS_SCOPE)

    class Meta:
        verbose_name = _("session's lesson")
        verbose_name_plural = _("sessions' lessons")

    def __str__(self) -> str:
        return f"{self.session_id} → {self.lesson_id}"


class TeachingGroup(models.Model):
    """A school's teaching group (教研组): teachers who share their lesson preparation."""

    school = models.ForeignKey("orgs.School", on_delete=models.CASCADE, related_name="teaching_groups")
    name = models.CharField(_("name"), max_length=40)
    members = models.ManyToManyField("people.TeacherProfile", related_name="teaching_groups", blank=True)
    created_at = models.DateTimeField()

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.via_school("school", teacher="members", operator_via_school=False)

    class Meta:
        ordering = ["school_id", "name"]
        verbose_name = _("teaching group")
        verbose_name_plural = _("teaching groups")
        constraints = [models.UniqueConstraint(fields=["school", "name"], name="teaching_group_name_once")]

    def __str__(self) -> str:
        return self.name


def _plan_rule(scope: Any, prefix: str) -> Q:
    """Who reads a prepared lesson besides its author: the members of its teaching group (shared with the group),
    the teachers and administrators of its school (shared with the school; the administrators also the group's),
    the school's district bureau (shared with the school)."""
    from kehou.people.models import TeacherProfile

    q = Q(pk__in=[])
    if scope.teacher_ids:
        q |= Q(**{f"{prefix}sharing": "group", f"{prefix}group__members__in": scope.teacher_ids})
        schools = TeacherProfile.schools.through.objects.filter(teacherprofile_id__in=scope.teacher_ids).values(
            "school_id"
        )
        q |= Q(**{f"{prefix}sharing": "school", f"{prefix}school__in": schools})
    if scope.school_ids:
        q |= Q(**{f"{prefix}sharing__in": ("group", "school"), f"{prefix}school__in": scope.school_ids})
    if scope.district_ids:
        q |= Q(**{f"{prefix}sharing": "school", f"{prefix}school__district__in": scope.district_ids})
    return q


class LessonPlan(models.Model):
    """A prepared lesson (备课): goals, timed steps and notes, by one teacher, shared at a level of their choosing.
    Others use a shared lesson by copying it; the copy records its origin and the version it was copied from."""

    class Sharing(models.TextChoices):
        PRIVATE = "private", _("Only me")
        GROUP = "group", _("My teaching group")
        SCHOOL = "school", _("My school")

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="lesson_plans")
    school = models.ForeignKey("orgs.School", on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey("catalog.CatalogItem", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=80)
    goals = models.TextField(_("goals"), max_length=2000)
    steps = models.JSONField(_("steps"), default=list)  # [{"text", "minutes"}]
    notes = models.TextField(_("notes"), max_length=4000, blank=True)
    sharing = models.CharField(_("shared with"), max_length=8, choices=Sharing.choices, default=Sharing.PRIVATE)
    group = models.ForeignKey(TeachingGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="plans")
    version = models.PositiveIntegerField(default=1)
    origin = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies")
    origin_version = models.PositiveIntegerField(null=True, blank=True)
    courseware = models.ManyToManyField("teaching.Courseware", blank=True, related_name="plans")
    # submitted to a district or city library (reviewed like courses): the latest submission
    submission = models.ForeignKey(
        "catalog.Submission", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # copied from a library lesson: the library item copied (``origin`` is then the lesson it was made from)
    origin_item = models.ForeignKey(
        "catalog.CatalogItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(owner="owner", rule=_plan_rule)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        verbose_name = _("prepared lesson")
        verbose_name_plural = _("prepared lessons")
        constraints = [
            models.CheckConstraint(condition=~Q(sharing="group") | Q(group__isnull=False), name="plan_group_named"),
        ]

    def __str__(self) -> str:
        return self.title


# --- Courseware (课件) ------------------------------------------------------------------------------------------------


class Rendition(models.Model):
    """The pages of one file's content, made once per SHA-256 and shared by every courseware with that content (the
    conversion cache): a PDF or an Office file converted to PDF by LibreOffice, then each page drawn as a PNG; an
    image re-drawn as one page. Made by the task worker."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to convert")
        CONVERTING = "converting", _("Converting")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Conversion failed")

    sha256 = models.CharField(max_length=64, unique=True)
    source_kind = models.CharField(max_length=8)  # pdf | office | image
    source = models.CharField(max_length=200)  # the stored file converted (the first courseware's)
    status = models.CharField(_("conversion"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    pages = models.PositiveIntegerField(default=0)
    error_code = models.CharField(max_length=40, blank=True)
    error = models.CharField(max_length=300, blank=True)
    seconds = models.FloatField(null=True, blank=True)  # how long the conversion took
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("conversion")
        verbose_name_plural = _("conversions")
        constraints = [
            models.CheckConstraint(condition=~Q(status="ready") | Q(pages__gt=0), name="rendition_ready_has_pages"),
        ]

    def __str__(self) -> str:
        return f"{self.sha256[:12]} {self.status}"

    def page_name(self, number: int) -> str:
        return f"courseware/pages/{self.sha256}/{number:04d}.png"


class Courseware(models.Model):
    """A teacher's courseware (课件): a document, a deck, an image, a sound or a short video, checked by its content
    and stored under a server-made name; documents, decks and images are shown page by page from their rendition.
    Shared like prepared lessons: with nobody, the teacher's teaching group or their school."""

    class Kind(models.TextChoices):
        PDF = "pdf", _("PDF document")
        SLIDES = "slides", _("PowerPoint deck")
        DOCUMENT = "document", _("Word document")
        IMAGE = "image", _("Image")
        AUDIO = "audio", _("Audio")
        VIDEO = "video", _("Video")

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="courseware")
    school = models.ForeignKey("orgs.School", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=80)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    file = models.FileField(upload_to="courseware/files/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=80)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    rendition = models.ForeignKey(Rendition, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    links_removed = models.PositiveIntegerField(default=0)  # external references stripped from an Office file
    sharing = models.CharField(
        _("shared with"), max_length=8, choices=LessonPlan.Sharing.choices, default=LessonPlan.Sharing.PRIVATE
    )
    group = models.ForeignKey(TeachingGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(owner="owner", rule=_plan_rule)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("courseware")
        verbose_name_plural = _("courseware")
        constraints = [
            models.CheckConstraint(condition=~Q(sharing="group") | Q(group__isnull=False), name="courseware_group"),
            models.CheckConstraint(
                condition=Q(kind__in=("audio", "video"), rendition__isnull=True)
                | (~Q(kind__in=("audio", "video")) & Q(rendition__isnull=False)),
                name="courseware_paged_has_rendition",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def paged(self) -> bool:
        return self.rendition_id is not None


class Presentation(models.Model):
    """A teacher showing courseware on a classroom screen, page by page; the teacher's phone drives it as a remote
    through the live channel (topic ``presentation:<id>``). The page is the server's: the screen and the phone
    both read and move it."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="presentations")
    courseware = models.ForeignKey(Courseware, on_delete=models.PROTECT, related_name="presentations")
    page = models.PositiveIntegerField(default=1)
    screen_name = models.CharField(max_length=60, blank=True)
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(owner="owner")

    class Meta:
        ordering = ["-updated_at", "-pk"]
        verbose_name = _("presentation")
        verbose_name_plural = _("presentations")
        constraints = [models.CheckConstraint(condition=Q(page__gte=1), name="presentation_page_positive")]

    def __str__(self) -> str:
        return f"{self.courseware} p{self.page}"
