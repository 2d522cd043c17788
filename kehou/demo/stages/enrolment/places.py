"""How the classes stage confirms and cancels a place (:class:`Places`); the payments stage pays instead."""

from __future__ import annotations

from datetime import datetime
from typing import Any


class Places:
    """How the replay confirms and cancels a place. By default straight through the enrolment services (the classes
    loaded without payments); :class:`kehou.demo.stages.payments.DemoPayer` pays instead: an order, a simulator payment
    and its notification confirm the place, and a paid place is cancelled with its refund."""

    def begin(self, base: datetime) -> None:
        """Called once before the first selection (``base`` is the load time)."""

    def confirm(self, *, enrolment_id: int, now: datetime, actor: Any) -> Any:
        from kehou.enrolment.services.selection import enrolment_confirm

        return enrolment_confirm(enrolment_id=enrolment_id, now=now, actor=actor)

    def cancel(self, *, enrolment: Any, now: datetime, actor: Any, reason: str) -> None:
        from kehou.enrolment.services.selection import enrolment_cancel

        enrolment_cancel(actor=actor, enrolment=enrolment, now=now, reason=reason)
