from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kehou.core.roles import Role
from kehou.core.scope import scope_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The menu a person sees depends on what their scope lets them read."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    session = getattr(request, "session", None)
    if session is not None and session.get("kehou_teaching_only"):  # a classroom screen: teaching only
        return {"nav": [(_("Teaching"), reverse("portal:teach"))]}
    scope = scope_for(user)
    nav = [(_("Home"), reverse("portal:home"))]
    admin_like = scope.everything or scope.district_ids or scope.school_ids or scope.operator_school_ids
    if scope.everything or scope.district_ids or scope.school_ids:
        nav.append((_("Supervision"), reverse("portal:supervision")))
    if admin_like:
        nav.append((_("Schools"), reverse("portal:schools")))
        nav.append((_("Teachers"), reverse("portal:teachers")))
    if scope.everything or scope.district_ids or scope.school_ids or scope.operator_school_ids or scope.pupil_ids:
        nav.append((_("Pupils"), reverse("portal:pupils")))
    if scope.pupil_ids:
        nav.append((_("Selection"), reverse("portal:parent-home")))
        nav.append((_("My places"), reverse("portal:parent-places")))
        nav.append((_("Notifications"), reverse("portal:parent-notifications")))
        nav.append((_("Orders"), reverse("portal:parent-orders")))
        nav.append((_("Teachers' comments"), reverse("portal:parent-comments")))
        nav.append((_("Leave requests"), reverse("portal:parent-leave")))
    if scope.everything or scope.district_ids or scope.school_ids:
        nav.append((_("Course classes"), reverse("portal:classes")))
        nav.append((_("Windows"), reverse("portal:windows")))
    elif scope.teacher_ids:
        nav.append((_("My classes"), reverse("portal:classes")))
    if scope.teacher_ids:
        nav.insert(1, (_("My timetable"), reverse("portal:timetable")))
    if scope.everything or scope.district_ids or scope.school_ids or scope.operator_school_ids:
        nav.insert(1, (_("Live view"), reverse("portal:live")))
        nav.append((_("Check-ins"), reverse("portal:check-ins")))
    if scope.everything or scope.district_ids or scope.school_ids or scope.operator_school_ids or scope.teacher_ids:
        nav.append((_("Class-hour pay"), reverse("portal:pay")))
    if scope.everything or scope.district_ids or scope.operator_ids:
        nav.append((_("Audit reports"), reverse("portal:reports")))
        nav.append((_("Disbursements"), reverse("portal:disbursements")))
    if scope.teacher_ids:
        nav.append((_("Payout account"), reverse("portal:payee")))
        nav.append((_("Teaching"), reverse("portal:teach")))
    if scope.school_ids:
        nav.append((_("Waivers"), reverse("portal:waivers")))
        nav.append((_("Leave approvals"), reverse("portal:leave-requests")))
    if scope.everything or scope.district_ids or scope.school_ids:
        nav.append((_("Payments"), reverse("portal:payments")))
        nav.append((_("Refunds"), reverse("portal:refunds")))
    if scope.everything:
        nav.append((_("Reconciliation"), reverse("portal:reconciliations")))
        nav.append((_("Escrow ledger"), reverse("portal:ledger")))
        nav.append((_("Payment alerts"), reverse("portal:payment-notifications") + "?alert=yes"))
        nav.append((_("Failed tasks"), reverse("portal:failed-tasks")))
    if scope.everything or scope.district_ids:
        nav.append((_("Review"), reverse("portal:review")))
    if scope.everything or scope.district_ids or scope.school_ids:
        nav.append((_("Libraries"), reverse("portal:library")))
        nav.append((_("Filings"), reverse("portal:filings")))
    if scope.school_ids or _outside_teacher(user, scope):
        nav.append((_("My submissions"), reverse("portal:submissions")))
    if scope.expert_ids:
        nav.append((_("Review tasks"), reverse("portal:review-tasks")))
    if scope.everything or scope.district_ids or scope.school_ids:
        nav.append((_("Audit log"), reverse("portal:audit")))
    return {"nav": nav, "nav_active": _active(request.path, [url for _label, url in nav])}


def _outside_teacher(user: Any, scope: Any) -> bool:
    """An outside teacher (社会资源师资) submits their own courses and dossier."""
    if Role.TEACHER not in scope.roles:
        return False
    from kehou.catalog.selectors import is_outside_teacher

    return is_outside_teacher(user)


def _active(path: str, urls: list[str]) -> str:
    """The menu entry for the current page: the longest entry that the path starts with (home only exactly)."""
    matches = [url for url in urls if path == url or (url != "/" and path.startswith(url))]
    return max(matches, key=len, default="")
