"""Writing the audit log. Call from services, inside their transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import models, transaction

from . import context
from .audit_actions import AuditAction
from .models import AuditEntry


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """A JSON-able picture of a model instance's concrete fields (for before/after)."""
    data: dict[str, Any] = {}
    for f in obj._meta.concrete_fields:
        if fields is not None and f.name not in fields:
            continue
        if f.name in {"password"}:
            continue
        value = f.value_from_object(obj)
        if isinstance(value, (datetime,)) or hasattr(value, "isoformat"):
            value = value.isoformat()
        elif hasattr(value, "__str__") and not isinstance(value, (int, float, str, bool, type(None), list, dict)):
            value = str(value)
        data[f.attname] = value
    return data


def record(
    *,
    actor: Any,
    action: AuditAction,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    object_repr: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    now: datetime,
    district_id: int | None = None,
    school_id: int | None = None,
) -> AuditEntry:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must be called inside the transaction of the change it records")
    ctx = context.current()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id if object_id is not None else obj.pk
        object_repr = object_repr if object_repr is not None else str(obj)[:200]
        if school_id is None and district_id is None:
            school_id, district_id = _locate(obj)
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEntry.objects.create(
        at=now,
        actor=actor if is_user else None,
        actor_label=(actor.get_username() if is_user else "system")[:150],
        action=action,
        object_type=object_type or "",
        object_id="" if object_id is None else str(object_id),
        object_repr=(object_repr or "")[:200],
        before=before,
        after=after,
        client_ip=ctx.client_ip,
        request_id=ctx.request_id or "",
        district_id=district_id,
        school_id=school_id,
    )


def _locate(obj: models.Model) -> tuple[int | None, int | None]:
    """Find the school and district an object belongs to, for scoping its audit entries."""
    # The entry's own foreign keys name the school and region models, so core needs no import of orgs.
    school_model: Any = AuditEntry._meta.get_field("school").related_model
    region_model: Any = AuditEntry._meta.get_field("district").related_model
    if isinstance(obj, school_model):
        return obj.pk, getattr(obj, "district_id", None)
    if isinstance(obj, region_model):
        return None, obj.pk
    school_id = getattr(obj, "school_id", None)
    if school_id is not None:
        district_id = school_model._default_manager.filter(pk=school_id).values_list("district_id", flat=True).first()
        return school_id, district_id
    return None, getattr(obj, "district_id", None)
