"""The demo loader: runs the stages in order (the city, the libraries and review, the classes and selection, the
payments and refunds), and removes the demo city again (:func:`reset`).

Each stage lives in :mod:`kehou.demo.stages` and imports only earlier stages and :mod:`kehou.demo.common`;
``manage.py load_demo`` reports on each stage as :func:`load` yields it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db import transaction
from django.db.models import ProtectedError, RestrictedError

from kehou.core import audit
from kehou.core.audit_actions import AuditAction
from kehou.demo import data
from kehou.demo.common import USERNAME_RE, DemoError, LoadResult
from kehou.demo.stages.attendance import build_attendance
from kehou.demo.stages.catalog import build_catalog, catalog_state
from kehou.demo.stages.city import build_city, plan_city
from kehou.demo.stages.enrolment import build_enrolment
from kehou.demo.stages.payments import DemoPayer, build_payments, simulator_enabled
from kehou.demo.stages.payroll import build_payroll
from kehou.demo.stages.supervision import build_supervision
from kehou.demo.stages.teaching import build_teaching

CITY, CATALOG, CLASSES, PAYMENTS, ATTENDANCE = "city", "catalog", "classes", "payments", "attendance"
PAY = "pay"
TEACHING = "teaching"
SUPERVISION = "supervision"


def load(
    *,
    scale: float = 1.0,
    pupils: int | None = None,
    seed: int = data.SEED,
    now: datetime,
    catalog: bool = True,
    classes: bool = True,
    payments: bool = True,
) -> Iterator[tuple[str, LoadResult]]:
    """Run the stages in order, yielding ``(stage, result)`` after each one. ``catalog=False`` loads only the city
    (and so no classes either); ``classes=False`` stops after the catalog; ``payments=False`` after the classes
    (their places confirmed without payment). No payments are loaded when no term is current or coming."""
    yield CITY, build_city(scale=scale, pupils=pupils, seed=seed, now=now)
    if not catalog:
        return
    yield CATALOG, build_catalog(seed=seed, now=now)
    if not classes:
        return
    paying = payments and simulator_enabled()
    places = DemoPayer(seed=seed) if paying else None
    loaded = build_enrolment(seed=seed, now=now, places=places)
    yield CLASSES, loaded
    paid = None
    if payments and loaded.state != "no_term":
        paid = build_payments(seed=seed, now=now)
        yield PAYMENTS, paid
    if loaded.state != "no_term":
        yield ATTENDANCE, build_attendance(seed=seed, now=now)
        if paid is not None and (paid.loaded or paid.state == "loaded"):  # pay comes out of the fees paid
            yield PAY, build_payroll(now=now)
    yield TEACHING, build_teaching(now=now)
    if loaded.state != "no_term":
        yield SUPERVISION, build_supervision(now=now)


def reset(*, now: datetime) -> dict[str, int]:
    """Delete the demo city (its schools, accounts, companies and terms). Refuses if other data refers to it,
    and once the demo catalog is loaded (its audit entries cannot be deleted)."""
    from kehou.orgs.models import OperatorCompany, Organisation, Region, School, Term
    from kehou.people.models import Guardian, Pupil, User

    if catalog_state() != "absent":
        raise DemoError(
            "The libraries and review hold data (the demo's, or entered since): their steps are in the append-only "
            "audit log, which refers to the demo accounts and schools, so the demo city cannot be removed. Start "
            "from a fresh database instead (for SQLite: delete the database file, then run migrate and load_demo)."
        )
    plan = plan_city(pupils=0)
    deleted: dict[str, int] = {}
    try:
        with transaction.atomic():
            schools = School.objects.filter(code__in=[s.code for s in plan.schools])
            users = User.objects.filter(username__regex=USERNAME_RE)
            steps = [
                ("guardians", Guardian.objects.filter(pupil__school__in=schools)),
                ("guardians of demo accounts", Guardian.objects.filter(user__in=users)),
                ("pupils", Pupil.objects.filter(school__in=schools)),
                ("accounts", users),
                ("operators", OperatorCompany.objects.filter(name__in=[o.name for o in plan.operators])),
                ("organisations", Organisation.objects.filter(name__in=[o.name for o in plan.organisations])),
                ("schools", schools),
                ("terms", Term.objects.filter(name__in=[t.name for t in plan.terms])),
            ]
            for label, qs in steps:
                deleted[label] = qs.delete()[0]
            try:
                with transaction.atomic():  # regions stay if anything else still lies in them
                    codes = [code for code, *_ in plan.regions]
                    deleted["regions"] = Region.objects.filter(code__in=codes[1:]).delete()[0]
                    deleted["regions"] += Region.objects.filter(code=codes[0]).delete()[0]
            except (ProtectedError, RestrictedError):
                deleted["regions"] = 0
            audit.record(
                actor=None,
                action=AuditAction.DEMO_RESET,
                object_type="demo.city",
                object_id=data.CITY_CODE,
                object_repr=f"{data.CITY_NAME} (demo)",
                before=deleted,
                now=now,
            )
    except (ProtectedError, RestrictedError) as exc:
        blockers = sorted({type(o)._meta.label for o in exc.args[1]})  # type: ignore[misc]
        raise DemoError(
            "Other data refers to the demo city, so it cannot be removed "
            f"({', '.join(blockers)}). Start from a fresh database instead."
        ) from exc
    return deleted
