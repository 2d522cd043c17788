"""Who may see what: decided here and nowhere else (DESIGN.md rule 1).

A user's role assignments become a :class:`Scope`. Every scoped model declares a :class:`ScopeSpec` as the
class attribute ``kehou_scope`` that says how a row reaches a district, a school, a pupil, a teacher or its
owner. ``scope.filter(queryset)`` is the only way lists, details, exports and pages read scoped rows; the base
classes in ``core.api`` and ``core.pages`` call it from a ``get_queryset`` that subclasses cannot override.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

from django.db import models
from django.db.models import Q, QuerySet

from .roles import Role

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class ScopeSpec:
    """How a model's rows reach the things a scope is made of.

    Each value is an ORM lookup path from the model to the target ("" means the row *is* the target;
    ``None`` means rows of this model are never visible through that kind of grant).
    """

    district: str | None = None  # path to orgs.Region (a district)
    school: str | None = None  # path to orgs.School
    pupil: str | None = None  # path to people.Pupil (parents see their own children)
    teacher: str | None = None  # path to people.TeacherProfile (teachers see their own)
    owner: str | None = None  # path to people.User (a person sees what they own)
    operator: str | None = None  # path to orgs.OperatorCompany
    expert: str | None = None  # path to people.ExpertProfile
    # Whether operator staff see rows through their authorised schools (path: ``school``).
    operator_via_school: bool = True
    # Rows visible by a rule the paths cannot express (e.g. "the city library is visible to every signed-in
    # user"): a function of the scope and a path prefix ("" or "submission__") returning a Q.
    rule: Callable[[Scope, str], Q] | None = None
    # Whether ``rule`` also applies to a signed-in user with no role at all.
    rule_for_anyone: bool = False

    @classmethod
    def via_school(cls, path: str, **extra: Any) -> ScopeSpec:
        """The common case: a row belongs to a school (and so to that school's district)."""
        district = f"{path}__district" if path else "district"
        return cls(district=district, school=path, **extra)

    @classmethod
    def through(cls, prefix: str, spec: ScopeSpec) -> ScopeSpec:
        """The spec of a model that reaches everything through one relation (e.g. ``submission``)."""

        def join(path: str | None) -> str | None:
            if path is None:
                return None
            return f"{prefix}__{path}" if path else prefix

        inner_rule = spec.rule
        rule = (lambda scope, outer: inner_rule(scope, f"{outer}{prefix}__")) if inner_rule else None
        return cls(
            district=join(spec.district),
            school=join(spec.school),
            pupil=join(spec.pupil),
            teacher=join(spec.teacher),
            owner=join(spec.owner),
            operator=join(spec.operator),
            expert=join(spec.expert),
            operator_via_school=spec.operator_via_school,
            rule=rule,
            rule_for_anyone=spec.rule_for_anyone,
        )


class ScopedModel(Protocol):
    kehou_scope: ClassVar[ScopeSpec]


def _lookup(path: str) -> str:
    return f"{path}__in" if path else "pk__in"


@dataclass(frozen=True)
class Scope:
    """What one user may see. Built once per request from the user's role assignments (union of roles)."""

    user_id: int | None = None
    everything: bool = False
    district_ids: frozenset[int] = frozenset()
    school_ids: frozenset[int] = frozenset()  # school admin
    operator_ids: frozenset[int] = frozenset()
    operator_school_ids: frozenset[int] = frozenset()
    teacher_ids: frozenset[int] = frozenset()
    pupil_ids: frozenset[int] = frozenset()  # a parent's own children
    expert_ids: frozenset[int] = frozenset()
    roles: frozenset[str] = field(default_factory=frozenset)

    # --- reading --------------------------------------------------------------------------------
    def q_for(self, model: type[models.Model]) -> Q:
        spec: ScopeSpec | None = getattr(model, "kehou_scope", None)
        if spec is None:
            raise TypeError(f"{model.__name__} has no kehou_scope: it cannot be read through a scope")
        if self.everything:
            return Q()
        q = self._q_spec(spec)
        for extra in _extensions.get(model._meta.label_lower, ()):
            q |= self._q_spec(extra)
        return q

    def _q_spec(self, spec: ScopeSpec) -> Q:
        q = Q(pk__in=[])
        if self.district_ids and spec.district is not None:
            q |= Q(**{_lookup(spec.district): self.district_ids})
        if self.school_ids and spec.school is not None:
            q |= Q(**{_lookup(spec.school): self.school_ids})
        if self.operator_school_ids and spec.school is not None and spec.operator_via_school:
            q |= Q(**{_lookup(spec.school): self.operator_school_ids})
        if self.operator_ids and spec.operator is not None:
            q |= Q(**{_lookup(spec.operator): self.operator_ids})
        if self.teacher_ids and spec.teacher is not None:
            q |= Q(**{_lookup(spec.teacher): self.teacher_ids})
        if self.pupil_ids and spec.pupil is not None:
            q |= Q(**{_lookup(spec.pupil): self.pupil_ids})
        if self.expert_ids and spec.expert is not None:
            q |= Q(**{_lookup(spec.expert): self.expert_ids})
        if self.user_id and spec.owner is not None:
            q |= Q(**{_lookup(spec.owner): [self.user_id]})
        if spec.rule is not None and (self.roles or spec.rule_for_anyone) and self.user_id:
            q |= spec.rule(self, "")
        return q

    def filter(self, queryset: QuerySet[M]) -> QuerySet[M]:
        """Restrict a queryset to what this scope may see. Joins through many-valued paths never duplicate."""
        q = self.q_for(queryset.model)
        if self.everything:
            return queryset
        inner = queryset.model._default_manager.filter(q).values("pk")
        return queryset.filter(pk__in=inner)

    def may_see(self, obj: models.Model) -> bool:
        return self.filter(type(obj)._default_manager.filter(pk=obj.pk)).exists()

    # --- personal data ------------------------------------------------------------------------
    def may_see_personal_data(self, *, school_id: int | None, pupil_id: int | None = None) -> bool:
        """Phone numbers and student numbers are shown in full only to those who need them:
        the pupil's own school administrators and the pupil's own guardians (and platform superusers)."""
        if Role.SUPERUSER in self.roles:
            return True
        if school_id is not None and school_id in self.school_ids:
            return True
        return pupil_id is not None and pupil_id in self.pupil_ids


EMPTY = Scope()

# Paths an app above adds to a model below it (the model cannot name them without importing upwards): e.g.
# attendance lets the substitute named for one session see that session (``substitute__teacher``).
_extensions: dict[str, list[ScopeSpec]] = {}


def extend_scope(model_label: str, spec: ScopeSpec) -> None:
    """Rows of ``model_label`` ("app.model") are also visible through ``spec``'s paths (ORed with its own)."""
    specs = _extensions.setdefault(model_label.lower(), [])
    if spec not in specs:
        specs.append(spec)


# Who holds which roles is people's knowledge; core (the lowest layer) only defines what a scope is. The people
# app registers the function that turns a user's role assignments into a Scope when it is ready.
_builder: Callable[[Any], Scope] | None = None


def register_scope_builder(builder: Callable[[Any], Scope]) -> None:
    global _builder
    _builder = builder


def scope_for(user: Any) -> Scope:
    """The scope of a user (cached on the user object for the request)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return EMPTY
    cached = getattr(user, "_kehou_scope", None)
    if cached is not None:
        return cached
    if _builder is None:
        raise RuntimeError("no scope builder registered (kehou.people registers one when the app is ready)")
    scope = _builder(user)
    user._kehou_scope = scope
    return scope
