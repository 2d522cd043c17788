"""Loading the payments stage: :func:`payments_state` and :func:`build_payments`."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from kehou.core import audit
from kehou.core.audit_actions import AuditAction
from kehou.core.errors import KehouError
from kehou.demo import data
from kehou.demo.common import DemoError, LoadResult, load_base
from kehou.demo.stages.city import demo_state
from kehou.demo.stages.enrolment import enrolment_state

from .places import simulator_enabled
from .story import Story

LOADED_ACTION = AuditAction.DEMO_PAYMENTS_LOADED


# --- the stage ----------------------------------------------------------------------------------------------
def payments_state() -> str:
    """``"loaded"``; ``"unpaid"`` (the classes were loaded without payments: their confirmed places have no
    orders, and cannot be paid afterwards); or ``"absent"``."""
    from kehou.core.models import AuditEntry
    from kehou.enrolment.models import Enrolment
    from kehou.payments.models import Order

    if AuditEntry.objects.filter(action=LOADED_ACTION).exists():
        return "loaded"
    if (
        not Order.objects.exists()
        and Enrolment.objects.filter(status=Enrolment.Status.CONFIRMED, fee_fen__gt=0).exists()
    ):
        return "unpaid"
    return "absent"


def build_payments(*, seed: int = data.SEED, now: datetime) -> LoadResult:
    """Load the demo payments and refunds on top of the classes (loaded with :class:`DemoPayer`), unless they are
    there. States: ``loaded`` (nothing to do), ``no_simulator`` (the simulator channel is not enabled),
    ``unpaid`` (the classes were loaded without payments)."""
    if demo_state() != "loaded" or enrolment_state() != "loaded":
        raise DemoError("Load the demo classes first: the payments pay for their places.")
    state = payments_state()
    if state in ("loaded", "unpaid"):
        return LoadResult(False, state, {})
    if not simulator_enabled():
        return LoadResult(False, "no_simulator", {})
    base = load_base(now)
    try:
        with transaction.atomic():
            counts = Story(seed, base).run()
            audit.record(
                actor=None,
                action=LOADED_ACTION,
                object_type="demo.payments",
                object_id=data.CITY_CODE,
                object_repr=f"{data.CITY_NAME} (demo payments and refunds)",
                after={"seed": seed, "base": base.isoformat(), **counts},
                now=now,
            )
    except KehouError as exc:
        if isinstance(exc, DemoError):
            raise
        raise DemoError(f"The demo payments could not be loaded: {exc.message} ({exc.code}, {exc.fields})") from exc
    return LoadResult(True, state, counts)
