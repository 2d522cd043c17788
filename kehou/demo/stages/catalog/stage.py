"""Loading the catalog stage: :func:`catalog_state`, :func:`build_catalog`, and the rounds in order."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from kehou.core import audit
from kehou.core.audit_actions import AuditAction
from kehou.core.errors import KehouError
from kehou.demo import data
from kehou.demo.common import DemoError, LoadResult, seeded_rng
from kehou.demo.stages.city import demo_state

from .base import Sub
from .libraries import LibrariesMixin
from .panels import PanelsMixin
from .readback import catalog_counts, catalog_digest
from .reference import (
    CATEGORIES,
    FEE_STANDARDS,
    FEES_SET_AT,
    OPEN_CANDIDATES,
    POLICIES,
    QUALITY_ITEMS,
    RECUSALS,
    RECUSALS_DECLARED_AT,
)
from .specs import SPECS
from .submissions import SubmissionsMixin
from .timeline import (
    CITY_SUSPENSION_AT,
    CITY_WITHDRAWAL_AT,
    REVISE_LATE_WINDOW,
    REVISE_V2_WINDOW,
    ROUNDS,
    SUBMITTED_WINDOW,
    time_between,
)

LOADED_ACTION = AuditAction.DEMO_CATALOG_LOADED


# --- loading ------------------------------------------------------------------------------------------------
def catalog_state() -> str:
    """``"loaded"`` (the demo catalog was loaded), ``"absent"`` (no submissions nor library entries) or
    ``"partial"`` (the catalog holds data the demo did not load)."""
    from kehou.catalog.models import LibraryEntry, Panel, Submission
    from kehou.core.models import AuditEntry

    if AuditEntry.objects.filter(action=LOADED_ACTION).exists():
        return "loaded"
    if Submission.objects.exists() or LibraryEntry.objects.exists() or Panel.objects.exists():
        return "partial"
    return "absent"


def build_catalog(*, seed: int = data.SEED, now: datetime) -> LoadResult:
    """Load the demo libraries and review into the demo city, unless they are there (then nothing is written)."""
    if demo_state() != "loaded":
        raise DemoError("Load the demo city first: the demo catalog is made by its schools, teachers and experts.")
    state = catalog_state()
    if state == "loaded":
        return LoadResult(False, state, {})
    if state == "partial":
        raise DemoError(
            "The catalog already holds submissions or library entries that the demo did not load; the demo catalog "
            "is loaded only into an empty catalog. Start from a fresh database, or load with --no-catalog."
        )
    try:
        with transaction.atomic():
            counts = _Loader(seed).run()
            audit.record(
                actor=None,
                action=LOADED_ACTION,
                object_type="demo.catalog",
                object_id=data.CITY_CODE,
                object_repr=f"{data.CITY_NAME} (demo libraries and review)",
                after={"seed": seed, "digest": catalog_digest(), **counts},
                now=now,
            )
    except KehouError as exc:
        if isinstance(exc, DemoError):
            raise
        raise DemoError(f"The demo catalog could not be loaded: {exc.message} ({exc.code}, {exc.fields})") from exc
    return LoadResult(True, state, counts)


class _Loader(SubmissionsMixin, PanelsMixin, LibrariesMixin):
    # --- reference data ------------------------------------------------------------------------------------
    def reference(self) -> None:
        from kehou.catalog.models import ExpertRecusal, FeeStandard, QualityItem, ReviewPolicy

        self.categories: dict[str, Any] = {}
        for i, (code, name) in enumerate(CATEGORIES):
            self.categories[code] = self.Category.objects.get_or_create(code=code, defaults={"name": name, "order": i})[
                0
            ]
        self.category_by_name = {c.name: c for c in self.categories.values()}
        if not QualityItem.objects.exists():
            QualityItem.objects.bulk_create(
                QualityItem(number=n, title=t, description=d, weight=w, max_score=10, is_veto=v)
                for n, (t, d, w, v) in enumerate(QUALITY_ITEMS, start=1)
            )
        self.items = list(QualityItem.objects.order_by("number"))
        existing = set(FeeStandard.objects.values_list("region__code", "category__code"))
        FeeStandard.objects.bulk_create(
            FeeStandard(
                region=self.regions[region],
                category=self.categories[cat],
                min_fee_fen=low * 100,
                max_fee_fen=high * 100,
                teacher_pay_fen=pay * 100,
                set_at=FEES_SET_AT,
            )
            for region, standards in FEE_STANDARDS.items()
            for cat, (low, high, pay) in standards.items()
            if (region, cat) not in existing
        )
        have = set(ReviewPolicy.objects.values_list("region__code", flat=True))
        ReviewPolicy.objects.bulk_create(
            ReviewPolicy(region=self.regions[code], panel_size=size, admit_threshold_bp=admit, return_threshold_bp=ret)
            for code, size, admit, ret in POLICIES
            if code not in have
        )
        per_speciality = Counter(sp for e in self.experts for sp in e.specialities)
        recusals = []
        for speciality, who, target, reason in RECUSALS:
            if who.startswith("@"):
                expert = self.expert_by_username.get(who[1:])
            else:
                expert = next(
                    (e for e in self.experts if e.specialities[:1] == [speciality] and e.affiliation == who), None
                )
            if expert is None or any(per_speciality[sp] < 7 for sp in expert.specialities):
                continue
            kind, name = target.split(":", 1)
            school = self.schools.get(name) if kind == "school" else None
            org = self.orgs.get(name) if kind == "org" else None
            if school or org:
                recusals.append(
                    ExpertRecusal(
                        expert=expert, school=school, organisation=org, reason=reason, declared_at=RECUSALS_DECLARED_AT
                    )
                )
        ExpertRecusal.objects.bulk_create(recusals)

    # --- the rounds ---------------------------------------------------------------------------------------------
    def run(self) -> dict[str, int]:
        self.reference()
        for index, spec in enumerate(SPECS):
            self.subs.append(Sub(index, spec, None, None))
        by_fate: dict[str, list[Sub]] = defaultdict(list)
        for sub in self.subs:
            by_fate[sub.spec.fate].append(sub)

        # Round 1 (late August – early September).
        first = [s for s in self.subs if s.spec.batch == 1]
        for sub in first:
            self.create(sub, time_between(seeded_rng(self.seed, f"catalog:submit:{sub.index}"), *ROUNDS[1].submit))
        for sub in first:
            outcome = {"admitted": "admitted", "admitted_v2": "returned"}.get(sub.spec.fate, "rejected")
            self.full_review(sub, 1, outcome)
        for sub in by_fate["admitted_v2"]:
            self.revise(sub, time_between(seeded_rng(self.seed, f"catalog:revise:{sub.index}"), *REVISE_V2_WINDOW))
        self.adopt(1)
        self.pick(1)

        # Round 2 (October).
        second = [s for s in self.subs if s.spec.batch == 2]
        for sub in second:
            self.create(sub, time_between(seeded_rng(self.seed, f"catalog:submit:{sub.index}"), *ROUNDS[2].submit))
        for sub in by_fate["admitted_v2"]:
            self.full_review(sub, 2, "admitted")
        for sub in second:
            self.full_review(sub, 2, "admitted" if sub.spec.fate == "admitted" else "returned")
        self.set_city_status("suspended", CITY_SUSPENSION_AT)
        self.adopt(2)
        self.district_suspension()
        self.pick(2)
        self.set_city_status("withdrawn", CITY_WITHDRAWAL_AT)
        self.school_withdrawal()

        # Round 3 (November).
        for sub in by_fate["returned"]:
            self.create(sub, time_between(seeded_rng(self.seed, f"catalog:submit:{sub.index}"), *ROUNDS[3].submit))
            self.full_review(sub, 3, "returned")
        for sub in by_fate["revised"]:
            self.revise(sub, time_between(seeded_rng(self.seed, f"catalog:revise:{sub.index}"), *REVISE_LATE_WINDOW))
        reviewing = by_fate["in_review"] + by_fate["candidate"]
        reviewing.sort(key=lambda s: s.index)
        for sub in reviewing:
            rng = seeded_rng(self.seed, f"catalog:submit:{sub.index}")
            self.create(sub, time_between(rng, *ROUNDS[4].submit))
            drawn = time_between(rng, *ROUNDS[4].draw)
            self.draw(sub, drawn)
            if sub.spec.decline:
                self.decline(sub, drawn + timedelta(hours=3))
        candidates = sorted(by_fate["candidate"], key=lambda s: (not self.seats_named_expert(s), s.index))
        stay_open = {s.index for s in candidates[:OPEN_CANDIDATES]}
        for sub in reviewing:
            if sub.spec.fate == "in_review" or sub.index in stay_open:
                self.partial_review(sub)
            else:
                self.score(sub, ROUNDS[4].score, "admitted")
                self.decide(
                    sub,
                    time_between(seeded_rng(self.seed, f"catalog:decide:{sub.index}"), *ROUNDS[4].decide),
                    "admitted",
                )
        for sub in by_fate["submitted"]:
            self.create(sub, time_between(seeded_rng(self.seed, f"catalog:submit:{sub.index}"), *SUBMITTED_WINDOW))
        self.acknowledge()
        return catalog_counts()
