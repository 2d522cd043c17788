"""Reads for the submitters' and the experts' API and pages: submissions with their versions, the proofs a person
may open, panel seats, the teachers a submitter may name, and the panel's decisions as the submitter sees them
(comments and mean score, the experts anonymised)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from kehou.core.scope import Scope
from kehou.orgs.models import Region, School
from kehou.people.models import TeacherProfile

from . import selectors
from .models import Decision, Panel, PanelMember, ProofFile, QualityItem, Submission, SubmissionVersion
from .services.common import city_region
from .services.proofs import may_submit_for


def submission_list(
    *, scope: Scope, status: str = "", kind: str = "", library: str = "", search: str = ""
) -> QuerySet[Submission]:
    """The catalog's submission list; ``library`` is ``city``, ``district`` or a region code."""
    if library == "city":
        return selectors.submission_list(
            scope=scope, status=status, kind=kind, library=city_region().code, search=search
        )
    qs = selectors.submission_list(
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


def seats_readable(scope: Scope) -> QuerySet[PanelMember]:
    """A panel seat is read by its expert and by the bureau that drew the panel (never by the submitter)."""
    qs = PanelMember.objects.select_related(
        "panel", "panel__region", "panel__submission", "panel__submission__category", "expert__user", "score"
    )
    if scope.everything:
        return qs
    q = Q(pk__in=[])
    if scope.expert_ids:
        q |= Q(expert__in=scope.expert_ids)
    if scope.district_ids:
        q |= Q(panel__region__in=scope.district_ids)
    return qs.filter(q)


SEAT_STATES = ("pending", "scored", "declined", "closed")


def seat_state(seat: PanelMember) -> str:
    if seat.status == PanelMember.Status.DECLINED:
        return "declined"
    if hasattr(seat, "score"):
        return "scored"
    if seat.panel.status != Panel.Status.OPEN:
        return "closed"
    return "pending"


def my_seats(*, scope: Scope, state: str = "", search: str = "") -> QuerySet[PanelMember]:
    """The caller's own seats on panels (an expert's review tasks), newest first."""
    qs = seats_readable(scope).filter(expert__in=scope.expert_ids)
    if state == "declined":
        qs = qs.filter(status=PanelMember.Status.DECLINED)
    elif state == "scored":
        qs = qs.filter(score__isnull=False)
    elif state == "closed":
        qs = qs.filter(status=PanelMember.Status.ACTIVE, score__isnull=True).exclude(panel__status=Panel.Status.OPEN)
    elif state == "pending":
        qs = qs.filter(status=PanelMember.Status.ACTIVE, score__isnull=True, panel__status=Panel.Status.OPEN)
    if search:
        qs = qs.filter(panel__submission__title__icontains=search)
    return qs.order_by("-panel__drawn_at", "-pk")


def quality_items() -> list[QualityItem]:
    return list(QualityItem.objects.order_by("number"))


def teachers_nameable(*, actor: Any, school: School | None) -> QuerySet[TeacherProfile]:
    """The teachers a submitter may name: the school's own staff, or the outside teacher and their organisation's
    teachers. Empty for anyone who is not a submitter."""
    from kehou.core.errors import KehouError

    from .services.submissions import resolve_submitter

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


def expert_label(n: int) -> str:
    return _("Expert %(n)s") % {"n": n}


@dataclass(frozen=True)
class PanelView:
    round: int
    version_number: int
    status: str
    status_label: str
    size: int
    scored: int
    drawn_at: Any


def panels_of(submission: Submission) -> list[PanelView]:
    """Each panel's progress, without the experts' identities."""
    result = []
    for panel in submission.panels.order_by("round").prefetch_related("members__score"):
        active = [m for m in panel.members.all() if m.status == PanelMember.Status.ACTIVE]
        result.append(
            PanelView(
                round=panel.round,
                version_number=panel.version_number,
                status=panel.status,
                status_label=str(panel.get_status_display()),
                size=panel.size,
                scored=sum(1 for m in active if hasattr(m, "score")),
                drawn_at=panel.drawn_at,
            )
        )
    return result


def decisions_of(submission: Submission) -> list[dict[str, Any]]:
    """The decisions taken on a submission, newest first, with the panel's comments and the mean score.

    The experts are anonymised ("专家1", "专家2", … in the order of the draw) and individual scores are not shown.
    """
    decisions = (
        Decision.objects.filter(panel__submission=submission).select_related("panel").order_by("-panel__round", "-pk")
    )
    result = []
    for decision in decisions:
        members = (
            decision.panel.members.filter(status=PanelMember.Status.ACTIVE, score__isnull=False)
            .select_related("score")
            .order_by("draw_position")
        )
        reasons = decision.reasons or {}
        result.append(
            {
                "round": decision.panel.round,
                "version_number": decision.panel.version_number,
                "outcome": decision.outcome,
                "outcome_label": str(decision.get_outcome_display()),
                "mean_bp": decision.mean_bp,
                "decided_at": decision.decided_at,
                "rule": reasons.get("rule", ""),
                "vetoed_items": list(reasons.get("vetoed_items", [])),
                "comments": [
                    {"expert": expert_label(i), "comment": m.score.comment} for i, m in enumerate(members, start=1)
                ],
            }
        )
    return result


def may_see_identity(*, scope: Scope, actor: Any, submission: Submission) -> bool:
    """A dossier's identity number is shown in full to the submitter side and the bureau that owns the library."""
    return scope.everything or submission.library_region_id in scope.district_ids or may_submit_for(actor, submission)


def current_version(submission: Submission) -> SubmissionVersion:
    return submission.versions.get(number=submission.version_count)
