"""Loading the classes stage: :func:`enrolment_state`, :func:`build_enrolment`, and the steps in order."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from kehou.core import audit
from kehou.core.audit_actions import AuditAction
from kehou.core.errors import KehouError
from kehou.demo import data
from kehou.demo.common import DemoError, LoadResult, load_base
from kehou.demo.stages.catalog import catalog_state
from kehou.demo.stages.city import demo_state

from .classes import ClassesMixin
from .places import Places
from .readback import enrolment_counts, enrolment_digest
from .reference import CARE_STANDARDS, choose_term
from .selection import SelectionMixin
from .windows import WindowsMixin

LOADED_ACTION = AuditAction.DEMO_ENROLMENT_LOADED


# --- loading --------------------------------------------------------------------------------------------
def enrolment_state() -> str:
    """``"loaded"`` (the demo classes were loaded), ``"absent"`` (no classes, windows or care standards) or
    ``"partial"`` (the enrolment tables hold data the demo did not load)."""
    from kehou.core.models import AuditEntry
    from kehou.enrolment.models import CareFeeStandard, CourseClass, HardshipWaiver, SelectionWindow

    if AuditEntry.objects.filter(action=LOADED_ACTION).exists():
        return "loaded"
    if (
        CourseClass.objects.exists()
        or SelectionWindow.objects.exists()
        or CareFeeStandard.objects.exists()
        or HardshipWaiver.objects.exists()
    ):
        return "partial"
    return "absent"


def build_enrolment(*, seed: int = data.SEED, now: datetime, places: Places | None = None) -> LoadResult:
    """Load the demo classes and selection into the demo city and libraries, unless they are there. ``places``
    decides how places are confirmed and cancelled (default: directly, without payments)."""
    if demo_state() != "loaded" or catalog_state() != "loaded":
        raise DemoError("Load the demo city and its libraries first: the classes come from the school libraries.")
    state = enrolment_state()
    if state == "loaded":
        return LoadResult(False, state, {})
    if state == "partial":
        raise DemoError(
            "The enrolment tables already hold classes, windows or fee standards that the demo did not load; the "
            "demo classes are loaded only into empty ones. Start from a fresh database, or load with --no-classes."
        )
    base = load_base(now)
    chosen = choose_term(base.date())
    if chosen is None:
        return LoadResult(False, "no_term", {})
    term, first_date = chosen
    try:
        with transaction.atomic():
            counts = _Loader(seed, base, term, first_date, places or Places()).run()
            audit.record(
                actor=None,
                action=LOADED_ACTION,
                object_type="demo.enrolment",
                object_id=data.CITY_CODE,
                object_repr=f"{data.CITY_NAME} (demo classes and selection)",
                after={"seed": seed, "base": base.isoformat(), "digest": enrolment_digest(base), **counts},
                now=now,
            )
    except KehouError as exc:
        if isinstance(exc, DemoError):
            raise
        raise DemoError(f"The demo classes could not be loaded: {exc.message} ({exc.code}, {exc.fields})") from exc
    return LoadResult(True, state, counts)


class _Loader(ClassesMixin, WindowsMixin, SelectionMixin):
    # --- the run -------------------------------------------------------------------------------------------
    def run(self) -> dict[str, int]:
        self.care_standards()
        plans = self.plan_schools()
        self.plan_demand(plans)
        self.make_classes()
        windows = self.make_windows(plans)
        self.waivers(plans)
        self.schedule(plans, windows)
        self.replay()
        return enrolment_counts(self.base)

    def care_standards(self) -> None:
        from kehou.enrolment.services.classes import care_standard_set

        at = self.base - timedelta(days=16)
        for i, (code, per_day, per_month) in enumerate(CARE_STANDARDS):
            actor = self.users["city" if code == data.CITY_CODE else f"district-{code}"]
            care_standard_set(
                actor=actor,
                region=self.regions[code],
                max_per_day_fen=per_day * 100,
                max_per_month_fen=per_month * 100,
                now=at + timedelta(hours=i * 26),
            )
