"""Reads of review: the queue, panels with their seats and scores, the experts' own seats, the draw's verification."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from kehou.core.scope import Scope
from kehou.people.models import ExpertProfile

from .. import draw
from ..models import (
    Decision,
    Panel,
    PanelMember,
    QualityItem,
    Submission,
)
from ..services.review import panel_verify
from .libraries import is_bureau
from .submissions import submission_list


def panel_list(*, scope: Scope, status: str = "") -> QuerySet[Panel]:
    qs = scope.filter(Panel.objects.select_related("submission", "region"))
    if status:
        qs = qs.filter(status=status)
    return qs


DRAW_METHOD = (
    'Order the pool by sha256("<seed>:<expert id>") as lowercase hex (ties by id); the panel is the first `size` '
    "experts of that order and each decliner is replaced by the next unused position."
)


def review_queue(
    *, scope: Scope, status: str = "", kind: str = "", library: str = "", category: str = "", search: str = ""
) -> QuerySet[Submission]:
    """Submissions a bureau follows: its library's, and (a district) its own schools' to the city library."""
    if not is_bureau(scope):
        return Submission.objects.none()
    qs = submission_list(scope=scope, status=status, kind=kind, library=library, search=search)
    if category:
        qs = qs.filter(category__code=category)
    return qs.prefetch_related(Prefetch("panels", queryset=Panel.objects.order_by("-round"), to_attr="rounds"))


def latest_panel(submission: Submission) -> Panel | None:
    rounds = getattr(submission, "rounds", None)
    if rounds is None:
        return submission.panels.order_by("-round").first()
    return rounds[0] if rounds else None


def panel_rows(*, scope: Scope, status: str = "", library: str = "", search: str = "") -> QuerySet[Panel]:
    qs = panel_list(scope=scope, status=status)
    if library:
        qs = qs.filter(region__code=library)
    if search:
        qs = qs.filter(submission__title__icontains=search)
    return qs.select_related("submission__category", "decision").prefetch_related(
        Prefetch("members", queryset=PanelMember.objects.select_related("score"))
    )


def seat_counts(panel: Panel) -> tuple[int, int]:
    """(active members who have scored, panel size)."""
    active = [m for m in panel.members.all() if m.status == PanelMember.Status.ACTIVE]
    return sum(1 for m in active if hasattr(m, "score")), panel.size


def verify_data(panel: Panel) -> dict[str, Any]:
    """Re-run the draw from the recorded seed and pool (see catalog.draw)."""
    order = draw.draw_order(panel.seed, panel.pool)
    seats = list(panel.members.order_by("draw_position").values_list("expert_id", flat=True))
    return {
        "panel": panel.pk,
        "seed": panel.seed,
        "pool": list(panel.pool),
        "size": panel.size,
        "order": order,
        "members": seats,
        "reproduced": panel_verify(panel),
        "method": DRAW_METHOD,
    }


def pool_experts(panel: Panel) -> dict[int, Any]:
    """The experts of a panel's pool by id, with their accounts: the bureau's panel page names each by the
    username they log in with. Only for a bureau that may administer the panel (the caller checks)."""
    experts = ExpertProfile.objects.filter(pk__in=list(panel.pool)).select_related("user")
    return {e.pk: e for e in experts}


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
