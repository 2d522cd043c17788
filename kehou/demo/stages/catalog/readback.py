"""Reading the catalog stage back: :func:`catalog_counts` and :func:`catalog_digest`."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db.models import F

from kehou.demo.common import digest, utc_iso


# --- reading back -------------------------------------------------------------------------------------------
def catalog_counts() -> dict[str, int]:
    from kehou.catalog.models import (
        CatalogItem,
        Category,
        Decision,
        ExpertRecusal,
        FeeStandard,
        Filing,
        LibraryEntry,
        Panel,
        PanelMember,
        QualityItem,
        ReviewPolicy,
        Score,
        Submission,
        SubmissionVersion,
    )

    counts = {
        "categories": Category.objects.count(),
        "quality_standards": QualityItem.objects.count(),
        "fee_standards": FeeStandard.objects.count(),
        "review_policies": ReviewPolicy.objects.count(),
        "expert_recusals": ExpertRecusal.objects.count(),
        "submissions": Submission.objects.count(),
    }
    for status, n in sorted(Counter(Submission.objects.values_list("status", flat=True)).items()):
        counts[f"submissions_{status}"] = n
    counts["submission_versions"] = SubmissionVersion.objects.count()
    counts["panels"] = Panel.objects.count()
    counts["panels_open"] = Panel.objects.filter(status="open").count()
    counts["panel_members"] = PanelMember.objects.count()
    counts["panel_declines"] = PanelMember.objects.filter(status="declined").count()
    counts["scores"] = Score.objects.count()
    counts["decisions"] = Decision.objects.count()
    counts["library_courses"] = CatalogItem.objects.filter(kind="course").count()
    counts["library_teachers"] = CatalogItem.objects.filter(kind="teacher").count()
    for level in ("city", "district", "school"):
        counts[f"{level}_library_entries"] = LibraryEntry.objects.filter(level=level).count()
    counts["entries_suspended"] = LibraryEntry.objects.filter(status="suspended").count()
    counts["entries_withdrawn"] = LibraryEntry.objects.filter(status="withdrawn").count()
    counts["filings"] = Filing.objects.count()
    counts["filings_acknowledged"] = Filing.objects.filter(status="acknowledged").count()
    return counts


def catalog_digest() -> str:
    """A fingerprint of the catalog (ids replaced by names), for telling that two loads made the same."""
    from kehou.catalog.models import (
        Category,
        Decision,
        ExpertRecusal,
        FeeStandard,
        Filing,
        LibraryEntry,
        LibraryEntryEvent,
        Panel,
        PanelMember,
        QualityItem,
        ReviewPolicy,
        Score,
        Submission,
        SubmissionVersion,
    )
    from kehou.people.models import ExpertProfile

    expert = dict(ExpertProfile.objects.values_list("pk", "user__username"))
    subs = {
        s.pk: f"{s.title}/{s.submitter_user.username}"
        for s in Submission.objects.select_related("submitter_user").order_by("pk")
    }
    rows = LibraryEntry.objects.annotate(submission_id=F("item__submission_id")).select_related("region", "school")
    entries = {
        e.pk: (e.level, e.region.code if e.region else "", e.school.code if e.school else "", subs[e.submission_id])
        for e in rows
    }

    def key(entry_id: int | None) -> str:
        return "" if entry_id is None else "|".join(entries[entry_id])

    sections: dict[str, Iterable[Any]] = {
        "categories": Category.objects.values_list("code", "name", "order"),
        "quality": QualityItem.objects.values_list("number", "title", "weight", "max_score", "is_veto"),
        "fees": FeeStandard.objects.values_list(
            "region__code", "category__code", "min_fee_fen", "max_fee_fen", "teacher_pay_fen"
        ),
        "policies": ReviewPolicy.objects.values_list(
            "region__code", "panel_size", "admit_threshold_bp", "return_threshold_bp"
        ),
        "recusals": [
            (
                expert[r.expert_id],
                r.school.code if r.school else "",
                r.organisation.name if r.organisation else "",
                r.reason,
            )
            for r in ExpertRecusal.objects.select_related("school", "organisation")
        ],
        "submissions": [
            (
                subs[s.pk],
                s.kind,
                s.status,
                s.version_count,
                s.library_region.code,
                s.submitter_school.code if s.submitter_school else "",
                s.submitter_organisation.name if s.submitter_organisation else "",
                s.category.code,
                utc_iso(s.created_at),
                utc_iso(s.updated_at),
            )
            for s in Submission.objects.select_related(
                "library_region", "submitter_school", "submitter_organisation", "category"
            )
        ],
        "versions": [
            (
                subs[v.submission_id],
                v.number,
                v.name,
                json.dumps(v.grades),
                v.minutes_per_hour,
                v.hours_per_term,
                v.fee_per_hour_fen,
                v.materials_description,
                v.materials_price_fen,
                ",".join(sorted(t.user.username for t in v.teachers.all())),
                v.teacher.user.username if v.teacher else "",
                v.identity_number,
                v.change_note,
            )
            for v in SubmissionVersion.objects.select_related("teacher__user").prefetch_related("teachers__user")
        ],
        "panels": [
            (
                subs[p.submission_id],
                p.round,
                p.version_number,
                p.region.code,
                p.size,
                p.seed,
                ",".join(sorted(expert[e] for e in p.pool)),
                p.status,
                utc_iso(p.drawn_at),
            )
            for p in Panel.objects.select_related("region")
        ],
        "members": [
            (
                subs[m.panel.submission_id],
                m.panel.round,
                expert[m.expert_id],
                m.draw_position,
                m.status,
                m.decline_reason,
                m.replaces.draw_position if m.replaces else "",
            )
            for m in PanelMember.objects.select_related("panel", "replaces")
        ],
        "scores": [
            (
                subs[s.member.panel.submission_id],
                s.member.panel.round,
                expert[s.member.expert_id],
                json.dumps(s.item_scores, sort_keys=True),
                json.dumps(s.vetoed_items),
                s.total_bp,
                s.comment,
                utc_iso(s.scored_at),
            )
            for s in Score.objects.select_related("member__panel")
        ],
        "decisions": [
            (subs[d.panel.submission_id], d.panel.round, d.outcome, d.mean_bp, utc_iso(d.decided_at))
            for d in Decision.objects.select_related("panel")
        ],
        "entries": [
            (key(e.pk), key(e.upstream_id), e.source, e.status, utc_iso(e.added_at), utc_iso(e.status_changed_at))
            for e in LibraryEntry.objects.all()
        ],
        "events": [(key(e.entry_id), e.from_status, e.to_status, e.reason) for e in LibraryEntryEvent.objects.all()],
        "filings": [
            (
                key(f.entry_id),
                f.change,
                f.district.code,
                f.school.code if f.school else "",
                f.status,
                f.filed_by.username,
                utc_iso(f.filed_at),
                utc_iso(f.acknowledged_at),
            )
            for f in Filing.objects.select_related("district", "school", "filed_by")
        ],
    }
    return digest(sections)
