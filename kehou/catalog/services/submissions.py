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
    *, actor: Any, school: School | None, library: str, fields: CourseFields | DossierFields, now: datetime
) -> Submission:
    """Submit a course or a teacher dossier to the city library or the submitter's district library."""
    submitter = resolve_submitter(actor, school=school)
    region = library_for(submitter, library)
    is_course = isinstance(fields, CourseFields)
    if isinstance(fields, CourseFields):
        title = fields.name
    else:
        teacher = TeacherProfile.objects.select_related("user").filter(pk=fields.teacher_id).first()
        title = str(teacher) if teacher else "?"
    with transaction.atomic():
        submission = Submission(
            kind=Submission.Kind.COURSE if is_course else Submission.Kind.TEACHER,
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
        builder = _course_version if is_course else _dossier_version
        version = builder(submission, 1, fields, submitter=submitter, actor=actor, now=now, note="")  # type: ignore[arg-type]
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
    *, actor: Any, submission: Submission, fields: CourseFields | DossierFields, note: str, now: datetime
) -> SubmissionVersion:
    """Add a version to a returned submission (or one not yet under review) and put it back in the queue."""
    school = submission.submitter_school
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
        if (locked.kind == Submission.Kind.COURSE) != isinstance(fields, CourseFields):
            raise KehouError(_("The revision is of another kind."), code=ErrorCode.WRONG_KIND)
        number = locked.version_count + 1
        builder = _course_version if isinstance(fields, CourseFields) else _dossier_version
        version = builder(locked, number, fields, submitter=submitter, actor=actor, now=now, note=note)  # type: ignore[arg-type]
        before = {"status": locked.status, "version": locked.version_count}
        # Conditional on the count read under the lock: a revision never overwrites another's number.
        moved = Submission.objects.filter(pk=locked.pk, version_count=locked.version_count).update(
            version_count=F("version_count") + 1,
            status=Submission.Status.SUBMITTED,
            updated_at=now,
            title=(version.name if locked.kind == Submission.Kind.COURSE else locked.title)[:80],
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
