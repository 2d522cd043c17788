from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest, HttpResponse

from kehou.core.errors import Throttled

from .models import ExpertProfile, Guardian, Pupil, RoleAssignment, TeacherProfile, User


def _throttled_answers_429(login: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The admin's login form authenticates through our backend (people.services.login_with_password: throttle,
    failure count, lockout); a throttled attempt is answered 429 with Retry-After, like the portal's."""

    @wraps(login)
    def view(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        try:
            return login(request, extra_context)
        except Throttled as exc:
            response = HttpResponse(exc.message, status=429, content_type="text/plain; charset=utf-8")
            response["Retry-After"] = str(exc.retry_after)
            return response

    return view


admin.site.login = _throttled_answers_429(admin.site.login)  # type: ignore[method-assign]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    # Lockouts are per (account, client address) and live in the cache (people.services); the old account-wide
    # columns failed_login_count/locked_until are no longer used.
    fieldsets = (*BaseUserAdmin.fieldsets, ("Kehou", {"fields": ("phone", "full_name")}))  # type: ignore[misc]
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
