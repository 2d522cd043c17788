from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from kehou.core.errors import Forbidden, NotFound
from kehou.core.scope import Scope, scope_for
from kehou.orgs.models import Region, School


def require_school_admin(actor: Any, school: School) -> Scope:
    """Only the school's own administrators write its classes, windows and waivers. The bureaus that can see
    the school are refused with 403; everyone else gets the same 404 as a missing school."""
    scope = scope_for(actor)
    if "superuser" in scope.roles or school.pk in scope.school_ids:
        return scope
    if scope.everything or school.district_id in scope.district_ids:
        raise Forbidden(_("Only the school's administrators may do this."), code="not_school_admin")
    raise NotFound(_("Not found."))


def require_district_admin(actor: Any, district: Region) -> Scope:
    scope = scope_for(actor)
    if "superuser" in scope.roles or district.pk in scope.district_ids:
        return scope
    if scope.everything:
        raise Forbidden(_("Only the district bureau may do this."), code="not_district_admin")
    raise NotFound(_("Not found."))
