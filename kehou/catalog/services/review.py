"""Review: drawing panels at random from the expert pool, declines and redraws, scoring, and the decision."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from kehou.core import audit
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, Forbidden, KehouError, NotFound
from kehou.people.models import ExpertProfile, Role, RoleAssignment

from .. import draw
from ..models import (
    CatalogItem,
    Decision,
    ExpertRecusal,
    LibraryEntry,
    Panel,
    PanelMember,
    QualityItem,
    ReviewPolicy,
    Score,
    Submission,
    SubmissionVersion,
)
from .common import require_region_admin, scope_of


class PanelUnfillable(KehouError):
    code = ErrorCode.PANEL_UNFILLABLE
    status = 409


def policy_for(region: Any) -> ReviewPolicy:
    policy = ReviewPolicy.objects.filter(region=region).first()
    if policy is None and region.parent_id:
        policy = ReviewPolicy.objects.filter(region_id=region.parent_id).first()
    return policy or ReviewPolicy(region=region)


def eligible_pool(submission: Submission) -> list[int]:
    """Ids of the experts who may review a submission: the matching speciality, and no conflict of interest.

    Only experts in the pool count (an active account holding the expert role). Excluded: experts affiliated
    with the submitting school or organisation, experts who declared a recusal for that school, organisation or
    submission, the submitter, and any teacher named in the submission.
    """
    version = submission.versions.get(number=submission.version_count)
    teacher_users = set(version.teachers.values_list("user_id", flat=True))
    if version.teacher_id:
        teacher_users.add(version.teacher.user_id)  # type: ignore[union-attr]
    recusals = ExpertRecusal.objects.filter(
        Q(submission=submission)
        | Q(school_id=submission.submitter_school_id, school__isnull=False)
        | Q(organisation_id=submission.submitter_organisation_id, organisation__isnull=False)
    ).values_list("expert_id", flat=True)
    # The pool: experts whose account is active and who hold the expert role (a revoked expert is out of it).
    in_pool = RoleAssignment.objects.filter(role=Role.EXPERT).values("user_id")
    candidates = ExpertProfile.objects.filter(user__is_active=True, user_id__in=in_pool).exclude(pk__in=list(recusals))
    if submission.submitter_school_id:
        candidates = candidates.exclude(affiliation_school_id=submission.submitter_school_id)
    if submission.submitter_organisation_id:
        candidates = candidates.exclude(affiliation_organisation_id=submission.submitter_organisation_id)
    candidates = candidates.exclude(user_id=submission.submitter_user_id).exclude(user_id__in=teacher_users)
    # Specialities may be recorded by the category's code or its display name.
    wanted = {submission.category.code, submission.category.name}
    return sorted(
        pk for pk, specialities in candidates.values_list("pk", "specialities") if wanted & set(specialities or [])
    )


def panel_draw(
    *, actor: Any, submission: Submission, now: datetime, size: int | None = None, seed: str | None = None
) -> Panel:
    """Draw a panel at random for a submission awaiting review. Refused (never shrunk) if too few are eligible."""
    region = submission.library_region
    require_region_admin(actor, region)
    if size is None:
        size = policy_for(region).panel_size
    if not 1 <= size <= 15:
        raise KehouError(_("A panel has 1 to 15 experts."), code=ErrorCode.INVALID_PANEL_SIZE, fields={"size": size})
    seed = seed or draw.new_seed()
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        if locked.status != Submission.Status.SUBMITTED:
            raise Conflict(
                _("Only a submission awaiting review can get a panel."),
                code=ErrorCode.NOT_AWAITING_REVIEW,
                fields={"status": locked.status},
            )
        pool = eligible_pool(locked)
        if len(pool) < size:
            raise PanelUnfillable(
                _("Only %(n)s experts are eligible; the panel needs %(size)s.") % {"n": len(pool), "size": size},
                fields={"eligible": len(pool), "needed": size},
            )
        round_no = (locked.panels.aggregate(m=Max("round"))["m"] or 0) + 1
        try:
            with transaction.atomic():
                panel = Panel.objects.create(
                    submission=locked,
                    version_number=locked.version_count,
                    round=round_no,
                    region=region,
                    size=size,
                    seed=seed,
                    pool=pool,
                    drawn_at=now,
                    drawn_by=actor,
                )
        except IntegrityError as exc:
            raise Conflict(
                _("A panel is already being drawn for this submission."), code=ErrorCode.PANEL_EXISTS
            ) from exc
        order = draw.draw_order(seed, pool)
        PanelMember.objects.bulk_create(
            PanelMember(panel=panel, expert_id=expert_id, draw_position=i, joined_at=now)
            for i, expert_id in enumerate(order[:size])
        )
        Submission.objects.filter(pk=locked.pk).update(status=Submission.Status.IN_REVIEW, updated_at=now)
        audit.record(
            actor=actor,
            action=AuditAction.PANEL_DRAWN,
            obj=panel,
            now=now,
            school_id=locked.submitter_school_id,
            district_id=None if region.is_city else region.pk,
            after={"seed": seed, "pool": pool, "size": size, "members": order[:size]},
        )
    return panel


def panel_verify(panel: Panel) -> bool:
    """Re-run the draw from the recorded seed and pool and compare with the recorded members."""
    order = draw.draw_order(panel.seed, panel.pool)
    members = list(panel.members.order_by("draw_position").values_list("draw_position", "expert_id"))
    positions = [p for p, _ in members]
    if positions != list(range(len(members))):
        return False
    return all(order[p] == expert_id for p, expert_id in members)


def member_decline(*, actor: Any, member: PanelMember, reason: str, now: datetime) -> PanelMember:
    """An expert declines a seat; the next expert in the draw order takes it (a recorded redraw)."""
    expert = getattr(actor, "expert_profile", None)
    if expert is None or member.expert_id != expert.pk:
        raise NotFound(_("Not found."))
    if not reason.strip():
        raise KehouError(_("Give a reason for declining."), code=ErrorCode.REASON_REQUIRED, fields={"reason": ""})
    with transaction.atomic():
        panel = Panel.objects.select_for_update().get(pk=member.panel_id)
        if panel.status != Panel.Status.OPEN:
            raise Conflict(_("The panel is closed."), code=ErrorCode.PANEL_CLOSED)
        updated = PanelMember.objects.filter(pk=member.pk, status=PanelMember.Status.ACTIVE, score__isnull=True).update(
            status=PanelMember.Status.DECLINED, declined_at=now, decline_reason=reason.strip()[:200]
        )
        if not updated:
            raise Conflict(_("You have already scored or declined."), code=ErrorCode.CANNOT_DECLINE)
        order = draw.draw_order(panel.seed, panel.pool)
        used = panel.members.values_list("draw_position", flat=True)
        position = draw.next_position(order, used)
        if position is None:
            raise PanelUnfillable(
                _("No eligible expert is left to replace you; the bureau must redraw."),
                fields={"eligible": len(order), "needed": panel.size},
            )
        replacement = PanelMember.objects.create(
            panel=panel, expert_id=order[position], draw_position=position, joined_at=now, replaces=member
        )
        audit.record(
            actor=actor,
            action=AuditAction.PANEL_MEMBER_DECLINED,
            obj=panel,
            now=now,
            school_id=panel.submission.submitter_school_id,
            district_id=_district_of(panel),
            after={
                "declined": member.expert_id,
                "replacement": replacement.expert_id,
                "draw_position": position,
                "reason": reason.strip()[:200],
            },
        )
    return replacement


def _district_of(panel: Panel) -> int | None:
    """Where a panel's audit rows belong: the district whose library it reviews for (none for the city's)."""
    return None if panel.region.is_city else panel.region_id


def panel_cancel(*, actor: Any, panel: Panel, reason: str, now: datetime) -> Panel:
    """Cancel an open panel that cannot finish (e.g. a member who must step down has no one left to replace
    them). Its seats and scores are kept as they were; the submission awaits review again, for a new round."""
    require_region_admin(actor, panel.region)
    if not reason.strip():
        raise KehouError(_("Give a reason."), code=ErrorCode.REASON_REQUIRED, fields={"reason": ""})
    with transaction.atomic():
        if not Panel.objects.filter(pk=panel.pk, status=Panel.Status.OPEN).update(status=Panel.Status.CANCELLED):
            raise Conflict(_("The panel is closed."), code=ErrorCode.PANEL_CLOSED)
        Submission.objects.filter(pk=panel.submission_id, status=Submission.Status.IN_REVIEW).update(
            status=Submission.Status.SUBMITTED, updated_at=now
        )
        audit.record(
            actor=actor,
            action=AuditAction.PANEL_CANCELLED,
            obj=panel,
            now=now,
            school_id=panel.submission.submitter_school_id,
            district_id=_district_of(panel),
            after={"reason": reason.strip()[:200]},
        )
    panel.refresh_from_db()
    return panel


def score_total_bp(items: list[QualityItem], item_scores: dict[int, int]) -> int:
    """Weighted score in basis points: Σ weight·score/max ÷ Σ weight × 10000, rounded half up."""
    total_weight = sum(i.weight for i in items)
    value = sum(Fraction(i.weight * item_scores[i.number], i.max_score) for i in items) / total_weight * 10000
    return int(value + Fraction(1, 2))


def score_submit(
    *,
    actor: Any,
    member: PanelMember,
    item_scores: dict[str, Any],
    vetoed_items: list[Any],
    comment: str,
    now: datetime,
) -> Score:
    """Score a submission against every quality standard. Once per member, only while the panel is open."""
    expert = getattr(actor, "expert_profile", None)
    if expert is None or member.expert_id != expert.pk:
        raise NotFound(_("Not found."))
    items = list(QualityItem.objects.all())
    if not items:
        raise KehouError(_("The quality standards are not set up."), code=ErrorCode.NO_QUALITY_STANDARDS)
    scores: dict[int, int] = {}
    errors: dict[str, Any] = {}
    if not isinstance(item_scores, dict):
        raise KehouError(
            _("The score sheet is not complete."),
            code=ErrorCode.INVALID_SCORE_SHEET,
            fields={"item_scores": [{"code": "not_a_mapping", "message": _("Scores by standard number.")}]},
        )
    if vetoed_items is None:
        vetoed_items = []
    if not isinstance(vetoed_items, list | tuple):
        errors["vetoed_items"] = [{"code": "not_a_list", "message": _("A list of veto item numbers.")}]
        vetoed_items = []
    for item in items:
        raw = item_scores.get(str(item.number), item_scores.get(item.number))  # type: ignore[call-overload]
        if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw <= item.max_score:
            errors[str(item.number)] = [
                {"code": "invalid_score", "message": _("0 to %(max)s") % {"max": item.max_score}}
            ]
        else:
            scores[item.number] = raw
    known = {str(i.number) for i in items}
    for key in item_scores:
        if str(key) not in known:
            errors[str(key)] = [{"code": "unknown_item", "message": _("Unknown standard.")}]
    veto_numbers = {i.number for i in items if i.is_veto}
    vetoed: list[int] = []
    for v in vetoed_items:
        if not isinstance(v, int) or isinstance(v, bool) or v not in veto_numbers:
            errors.setdefault("vetoed_items", []).append({"code": "not_a_veto_item", "message": str(v)})
        else:
            vetoed.append(v)
    if not (comment or "").strip():
        errors["comment"] = [{"code": "required", "message": _("A comment is required.")}]
    if errors:
        raise KehouError(_("The score sheet is not complete."), code=ErrorCode.INVALID_SCORE_SHEET, fields=errors)
    total = score_total_bp(items, scores)
    with transaction.atomic():
        panel = Panel.objects.select_for_update().get(pk=member.panel_id)
        current = PanelMember.objects.get(pk=member.pk)
        if panel.status != Panel.Status.OPEN:
            raise Conflict(_("The panel has decided; scores are closed."), code=ErrorCode.PANEL_CLOSED)
        if current.status != PanelMember.Status.ACTIVE:
            raise Conflict(_("You declined this panel."), code=ErrorCode.MEMBER_DECLINED)
        if Score.objects.filter(member=current).exists():
            raise Conflict(_("You have already scored this submission."), code=ErrorCode.ALREADY_SCORED)
        try:
            with transaction.atomic():
                score = Score.objects.create(
                    member=current,
                    item_scores={str(k): v for k, v in scores.items()},
                    vetoed_items=sorted(set(vetoed)),
                    total_bp=total,
                    comment=comment.strip(),
                    scored_at=now,
                )
        except IntegrityError as exc:
            raise Conflict(_("You have already scored this submission."), code=ErrorCode.ALREADY_SCORED) from exc
        audit.record(
            actor=actor,
            action=AuditAction.PANEL_SCORED,
            obj=panel,
            now=now,
            school_id=panel.submission.submitter_school_id,
            district_id=_district_of(panel),
            after={"member": current.pk, "total_bp": total, "vetoed": sorted(set(vetoed))},
        )
    return score


def decision_rule(*, policy: ReviewPolicy, totals: list[int], vetoes: list[int]) -> tuple[str, int, dict[str, Any]]:
    """The configured decision rule: any veto rejects; else the mean decides admit / return / reject."""
    mean = int(Fraction(sum(totals), len(totals)) + Fraction(1, 2)) if totals else 0
    reasons: dict[str, Any] = {
        "mean_bp": mean,
        "scores": len(totals),
        "admit_threshold_bp": policy.admit_threshold_bp,
        "return_threshold_bp": policy.return_threshold_bp,
        "vetoed_items": sorted(set(vetoes)),
    }
    if vetoes:
        reasons["rule"] = "veto"
        return Decision.Outcome.REJECTED, mean, reasons
    if mean >= policy.admit_threshold_bp:
        reasons["rule"] = "mean_at_or_above_admit_threshold"
        return Decision.Outcome.ADMITTED, mean, reasons
    if mean >= policy.return_threshold_bp:
        reasons["rule"] = "mean_between_thresholds"
        return Decision.Outcome.RETURNED, mean, reasons
    reasons["rule"] = "mean_below_return_threshold"
    return Decision.Outcome.REJECTED, mean, reasons


def panel_decide(*, actor: Any, panel: Panel, now: datetime) -> Decision:
    """Decide once every active member has scored. Two admins deciding at once yield one decision."""
    region = panel.region
    require_region_admin(actor, region)
    with transaction.atomic():
        status_now = Panel.objects.values_list("status", flat=True).get(pk=panel.pk)
        if status_now == Panel.Status.DECIDED:
            raise Conflict(_("This panel has already been decided."), code=ErrorCode.ALREADY_DECIDED)
        if status_now != Panel.Status.OPEN:
            raise Conflict(_("The panel is closed."), code=ErrorCode.PANEL_CLOSED)
        members = list(panel.members.filter(status=PanelMember.Status.ACTIVE).select_related("score"))
        missing = [m.pk for m in members if not hasattr(m, "score")]
        if missing or len(members) < panel.size:
            raise Conflict(
                _("Not every panel member has scored."),
                code=ErrorCode.NOT_ALL_SCORED,
                fields={"waiting_for": len(missing) + max(0, panel.size - len(members))},
            )
        # The conditional UPDATE is the lock: only one decider moves the panel out of "open".
        if not Panel.objects.filter(pk=panel.pk, status=Panel.Status.OPEN).update(status=Panel.Status.DECIDED):
            raise Conflict(_("This panel has already been decided."), code=ErrorCode.ALREADY_DECIDED)
        totals = [m.score.total_bp for m in members]
        vetoes = [v for m in members for v in m.score.vetoed_items]
        outcome, mean, reasons = decision_rule(policy=policy_for(region), totals=totals, vetoes=vetoes)
        decision = Decision.objects.create(
            panel=panel, outcome=outcome, mean_bp=mean, reasons=reasons, decided_at=now, decided_by=actor
        )
        submission = Submission.objects.select_for_update().get(pk=panel.submission_id)
        new_status: str = {
            Decision.Outcome.ADMITTED: Submission.Status.ADMITTED,
            Decision.Outcome.RETURNED: Submission.Status.RETURNED,
            Decision.Outcome.REJECTED: Submission.Status.REJECTED,
        }[Decision.Outcome(outcome)]
        Submission.objects.filter(pk=submission.pk).update(status=new_status, updated_at=now)
        entry = None
        if outcome == Decision.Outcome.ADMITTED:
            entry = _admit(submission=submission, version_number=panel.version_number, now=now)
        audit.record(
            actor=actor,
            action=AuditAction.PANEL_DECIDED,
            obj=submission,
            now=now,
            school_id=submission.submitter_school_id,
            district_id=None if region.is_city else region.pk,
            before={"status": submission.status},
            after={
                "outcome": outcome,
                "mean_bp": mean,
                "reasons": reasons,
                "library_entry": entry.pk if entry else None,
            },
        )
    return decision


def _admit(*, submission: Submission, version_number: int, now: datetime) -> LibraryEntry:
    version = SubmissionVersion.objects.get(submission=submission, number=version_number)
    item = CatalogItem.objects.create(
        kind=submission.kind,
        submission=submission,
        version=version,
        name=version.name,
        category=submission.category,
        provider_school=submission.submitter_school,
        provider_organisation=submission.submitter_organisation,
        teacher=version.teacher,
        admitted_at=now,
    )
    region = submission.library_region
    return LibraryEntry.objects.create(
        item=item,
        level=LibraryEntry.Level.CITY if region.is_city else LibraryEntry.Level.DISTRICT,
        region=region,
        source=LibraryEntry.Source.ADMITTED,
        added_at=now,
        status_changed_at=now,
    )


def recusal_declare(
    *,
    actor: Any,
    reason: str,
    now: datetime,
    school: Any = None,
    organisation: Any = None,
    submission: Submission | None = None,
) -> ExpertRecusal:
    """An expert declares a conflict of interest; later draws leave them out for that school, organisation or
    submission. (A seat already held is left with ``member_decline``.)"""
    expert = getattr(actor, "expert_profile", None)
    if expert is None or Role.EXPERT not in scope_of(actor).roles:
        raise Forbidden(_("Only experts declare recusals."), code=ErrorCode.NOT_AN_EXPERT)
    if not reason.strip():
        raise KehouError(_("Give a reason."), code=ErrorCode.REASON_REQUIRED)
    if submission is not None and not scope_of(actor).may_see(submission):
        raise NotFound(_("Not found."))
    if school is None and organisation is None and submission is None:
        raise KehouError(_("Name the school, organisation or submission."), code=ErrorCode.RECUSAL_WITHOUT_TARGET)
    recusal = ExpertRecusal(
        expert=expert,
        school=school,
        organisation=organisation,
        submission=submission,
        reason=reason.strip()[:200],
        declared_at=now,
    )
    recusal.full_clean()
    with transaction.atomic():
        recusal.save()
        audit.record(
            actor=actor,
            action=AuditAction.EXPERT_RECUSED,
            obj=recusal,
            now=now,
            school_id=getattr(school, "pk", None),
            after={
                "school": getattr(school, "pk", None),
                "organisation": getattr(organisation, "pk", None),
                "submission": getattr(submission, "pk", None),
                "reason": recusal.reason,
            },
        )
    return recusal


def member_recuse(*, actor: Any, member: PanelMember, reason: str, now: datetime) -> PanelMember:
    """An expert on a panel declares a conflict with the submitter: the recusal is recorded for the submitting
    school or organisation (so later draws leave them out) and the seat is declined and redrawn, in one step."""
    submission = member.panel.submission
    with transaction.atomic():
        recusal_declare(
            actor=actor,
            reason=reason,
            now=now,
            school=submission.submitter_school,
            organisation=submission.submitter_organisation,
            submission=submission
            if not (submission.submitter_school_id or submission.submitter_organisation_id)
            else None,
        )
        return member_decline(actor=actor, member=member, reason=reason, now=now)
