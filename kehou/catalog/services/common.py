from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from kehou.core import permissions
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError
from kehou.core.scope import Scope, scope_for
from kehou.orgs.models import Region


def scope_of(actor: Any) -> Scope:
    return scope_for(actor)


def require_region_admin(actor: Any, region: Region) -> Scope:
    """The city bureau acts for the city library; a district bureau for its own district library."""
    return permissions.require_region_admin(actor, region_id=region.pk, is_city=region.is_city)


def city_region() -> Region:
    region = Region.objects.filter(kind=Region.Kind.CITY).first()
    if region is None:
        raise KehouError(_("The city is not set up."), code=ErrorCode.NO_CITY)
    return region
