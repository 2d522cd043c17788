"""Enrolment's permission checks, in the terms of its own objects; the rules themselves are in core.permissions."""

from __future__ import annotations

from typing import Any

from kehou.core import permissions
from kehou.core.scope import Scope
from kehou.orgs.models import Region, School


def require_school_admin(actor: Any, school: School) -> Scope:
    """Only the school's own administrators write its classes, windows and waivers. The bureaus that can see
    the school are refused with 403; everyone else gets the same 404 as a missing school."""
    return permissions.require_school_admin(actor, school_id=school.pk, district_id=school.district_id)


def require_district_admin(actor: Any, district: Region) -> Scope:
    return permissions.require_district_admin(actor, district_id=district.pk)
