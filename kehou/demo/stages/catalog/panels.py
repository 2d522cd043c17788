"""The catalog stage's review: panels drawn with derived seeds, declines, score sheets planned against the decision
rule, scores and decisions, through ``panel_draw``, ``member_decline``, ``score_submit`` and ``panel_decide``."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from kehou.demo.common import DemoError, seeded_rng

from .base import LoaderBase, Sub
from .reference import (
    ADMIT_COMMENTS,
    DECLINE_REASONS,
    DOSSIER_COMMENTS,
    LOW_COMMENTS,
    RETURN_COMMENTS,
    TARGETS,
    VETO_ITEM,
    VETO_OTHER_COMMENTS,
)
from .timeline import ROUNDS, panel_seed, time_between


class PanelsMixin(LoaderBase):
    # --- reviewing --------------------------------------------------------------------------------------------
    def admin_of(self, region: Any) -> Any:
        return self.users["city"] if region.is_city else self.users[f"district-{region.code}"]

    def draw(self, sub: Sub, at: datetime) -> Any:
        from kehou.catalog.services import review

        submission = sub.submission
        round_no = submission.panels.count() + 1
        sub.panel = review.panel_draw(
            actor=self.admin_of(submission.library_region),
            submission=submission,
            now=at,
            seed=panel_seed(self.seed, sub.index, round_no),
        )
        return sub.panel

    def decline(self, sub: Sub, at: datetime) -> None:
        from kehou.catalog.services import review

        members = self.active_members(sub.panel)
        member = next(m for m in members[1:] if m.expert != self.named_expert)
        review.member_decline(
            actor=self.users[member.expert.user.username],
            member=member,
            reason=DECLINE_REASONS[sub.index % len(DECLINE_REASONS)],
            now=at,
        )

    def active_members(self, panel: Any) -> list[Any]:
        return list(panel.members.filter(status="active").select_related("expert__user").order_by("draw_position"))

    def sheet(self, rng: Any, quality: float, *, veto: bool = False) -> tuple[dict[str, int], list[int]]:
        bias = rng.uniform(-0.35, 0.35)
        scores: dict[str, int] = {}
        for item in self.items:
            value = quality + bias + rng.uniform(-0.9, 0.9)
            if item.is_veto and not veto:
                value = max(value, 7.0 + rng.random() * 2)
            scores[str(item.number)] = max(0, min(item.max_score, round(value * item.max_score / 10)))
        vetoed: list[int] = []
        if veto:
            scores[str(VETO_ITEM)] = rng.randint(1, 2)
            vetoed = [VETO_ITEM]
        return scores, vetoed

    def plan_sheets(self, sub: Sub, members: list[Any], outcome: str) -> list[tuple[dict[str, int], list[int]]]:
        """Score sheets for every member, checked against the decision rule before anyone submits one."""
        from kehou.catalog.services import review

        target = {"admitted": "admit", "returned": "return"}.get(outcome, "low")
        if sub.spec.fate == "rejected_veto":
            target = "veto"
        region = sub.submission.library_region
        if region.pk not in self.policies:
            self.policies[region.pk] = review.policy_for(region)
        policy = self.policies[region.pk]
        for attempt in range(50):
            rng = seeded_rng(self.seed, f"catalog:sheets:{sub.index}:{sub.panel.round}:{attempt}")
            quality = rng.uniform(*TARGETS[target])
            vetoers = {1, 3} if target == "veto" else set()
            sheets = [self.sheet(rng, quality, veto=i in vetoers) for i in range(len(members))]
            totals = [review.score_total_bp(self.items, {int(k): v for k, v in s.items()}) for s, _ in sheets]
            got, _, _ = review.decision_rule(policy=policy, totals=totals, vetoes=[v for _, vs in sheets for v in vs])
            if got == outcome:
                return sheets
        raise DemoError(f"Could not plan score sheets for {sub.spec} ({outcome}).")

    def comment(self, sub: Sub, outcome: str, position: int, vetoed: bool) -> str:
        spec = sub.spec
        if vetoed or (spec.note and position == 0 and outcome != "admitted"):
            return spec.note
        pool: tuple[str, ...]
        if outcome == "admitted":
            pool = ADMIT_COMMENTS if spec.course is not None else DOSSIER_COMMENTS
        elif outcome == "returned":
            pool = RETURN_COMMENTS
        else:
            pool = LOW_COMMENTS if spec.fate == "rejected_low" else VETO_OTHER_COMMENTS
        return pool[(sub.index + position) % len(pool)]

    def score(self, sub: Sub, window: tuple[date, date], outcome: str, *, only: list[Any] | None = None) -> None:
        from kehou.catalog.services import review

        members = self.active_members(sub.panel)
        sheets = self.plan_sheets(sub, members, outcome)
        rng = seeded_rng(self.seed, f"catalog:score-times:{sub.index}:{sub.panel.round}")
        for position, (member, (scores, vetoed)) in enumerate(zip(members, sheets, strict=True)):
            at = time_between(rng, *window, weekdays=False, hours=(8, 22))
            if only is not None and member not in only:
                continue
            review.score_submit(
                actor=self.users[member.expert.user.username],
                member=member,
                item_scores=scores,
                vetoed_items=vetoed,
                comment=self.comment(sub, outcome, position, bool(vetoed)),
                now=at,
            )

    def decide(self, sub: Sub, at: datetime, outcome: str) -> None:
        from kehou.catalog.services import review

        decision = review.panel_decide(actor=self.admin_of(sub.panel.region), panel=sub.panel, now=at)
        if decision.outcome != outcome:
            raise DemoError(f"{sub.spec.by} {sub.submission.title}: decided {decision.outcome}, planned {outcome}.")
        sub.submission.refresh_from_db()

    def full_review(self, sub: Sub, round_key: int, outcome: str) -> None:
        w = ROUNDS[round_key]
        rng = seeded_rng(self.seed, f"catalog:review:{sub.index}:{round_key}")
        drawn = time_between(rng, *w.draw)
        self.draw(sub, drawn)
        if sub.spec.decline and outcome == "admitted":
            self.decline(sub, drawn + timedelta(hours=3))
        self.score(sub, w.score, outcome)
        self.decide(sub, time_between(rng, *w.decide, hours=(14, 17)), outcome)

    def partial_review(self, sub: Sub) -> None:
        """Draw and leave in review: some members have scored, some have not (the named expert has not)."""
        rng = seeded_rng(self.seed, f"catalog:partial:{sub.index}")
        members = self.active_members(sub.panel)
        others = [m for m in members if m.expert != self.named_expert]
        k = rng.randint(1, max(1, len(members) - 2))
        self.score(sub, ROUNDS[4].score, "admitted", only=rng.sample(others, min(k, len(others))))

    def seats_named_expert(self, sub: Sub) -> bool:
        return any(m.expert == self.named_expert for m in self.active_members(sub.panel))
