"""Django admin for classes and selection: read-only. Every write goes through the services (seat counters move
only by conditional UPDATE, each change with its audit entry), so staff look here and change nothing."""

from __future__ import annotations

from django.contrib import admin

from kehou.core.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import (
    CareFeeStandard,
    ClassSession,
    ClassSlot,
    CourseClass,
    Enrolment,
    HardshipWaiver,
    LotteryDraw,
    SelectionWindow,
)


class SlotInline(ReadOnlyInline):
    model = ClassSlot


class SessionInline(ReadOnlyInline):
    model = ClassSession


@admin.register(CourseClass)
class CourseClassAdmin(ReadOnlyAdmin):
    list_display = ("name", "school", "term", "kind", "capacity", "taken", "fee_fen", "status")
    list_filter = ("kind", "status", "term")
    search_fields = ("name", "school__name", "school__code")
    inlines = [SlotInline, SessionInline]


@admin.register(SelectionWindow)
class SelectionWindowAdmin(ReadOnlyAdmin):
    list_display = ("school", "grade", "opens_at", "closes_at", "mode", "max_classes", "status", "drawn_at")
    list_filter = ("mode", "status", "term")
    search_fields = ("school__name", "school__code")


@admin.register(Enrolment)
class EnrolmentAdmin(ReadOnlyAdmin):
    list_display = ("pk", "course_class", "pupil", "status", "fee_fen", "waived", "hold_expires_at", "created_at")
    list_filter = ("status", "waived")
    search_fields = ("course_class__name", "pupil__name")


@admin.register(HardshipWaiver)
class HardshipWaiverAdmin(ReadOnlyAdmin):
    list_display = ("pupil", "term", "status", "requested_at", "decided_at")
    list_filter = ("status", "term")


@admin.register(LotteryDraw)
class LotteryDrawAdmin(ReadOnlyAdmin):
    list_display = ("course_class", "window", "seats", "seed", "drawn_at")


@admin.register(CareFeeStandard)
class CareFeeStandardAdmin(ReadOnlyAdmin):
    list_display = ("region", "max_per_day_fen", "max_per_month_fen", "set_at")
