"""Submissions of featured courses and teacher dossiers, and their revisions (every version kept)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from kehou.core import audit
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, Forbidden, KehouError, NotFound
from kehou.core.money import fen_to_yuan_str
from kehou.orgs.models import Organisation, Region, School
from kehou.people.models import Role, TeacherProfile

from ..models import Category, FeeStandard, Submission, SubmissionVersion
from .common import city_region, scope_of


@dataclass
class CourseFields:
    name: str
    category: Category
    introduction: str
    grades: list[int]
    minutes_per_hour: int
    hours_per_term: int
    fee_per_hour_fen: int
    teacher_ids: list[int]
    materials_description: str = ""
    materials_price_fen: int | None = None


@dataclass
class DossierFields:
    teacher_id: int
    category: Category
    identity_number: str
    qualifications: str
    subjects: str
    certificates: str = ""
    background_checked_on: date | None = None
    background_check_result: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class LessonFields:
    """A prepared lesson (备课) put forward by its teacher: a snapshot the review reads and the library keeps."""

    title: str
    category: Category
    goals: str
    steps: list[dict[str, Any]]
    notes: str = ""
    source_plan: int | None = None
    source_version: int | None = None


@dataclass(frozen=True)
class Submitter:
    school: School | None
    organisation: Organisation | None
    # Teachers this submitter may put forward: a school's own staff, or an outside teacher (and their org's).
    teacher_ids: frozenset[int]
    district: Region | None


def resolve_submitter(actor: Any, *, school: School | None) -> Submitter:
    """Who is submitting: a school (its admin acting) or an outside teacher (for themselves / their organisation)."""
    scope = scope_of(actor)
    if school is not None:
        if school.pk not in scope.school_ids:
            raise NotFound(_("Not found."))
        staff = TeacherProfile.objects.filter(schools=school, kind=TeacherProfile.Kind.STAFF)
        return Submitter(school, None, frozenset(staff.values_list("pk", flat=True)), school.district)
    profile = getattr(actor, "teacher_profile", None)
    if Role.TEACHER not in scope.roles or profile is None or profile.kind != TeacherProfile.Kind.OUTSIDE:
        raise Forbidden(
            _("Courses of school teachers are submitted by the school; outside teachers submit their own."),
            code=ErrorCode.NOT_A_SUBMITTER,
        )
    teachers = {profile.pk}
    if profile.organisation_id:
        teachers |= set(
            TeacherProfile.objects.filter(organisation_id=profile.organisation_id).values_list("pk", flat=True)
        )
    org = profile.organisation
    return Submitter(None, org, frozenset(teachers), org.district if org else None)


def lesson_submitter(actor: Any, *, school: School | None) -> Submitter:
    """A prepared lesson is put forward by its own teacher, at a school they teach at (its administrators see the
    submission as the school's)."""
    profile = getattr(actor, "teacher_profile", None)
    if school is None or profile is None or not profile.schools.filter(pk=school.pk).exists():
        raise Forbidden(_("A teacher submits their own prepared lessons."), code=ErrorCode.NOT_A_SUBMITTER)
    return Submitter(school, None, frozenset(), school.district)


def _lesson_version(
    submission: Submission,
    number: int,
    fields: LessonFields,
    *,
    submitter: Submitter,
    actor: Any,
    now: datetime,
    note: str,
) -> SubmissionVersion:
    version = SubmissionVersion(
        submission=submission,
        number=number,
        created_at=now,
        created_by=actor,
        change_note=note,
        name=fields.title[:80],
        introduction=fields.goals[:3000],
        content={
            "goals": fields.goals,
            "steps": list(fields.steps),
            "notes": fields.notes,
            "source_plan": fields.source_plan,
            "source_version": fields.source_version,
        },
    )
    version.full_clean(exclude=["submission"])
    version.save()
    return version


def _builder(fields: Any) -> Any:
    if isinstance(fields, CourseFields):
        return _course_version
    if isinstance(fields, LessonFields):
        return _lesson_version
    return _dossier_version


def _kind_of(fields: Any) -> str:
    if isinstance(fields, CourseFields):
        return Submission.Kind.COURSE
    if isinstance(fields, LessonFields):
        return Submission.Kind.LESSON
    return Submission.Kind.TEACHER


def library_for(submitter: Submitter, library: str) -> Region:
    """``city`` or ``district``: a district library is the submitter's own district's."""
    if library == "city":
        return city_region()
    if library == "district" and submitter.district is not None:
        return submitter.district
    raise KehouError(
        _("Choose the city library or your own district's library."),
        code=ErrorCode.INVALID_LIBRARY,
        fields={"library": library},
    )


def fee_standard_for(region: Region, category: Category) -> FeeStandard | None:
    """The district's own standard where it has one, else the city's."""
    standard = FeeStandard.objects.filter(region=region, category=category).first()
    if standard is None and not region.is_city:
        standard = FeeStandard.objects.filter(region__kind=Region.Kind.CITY, category=category).first()
    return standard


def check_fee(region: Region, category: Category, fee_per_hour_fen: int) -> FeeStandard:
    standard = fee_standard_for(region, category)
    if standard is None:
        raise KehouError(
            _("No fee standard is set for this category."),
            code=ErrorCode.NO_FEE_STANDARD,
            fields={"category": category.code},
        )
    if not standard.min_fee_fen <= fee_per_hour_fen <= standard.max_fee_fen:
        raise KehouError(
            _("The fee per class hour must be between %(low)s and %(high)s yuan.")
            % {"low": fen_to_yuan_str(standard.min_fee_fen), "high": fen_to_yuan_str(standard.max_fee_fen)},
            code=ErrorCode.FEE_OUT_OF_STANDARD,
            fields={
                "fee_per_hour_fen": fee_per_hour_fen,
                "min_fee_fen": standard.min_fee_fen,
                "max_fee_fen": standard.max_fee_fen,
            },
        )
    return standard


def _course_version(
    submission: Submission,
    number: int,
    fields: CourseFields,
    *,
    submitter: Submitter,
    actor: Any,
    now: datetime,
    note: str,
) -> SubmissionVersion:
    if not fields.teacher_ids:
        raise KehouError(_("Name at least one teacher."), code=ErrorCode.NO_TEACHER, fields={"teacher_ids": []})
    unknown = set(fields.teacher_ids) - submitter.teacher_ids
    if unknown:
        raise KehouError(
            _("These teachers are not yours to submit."),
            code=ErrorCode.TEACHER_NOT_YOURS,
            fields={"teacher_ids": sorted(unknown)},
        )
    if (
        not isinstance(fields.grades, list | tuple)
        or not fields.grades
        or any(not isinstance(g, int) or isinstance(g, bool) or not 1 <= g <= 9 for g in fields.grades)
    ):
        raise KehouError(
            _("Target grades are 1 to 9."), code=ErrorCode.INVALID_GRADES, fields={"grades": fields.grades}
        )
    check_fee(submission.library_region, fields.category, fields.fee_per_hour_fen)
    version = SubmissionVersion(
        submission=submission,
        number=number,
        created_at=now,
        created_by=actor,
        change_note=note,
        name=fields.name,
        introduction=fields.introduction,
        grades=sorted(set(fields.grades)),
        minutes_per_hour=fields.minutes_per_hour,
        hours_per_term=fields.hours_per_term,
        fee_per_hour_fen=fields.fee_per_hour_fen,
        materials_description=fields.materials_description,
        materials_price_fen=fields.materials_price_fen,
    )
    if fields.materials_price_fen is not None and not fields.materials_description:
        raise KehouError(_("Describe the materials that have a price."), code=ErrorCode.MATERIALS_UNDESCRIBED)
    version.full_clean(exclude=["submission"])
    version.save()
    version.teachers.set(sorted(set(fields.teacher_ids)))
    return version


def _dossier_version(
    submission: Submission,
    number: int,
    fields: DossierFields,
    *,
    submitter: Submitter,
    actor: Any,
    now: datetime,
    note: str,
) -> SubmissionVersion:
    if fields.teacher_id not in submitter.teacher_ids:
        raise KehouError(
            _("This teacher is not yours to submit."),
            code=ErrorCode.TEACHER_NOT_YOURS,
            fields={"teacher_id": fields.teacher_id},
        )
    version = SubmissionVersion(
        submission=submission,
        number=number,
        created_at=now,
        created_by=actor,
        change_note=note,
        name=submission.title,
        teacher_id=fields.teacher_id,
        identity_number=fields.identity_number,
        qualifications=fields.qualifications,
        certificates=fields.certificates,
        subjects=fields.subjects,
        background_checked_on=fields.background_checked_on,
        background_check_result=fields.background_check_result,
    )
    version.full_clean(exclude=["submission"])
    version.save()
    return version


def submission_create(
    *,
    actor: Any,
    school: School | None,
    library: str,
    fields: CourseFields | DossierFields | LessonFields,
    now: datetime,
) -> Submission:
    """Submit a course, a teacher dossier or a prepared lesson to the city library or the submitter's district
    library."""
    is_lesson = isinstance(fields, LessonFields)
    submitter = lesson_submitter(actor, school=school) if is_lesson else resolve_submitter(actor, school=school)
    region = library_for(submitter, library)
    if isinstance(fields, CourseFields):
        title = fields.name
    elif isinstance(fields, LessonFields):
        title = fields.title
    else:
        teacher = TeacherProfile.objects.select_related("user").filter(pk=fields.teacher_id).first()
        title = str(teacher) if teacher else "?"
    with transaction.atomic():
        submission = Submission(
            kind=_kind_of(fields),
            library_region=region,
            submitter_school=submitter.school,
            submitter_organisation=submitter.organisation,
            submitter_user=actor,
            title=title[:80],
            category=fields.category,
            created_at=now,
            updated_at=now,
        )
        submission.full_clean()
        submission.save()
        version = _builder(fields)(submission, 1, fields, submitter=submitter, actor=actor, now=now, note="")
        audit.record(
            actor=actor,
            action=AuditAction.SUBMISSION_CREATED,
            obj=submission,
            now=now,
            school_id=submitter.school.pk if submitter.school else None,
            district_id=region.pk if not region.is_city else None,
            after={
                "kind": submission.kind,
                "library": region.code,
                "title": submission.title,
                "version": version.number,
            },
        )
    return submission


def submission_revise(
    *,
    actor: Any,
    submission: Submission,
    fields: CourseFields | DossierFields | LessonFields,
    note: str,
    now: datetime,
) -> SubmissionVersion:
    """Add a version to a returned submission (or one not yet under review) and put it back in the queue."""
    school = submission.submitter_school
    if submission.kind == Submission.Kind.LESSON:
        submitter = lesson_submitter(actor, school=school)
        if submission.submitter_user_id != actor.pk:  # a lesson is revised by its own teacher only
            raise NotFound(_("Not found."))
    else:
        submitter = resolve_submitter(actor, school=school)
    # An outside teacher's submission is revised by its submitter, or by a teacher of the same organisation;
    # two independent teachers (no organisation) do not share one.
    same_organisation = (
        submission.submitter_organisation_id is not None
        and submitter.organisation is not None
        and submitter.organisation.pk == submission.submitter_organisation_id
    )
    if school is None and submission.submitter_user_id != actor.pk and not same_organisation:
        raise NotFound(_("Not found."))
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        if locked.status not in (Submission.Status.RETURNED, Submission.Status.SUBMITTED):
            raise Conflict(
                _("Only a returned submission, or one not yet in review, can be revised."),
                code=ErrorCode.NOT_REVISABLE,
                fields={"status": locked.status},
            )
        if locked.kind != _kind_of(fields):
            raise KehouError(_("The revision is of another kind."), code=ErrorCode.WRONG_KIND)
        number = locked.version_count + 1
        version = _builder(fields)(locked, number, fields, submitter=submitter, actor=actor, now=now, note=note)
        before = {"status": locked.status, "version": locked.version_count}
        # Conditional on the count read under the lock: a revision never overwrites another's number.
        moved = Submission.objects.filter(pk=locked.pk, version_count=locked.version_count).update(
            version_count=F("version_count") + 1,
            status=Submission.Status.SUBMITTED,
            updated_at=now,
            title=(locked.title if locked.kind == Submission.Kind.TEACHER else version.name)[:80],
            category=fields.category,
        )
        if not moved:
            raise Conflict(
                _("Someone revised this submission at the same moment; reload it."), code=ErrorCode.REVISED_MEANWHILE
            )
        audit.record(
            actor=actor,
            action=AuditAction.SUBMISSION_REVISED,
            obj=locked,
            now=now,
            before=before,
            school_id=school.pk if school else None,
            district_id=None if locked.library_region.is_city else locked.library_region_id,
            after={"status": Submission.Status.SUBMITTED, "version": number, "note": note},
        )
    submission.refresh_from_db()
    return version


def submission_withdraw(*, actor: Any, submission: Submission, reason: str, now: datetime) -> Submission:
    """The submitter withdraws a submission that is not under review (submitted or returned)."""
    school = submission.submitter_school
    scope = scope_of(actor)
    own = school.pk in scope.school_ids if school is not None else submission.submitter_user_id == actor.pk
    if not own:
        raise NotFound(_("Not found."))
    if not reason.strip():
        raise KehouError(_("Give a reason."), code=ErrorCode.REASON_REQUIRED)
    with transaction.atomic():
        updated = Submission.objects.filter(
            pk=submission.pk, status__in=[Submission.Status.SUBMITTED, Submission.Status.RETURNED]
        ).update(status=Submission.Status.WITHDRAWN, updated_at=now)
        if not updated:
            raise Conflict(
                _("Only a submission that is not under review can be withdrawn."),
                code=ErrorCode.NOT_WITHDRAWABLE,
                fields={"status": Submission.objects.values_list("status", flat=True).get(pk=submission.pk)},
            )
        audit.record(
            actor=actor,
            action=AuditAction.SUBMISSION_WITHDRAWN,
            obj=submission,
            now=now,
            school_id=school.pk if school else None,
            district_id=None if submission.library_region.is_city else submission.library_region_id,
            before={"status": submission.status},
            after={"status": Submission.Status.WITHDRAWN, "reason": reason.strip()[:200]},
        )
    submission.refresh_from_db()
    return submission
