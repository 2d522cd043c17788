from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from kehou.core.errors import Forbidden, KehouError, NotFound
from kehou.core.scope import Scope, scope_for
from kehou.orgs.models import Region


def scope_of(actor: Any) -> Scope:
    return scope_for(actor)


def require_region_admin(actor: Any, region: Region) -> Scope:
    """The city bureau acts for the city library; a district bureau for its own district library."""
    scope = scope_of(actor)
    if region.is_city:
        if not scope.everything:
            raise Forbidden(_("Only the city bureau may do this for the city library."), code="not_city_admin")
    elif not (scope.everything or region.pk in scope.district_ids):
        raise NotFound(_("Not found."))
    return scope


def city_region() -> Region:
    region = Region.objects.filter(kind=Region.Kind.CITY).first()
    if region is None:
        raise KehouError(_("The city is not set up."), code="no_city")
    return region
