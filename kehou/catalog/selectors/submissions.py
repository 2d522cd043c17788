"""Reads of submissions: the lists in scope, one submission with its versions and proofs, who may see whose identity."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from kehou.core.errors import KehouError
from kehou.core.scope import Scope
from kehou.orgs.models import Region, School
from kehou.people.models import TeacherProfile

from ..models import PanelMember, ProofFile, Submission, SubmissionVersion
from ..services.common import city_region
from ..services.proofs import may_submit_for


def submission_list(
    *, scope: Scope, status: str = "", kind: str = "", library: str = "", search: str = ""
) -> QuerySet[Submission]:
    qs = scope.filter(
        Submission.objects.select_related(
            "library_region", "submitter_school", "submitter_organisation", "submitter_user", "category"
        )
    )
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if library:
        qs = qs.filter(library_region__code=library)
    if search:
        qs = qs.filter(title__icontains=search)
    return qs.order_by("-updated_at", "-pk")


def submissions_in_library(
    *, scope: Scope, status: str = "", kind: str = "", library: str = "", search: str = ""
) -> QuerySet[Submission]:
    """The catalog's submission list; ``library`` is ``city``, ``district`` or a region code."""
    if library == "city":
        return submission_list(scope=scope, status=status, kind=kind, library=city_region().code, search=search)
    qs = submission_list(
        scope=scope, status=status, kind=kind, library="" if library == "district" else library, search=search
    )
    if library == "district":
        qs = qs.exclude(library_region__kind=Region.Kind.CITY)
    return qs


def submission_detail_qs() -> QuerySet[Submission]:
    versions = SubmissionVersion.objects.select_related("teacher__user", "created_by").prefetch_related(
        "teachers__user", "proofs"
    )
    return Submission.objects.select_related(
        "library_region", "submitter_school", "submitter_organisation", "submitter_user", "category"
    ).prefetch_related(Prefetch("versions", queryset=versions.order_by("number")))


def proofs_readable(scope: Scope) -> QuerySet[ProofFile]:
    """Proofs are shown only to those who submit or review them: the submitter side (the submitting school's
    administrators, the submitting person), the bureau that owns the library, and the active members of a panel
    of the submission (and the city bureau). A district bureau that merely follows its schools' submissions to the
    city library sees the submission, not its proofs."""
    if scope.everything:
        return ProofFile.objects.all()
    s = "version__submission__"
    q = Q(pk__in=[])
    if scope.district_ids:
        q |= Q(**{f"{s}library_region__in": scope.district_ids})
    if scope.school_ids:
        q |= Q(**{f"{s}submitter_school__in": scope.school_ids})
    if scope.user_id:
        q |= Q(**{f"{s}submitter_user": scope.user_id})
    if scope.expert_ids:
        q |= Q(
            **{
                f"{s}panels__members__expert__in": scope.expert_ids,
                f"{s}panels__members__status": PanelMember.Status.ACTIVE,
            }
        )
    return ProofFile.objects.filter(pk__in=ProofFile.objects.filter(q).values("pk"))


def proofs_of(*, scope: Scope, version: SubmissionVersion) -> list[ProofFile]:
    return list(scope.filter(proofs_readable(scope).filter(version=version)).order_by("pk"))


def teachers_nameable(*, actor: Any, school: School | None) -> QuerySet[TeacherProfile]:
    """The teachers a submitter may name: the school's own staff, or the outside teacher and their organisation's
    teachers. Empty for anyone who is not a submitter."""

    from ..services.submissions import resolve_submitter

    try:
        submitter = resolve_submitter(actor, school=school)
    except KehouError:
        return TeacherProfile.objects.none()
    return (
        TeacherProfile.objects.filter(pk__in=submitter.teacher_ids)
        .select_related("user")
        .order_by("user__full_name", "pk")
    )


def is_outside_teacher(actor: Any) -> bool:
    return TeacherProfile.objects.filter(user=actor, kind=TeacherProfile.Kind.OUTSIDE).exists()


def may_see_identity(*, scope: Scope, actor: Any, submission: Submission) -> bool:
    """A dossier's identity number is shown in full to the submitter side and the bureau that owns the library."""
    return scope.everything or submission.library_region_id in scope.district_ids or may_submit_for(actor, submission)


def current_version(submission: Submission) -> SubmissionVersion:
    return submission.versions.get(number=submission.version_count)
