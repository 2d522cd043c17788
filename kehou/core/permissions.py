"""May this actor do this to this object? Answered in one place, for every service.

The rule of the house (DESIGN.md, rule 2): an object outside the actor's scope is the same **404** as a missing
one (nothing is revealed); an object the actor can see but may not act on is a **403** with a stable code. Each
``require_*`` returns the actor's :class:`~kehou.core.scope.Scope` so the service can use it without building it
again. The checks take ids, not model instances of higher apps, so every app can call them.

A platform superuser may do everything. The city bureau sees everything (``scope.everything``) but acts only where
a rule says so (the city library, the ledger, reconciliation); a district bureau acts for its own district, a
school's administrators for their school, guardians for their own children.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from .error_codes import ErrorCode
from .errors import Forbidden, NotFound
from .roles import Role
from .scope import Scope, scope_for


def _deny(scope: Scope, *, visible: bool, message: str | Promise, code: ErrorCode) -> None:
    if visible:
        raise Forbidden(str(message), code=code)
    raise NotFound(_("Not found."))


def is_superuser(scope: Scope) -> bool:
    return Role.SUPERUSER in scope.roles


def has_role(scope: Scope, role: Role) -> bool:
    return role in scope.roles or is_superuser(scope)


def require_city_admin(actor: Any, *, message: str | Promise, code: ErrorCode = ErrorCode.NOT_CITY_ADMIN) -> Scope:
    """The city bureau (or a superuser). Everyone else is refused with 403: what the city does is public."""
    scope = scope_for(actor)
    if not scope.everything:
        raise Forbidden(str(message), code=code)
    return scope


def require_school_admin(
    actor: Any,
    *,
    school_id: int,
    district_id: int | None,
    visible: bool | None = None,
    message: str | Promise = "",
    code: ErrorCode = ErrorCode.NOT_SCHOOL_ADMIN,
) -> Scope:
    """The school's own administrators. Those who can see the school (its district, the city, or ``visible``
    when the caller knows better, e.g. the object is a pupil's order) get 403; everyone else the same 404."""
    scope = scope_for(actor)
    if is_superuser(scope) or school_id in scope.school_ids:
        return scope
    if visible is None:
        visible = scope.everything or (district_id is not None and district_id in scope.district_ids)
    _deny(scope, visible=visible, message=message or _("Only the school's administrators may do this."), code=code)
    return scope  # not reached


def require_district_admin(
    actor: Any, *, district_id: int, message: str | Promise = "", code: ErrorCode = ErrorCode.NOT_DISTRICT_ADMIN
) -> Scope:
    """The district's own bureau. The city bureau (which sees every district) gets 403; others 404."""
    scope = scope_for(actor)
    if is_superuser(scope) or district_id in scope.district_ids:
        return scope
    _deny(scope, visible=scope.everything, message=message or _("Only the district bureau may do this."), code=code)
    return scope


def require_region_admin(actor: Any, *, region_id: int, is_city: bool) -> Scope:
    """The bureau of a region: the city bureau for the city's (library, standards), a district bureau for its own
    district's (the city bureau may act on a district's too: supervision)."""
    scope = scope_for(actor)
    if is_city:
        if not scope.everything:
            raise Forbidden(_("Only the city bureau may do this for the city library."), code=ErrorCode.NOT_CITY_ADMIN)
    elif not (scope.everything or region_id in scope.district_ids):
        raise NotFound(_("Not found."))
    return scope


def require_school_or_district(
    actor: Any, *, school_id: int, district_id: int, message: str | Promise, code: ErrorCode
) -> Scope:
    """The school's administrators or its district's bureau (a second pair of eyes: waivers). The city bureau,
    which sees the school, gets 403; others 404."""
    scope = scope_for(actor)
    if is_superuser(scope) or school_id in scope.school_ids or district_id in scope.district_ids:
        return scope
    _deny(scope, visible=scope.everything, message=message, code=code)
    return scope


def require_guardian_or_school(
    actor: Any, *, obj: models.Model, pupil_id: int, school_id: int, message: str | Promise, code: ErrorCode
) -> Scope:
    """The child's guardians or the child's school (cancelling a place, asking for a refund). Others who can see
    ``obj`` (a bureau, the teacher) get 403; everyone else 404."""
    scope = scope_for(actor)
    if pupil_id in scope.pupil_ids or school_id in scope.school_ids or is_superuser(scope):
        return scope
    _deny(scope, visible=scope.may_see(obj), message=message, code=code)
    return scope


def require_in_school(actor: Any, *, school_id: int) -> Scope:
    """Acting inside one's own school only (a roster import): anyone else gets the same 404 as a missing school."""
    scope = scope_for(actor)
    if school_id not in scope.school_ids:
        raise NotFound(_("Not found."))
    return scope


def require_role(actor: Any, role: Role) -> Scope:
    """Holding a role at all (an expert recusing): without it, the same 404 as a missing object."""
    scope = scope_for(actor)
    if role not in scope.roles:
        raise NotFound(_("Not found."))
    return scope


def administers(scope: Scope, school_id: int) -> bool:
    """Whether the viewer writes this school's classes, windows and waivers (pages show the buttons; the services
    decide in the end)."""
    return is_superuser(scope) or school_id in scope.school_ids


def require_everything(actor: Any) -> Scope:
    """The city bureau (or a superuser) for work only it does and others must not learn of (acknowledging a
    filing): anyone else gets the same 404 as a missing row."""
    scope = scope_for(actor)
    if not scope.everything:
        raise NotFound(_("Not found."))
    return scope
