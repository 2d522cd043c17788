"""Who may act on pay, in one place: a school's administrators (the school's step), an operator authorised for a
school (the operator's step), an operator's own staff (its payouts, rates, costs and reports); and who is told.

Each refuses with 403 ``not_pay_approver`` those who can see the school or the operator, and with the same 404 as a
missing row everyone else (the house rule of ``core.permissions``)."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _

from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Forbidden, NotFound
from kehou.core.roles import Role
from kehou.core.scope import scope_for
from kehou.orgs.models import OperatorAuthorisation, OperatorCompany, School
from kehou.people.models import RoleAssignment


def require_school_admin(actor: Any, school: School) -> None:
    scope = scope_for(actor)
    if Role.SUPERUSER in scope.roles or school.pk in scope.school_ids:
        return
    if scope.may_see(school) or school.pk in scope.operator_school_ids:
        raise Forbidden(_("Only the school's administrators decide its lines."), code=ErrorCode.NOT_PAY_APPROVER)
    raise NotFound(_("Not found."))


def require_operator_of(actor: Any, school: School) -> None:
    scope = scope_for(actor)
    if Role.SUPERUSER in scope.roles or school.pk in scope.operator_school_ids:
        return
    if scope.may_see(school):
        raise Forbidden(
            _("Only an operator authorised for the school approves its lines."), code=ErrorCode.NOT_PAY_APPROVER
        )
    raise NotFound(_("Not found."))


def require_operator_staff(actor: Any, operator: OperatorCompany, *, message: str | Promise) -> None:
    scope = scope_for(actor)
    if Role.SUPERUSER in scope.roles or operator.pk in scope.operator_ids:
        return
    if scope.may_see(operator):
        raise Forbidden(str(message), code=ErrorCode.NOT_PAY_APPROVER)
    raise NotFound(_("Not found."))


def school_admin_ids(school_id: int) -> list[int]:
    return list(
        RoleAssignment.objects.filter(role=Role.SCHOOL_ADMIN, school_id=school_id).values_list("user_id", flat=True)
    )


def operator_staff_ids(school_id: int) -> list[int]:
    """The staff of every operator authorised for the school."""
    operators = OperatorAuthorisation.objects.filter(school_id=school_id).values_list("operator_id", flat=True)
    return list(
        RoleAssignment.objects.filter(role=Role.OPERATOR_STAFF, operator_id__in=operators).values_list(
            "user_id", flat=True
        )
    )
