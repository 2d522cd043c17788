"""Django admin for the catalog: read-mostly.

Submissions, panels, scores, decisions, libraries and filings are written only by the services (each with its audit
entry), so the admin shows them and changes nothing. The configuration the platform is set up with (categories, the
quality standards, review policies and fee standards) may be added and edited here by staff; nothing is deleted
(rows are referenced and protected).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from kehou.core.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import (
    CatalogItem,
    Category,
    Decision,
    ExpertRecusal,
    FeeStandard,
    Filing,
    LibraryEntry,
    LibraryEntryEvent,
    Panel,
    PanelMember,
    ProofFile,
    QualityItem,
    ReviewPolicy,
    Score,
    Submission,
    SubmissionVersion,
)


class ConfigAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Category)
class CategoryAdmin(ConfigAdmin):
    list_display = ("order", "code", "name")
    list_display_links = ("code",)
    ordering = ("order", "code")


@admin.register(FeeStandard)
class FeeStandardAdmin(ConfigAdmin):
    list_display = ("region", "category", "min_fee_fen", "max_fee_fen", "teacher_pay_fen", "set_at")
    list_filter = ("region", "category")


@admin.register(QualityItem)
class QualityItemAdmin(ConfigAdmin):
    list_display = ("number", "title", "weight", "max_score", "is_veto")
    list_filter = ("is_veto",)


@admin.register(ReviewPolicy)
class ReviewPolicyAdmin(ConfigAdmin):
    list_display = ("region", "panel_size", "admit_threshold_bp", "return_threshold_bp")


class VersionInline(ReadOnlyInline):
    model = SubmissionVersion
    fields = ("number", "name", "created_at", "created_by", "fee_per_hour_fen", "change_note")
    readonly_fields = fields


class PanelInline(ReadOnlyInline):
    model = Panel
    fields = ("round", "version_number", "status", "size", "seed", "drawn_at", "drawn_by")
    readonly_fields = fields


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    list_display = ("title", "kind", "category", "library_region", "status", "version_count", "updated_at")
    list_filter = ("kind", "status", "category", "library_region")
    search_fields = ("title",)
    raw_id_fields = ("submitter_school", "submitter_organisation", "submitter_user")
    inlines = (VersionInline, PanelInline)


class ProofInline(ReadOnlyInline):
    model = ProofFile
    fields = ("kind", "original_name", "content_type", "size", "sha256", "uploaded_at", "uploaded_by")
    readonly_fields = fields


@admin.register(SubmissionVersion)
class SubmissionVersionAdmin(ReadOnlyAdmin):
    list_display = ("submission", "number", "name", "created_at", "created_by")
    search_fields = ("name", "submission__title")
    raw_id_fields = ("submission", "created_by", "teacher")
    exclude = ("identity_number",)  # personal data: read it where the scope allows, not in the admin
    inlines = (ProofInline,)


@admin.register(ProofFile)
class ProofFileAdmin(ReadOnlyAdmin):
    list_display = ("original_name", "kind", "content_type", "size", "uploaded_at", "uploaded_by")
    list_filter = ("kind", "content_type")
    search_fields = ("original_name", "sha256")
    # The stored file is served only by the scoped download view, never linked from here.
    exclude = ("file",)
    raw_id_fields = ("version", "uploaded_by")


@admin.register(ExpertRecusal)
class ExpertRecusalAdmin(ReadOnlyAdmin):
    list_display = ("expert", "school", "organisation", "submission", "reason", "declared_at")
    raw_id_fields = ("expert", "school", "organisation", "submission")


class MemberInline(ReadOnlyInline):
    model = PanelMember
    fields = ("draw_position", "expert", "status", "joined_at", "declined_at", "decline_reason", "replaces")
    readonly_fields = fields


@admin.register(Panel)
class PanelAdmin(ReadOnlyAdmin):
    list_display = ("submission", "round", "region", "size", "status", "drawn_at")
    list_filter = ("status", "region")
    raw_id_fields = ("submission", "drawn_by")
    inlines = (MemberInline,)


@admin.register(PanelMember)
class PanelMemberAdmin(ReadOnlyAdmin):
    list_display = ("panel", "expert", "draw_position", "status", "joined_at")
    list_filter = ("status",)
    raw_id_fields = ("panel", "expert", "replaces")


@admin.register(Score)
class ScoreAdmin(ReadOnlyAdmin):
    list_display = ("member", "total_bp", "scored_at")
    raw_id_fields = ("member",)


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ("panel", "outcome", "mean_bp", "decided_at", "decided_by")
    list_filter = ("outcome",)
    raw_id_fields = ("panel", "decided_by")


@admin.register(CatalogItem)
class CatalogItemAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "category", "provider_school", "provider_organisation", "admitted_at")
    list_filter = ("kind", "category")
    search_fields = ("name",)
    raw_id_fields = ("submission", "version", "provider_school", "provider_organisation", "teacher")


class EntryEventInline(ReadOnlyInline):
    model = LibraryEntryEvent
    fields = ("at", "actor", "from_status", "to_status", "reason")
    readonly_fields = fields


@admin.register(LibraryEntry)
class LibraryEntryAdmin(ReadOnlyAdmin):
    list_display = ("item", "level", "region", "school", "source", "status", "status_changed_at")
    list_filter = ("level", "status", "source")
    search_fields = ("item__name",)
    raw_id_fields = ("item", "region", "school", "upstream")
    inlines = (EntryEventInline,)


@admin.register(Filing)
class FilingAdmin(ReadOnlyAdmin):
    list_display = ("entry", "change", "district", "school", "status", "filed_at", "acknowledged_at")
    list_filter = ("status", "change", "district")
    raw_id_fields = ("entry", "district", "school", "filed_by", "acknowledged_by")
