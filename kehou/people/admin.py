from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import ExpertProfile, Guardian, Pupil, RoleAssignment, TeacherProfile, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*BaseUserAdmin.fieldsets, ("Kehou", {"fields": ("phone", "full_name", "locked_until")}))  # type: ignore[misc]
    list_display = ("username", "full_name", "phone", "is_active", "is_superuser")
    search_fields = ("username", "full_name", "phone")


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "role", "district", "school", "operator", "granted_at")
    list_filter = ("role",)
    raw_id_fields = ("user", "school")


@admin.register(Pupil)
class PupilAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "student_number", "school", "grade", "class_name")
    search_fields = ("name", "student_number")
    raw_id_fields = ("school",)


admin.site.register(Guardian, raw_id_fields=("pupil", "user"))
admin.site.register(TeacherProfile, raw_id_fields=("user",))
admin.site.register(ExpertProfile, raw_id_fields=("user",))
