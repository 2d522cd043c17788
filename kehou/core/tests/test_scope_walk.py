"""The URL walker: every URL pattern of the project, with every role (DESIGN.md rule 1).

Each pattern is classified: its view is a :class:`~kehou.core.api.ScopeGuard` ("scoped"), is marked
``dangerously_unscoped`` ("self-only": reads only the caller's own account), sits in the admin site (staff only,
through Django's own check) or is on the explicit PUBLIC allowlist below. Anything else fails the suite the day it
is added. Then every scoped pattern is driven with every role of the ``city`` fixture against objects of another
district (district B / school B1) and, for school-level roles, another school (A2):

* details answer the same 404 as a row that does not exist, and 200 to a role that should see the row;
* lists, pages and their Excel exports never show a name or identifier of an out-of-scope row; roles with nothing in
  scope see empty lists;
* anonymous callers get 401 ``not_authenticated`` (API) or a redirect to the login page (pages);
* write methods on out-of-scope rows answer 404 (or 405 where the view does not take them) and change nothing.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import models, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils import timezone
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate
from rest_framework.views import APIView
from rest_framework.viewsets import ViewSetMixin

from kehou.catalog.tests.factories import walker_proofs
from kehou.conftest import City
from kehou.core import audit
from kehou.core.api import ScopeGuard
from kehou.core.pages import ScopedListPage
from kehou.core.scope import ScopeSpec
from kehou.enrolment.tests.factories import walker_rows as enrolment_walker_rows
from kehou.orgs.models import Organisation
from kehou.payments.tests.factories import walker_rows as payments_walker_rows
from kehou.payroll.tests.factories import walker_rows as payroll_walker_rows
from kehou.people.models import Role
from kehou.supervision.tests.factories import walker_rows as supervision_walker_rows
from kehou.teaching.tests.factories import walker_rows as teaching_walker_rows
from kehou.testing import factories as f

# Views that may be reached without a scope, and why. Keyed by the dotted path of the view class or function.
PUBLIC: dict[str, str] = {
    "kehou.portal.views.login_view": "the password login form",
    "kehou.portal.views.sms_send_view": "sends an SMS login code (same answer for any phone)",
    "kehou.portal.views.sms_login_view": "SMS code login",
    "kehou.portal.views.logout_view": "POST-only logout",
    "django.views.i18n.set_language": "language switch",
    "drf_spectacular.views.SpectacularAPIView": "the OpenAPI schema (no data)",
    "drf_spectacular.views.SpectacularSwaggerSplitView": "API docs UI (its start-up script served apart, for the CSP)",
    "django.contrib.staticfiles.views.serve": "static files (DEBUG only)",
    "django.views.static.serve": "static files (DEBUG only)",
    "kehou.teaching.views.ScreenPage": "the classroom screen's login page: shows a code to scan, reads nothing",
    "kehou.teaching.api.QrLoginStartView": (
        "a classroom screen starts a QR login: no account by design (the screen has none); rate-limited per address"
    ),
    "kehou.teaching.api.QrLoginStateView": (
        "the screen polls its own login, proven by the screen's secret (a wrong one is the same 404); no scoped rows"
    ),
    "kehou.teaching.api.QrLoginSessionView": (
        "the screen exchanges its approved login, proven by its secret, for a teaching-only session; once"
    ),
    "kehou.payroll.api.PayoutNotifyView": (
        "the payout channel's notifications: called by the channel's servers, proven by its signature, never by a "
        "login; reads no scoped rows"
    ),
    "kehou.payments.api_notify.NotifyView": (
        "payment channels' notifications: called by the channel's servers, proven by the channel's signature "
        "(verified, matched and logged by services.notifications), never by a login; reads no scoped rows"
    ),
}
ADMIN_NAMESPACE = "admin"
# Detail views that by design show a row to fewer roles than its model's scope reaches, and why. The in-scope check
# (a role bound where the row lies opens it) skips the roles named here and tries the next one.
NARROWER: dict[str, tuple[tuple[str, ...], str]] = {
    "kehou.catalog.api.panels.PanelSeatViewSet": (
        ("school_admin",),
        "a panel seat (and the expert's score) is for its expert and the bureau, never the submitting school",
    ),
    "kehou.catalog.views.experts.ReviewSheetPage": (("school_admin",), "the score sheet of a seat: as above"),
}

ROLES = (
    "city_admin",
    "superuser",
    "district_admin",
    "school_admin",
    "teacher",
    "parent",
    "operator_staff",
    "expert",
    "nobody",
)
SEES_EVERYTHING = {"city_admin", "superuser"}
SCHOOL_LEVEL = {"school_admin", "teacher", "parent", "operator_staff"}
SEES_NOTHING = {"expert", "nobody"}
# Accounts that are entitled to the out-of-scope rows: they prove a 404 comes from the scope, not from a wrong URL.
WITNESSES = ("city_admin", "witness_school_a2", "witness_school_b1", "witness_district_b")
WRITE_METHODS = ("post", "put", "patch", "delete")
OBJECT_KWARG = re.compile(r"^(pk|id|\w+_pk|\w+_id)$")


# --- enumerating and classifying patterns ------------------------------------------------------------------
@dataclass
class Pattern:
    route: str  # the pattern as written, prefixes included
    pattern: URLPattern
    namespaces: tuple[str, ...]

    @property
    def callback(self) -> Any:
        return self.pattern.callback

    @property
    def view(self) -> Any:
        """The view class (Django CBV, DRF view or viewset) or, for a function view, the function."""
        cb = self.callback
        return getattr(cb, "view_class", None) or getattr(cb, "cls", None) or cb

    @property
    def dotted(self) -> str:
        view = self.view
        inner = getattr(view, "__wrapped__", view)
        return f"{inner.__module__}.{inner.__qualname__}"

    @property
    def is_api(self) -> bool:
        return isinstance(self.view, type) and issubclass(self.view, APIView)

    @property
    def kwarg_names(self) -> list[str]:
        return list(self.pattern.pattern.regex.groupindex)

    @property
    def object_kwargs(self) -> list[str]:
        int_converters = {
            name for name, conv in getattr(self.pattern.pattern, "converters", {}).items() if conv.regex == "[0-9]+"
        }
        return [k for k in self.kwarg_names if OBJECT_KWARG.match(k) or k in int_converters]

    @property
    def is_detail(self) -> bool:
        return bool(self.object_kwargs)

    def methods(self) -> set[str]:
        """The HTTP methods the view answers (besides HEAD and OPTIONS)."""
        view = self.view
        actions = getattr(self.callback, "actions", None)
        if actions:
            return {m.lower() for m in actions}
        if isinstance(view, type):
            return {m for m in view.http_method_names if hasattr(view, m) and m not in {"head", "options"}}
        return {"get", "post"}  # a function view: we cannot tell

    def classify(self) -> str:
        view, cb = self.view, self.callback
        unscoped = getattr(view, "dangerously_unscoped", False) or getattr(cb, "dangerously_unscoped", False)
        if isinstance(view, type) and issubclass(view, ScopeGuard):
            return "self-only" if unscoped else "scoped"
        if unscoped:
            return "self-only"
        if ADMIN_NAMESPACE in self.namespaces:
            return "admin"
        if self.dotted in PUBLIC:
            return "public"
        return "unclassified"

    def url(self, **values: Any) -> str:
        return "/" + fill_pattern(self.route, {k: str(v) for k, v in values.items()})


def walk(resolver: URLResolver | None = None, prefix: str = "", namespaces: tuple[str, ...] = ()) -> Iterator[Pattern]:
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from walk(entry, route, ns)
        else:
            yield Pattern(route=route, pattern=entry, namespaces=namespaces)


_GROUP = re.compile(r"\(\?P<(\w+)>((?:[^()\\]|\\.)*)\)")
_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def fill_pattern(route: str, values: dict[str, str]) -> str:
    """Turn a mixed path()/re_path() route into a concrete path, taking kwarg values from ``values``."""

    def group(m: re.Match[str]) -> str:
        name, body = m.group(1), m.group(2)
        if name in values:
            return values[name]
        if re.fullmatch(r"\w+(\|\w+)*", body):  # alternatives such as an admin app list: take the first
            return body.split("|")[0]
        return "1"

    path = _GROUP.sub(group, route)
    path = _CONVERTER.sub(lambda m: values.get(m.group(2), "1"), path)
    path = path.replace("^", "").replace("$", "").replace("/?", "/").replace("\\.", ".").replace("\\", "")
    return path.replace("//", "/")


def all_patterns() -> list[Pattern]:
    return list(walk())


def by_kind(kind: str) -> list[Pattern]:
    return [p for p in all_patterns() if p.classify() == kind]


def unclassified_messages(patterns: list[Pattern]) -> list[str]:
    return [
        f"/{p.route} → {p.dotted} is neither scoped nor public: make its view a subclass of the scope base class "
        "(kehou.core.api.ScopeGuard via ScopedReadOnlyViewSet / ScopedListPage / ScopedDetailPage), or mark it "
        "dangerously_unscoped = True if it reads only the caller's own account, or add it to PUBLIC in "
        "kehou/core/tests/test_scope_walk.py with a reason"
        for p in patterns
        if p.classify() == "unclassified"
    ]


# --- classification tests (no database) ------------------------------------------------------------------
def test_every_url_pattern_is_scoped_self_only_admin_or_public() -> None:
    patterns = all_patterns()
    assert len(patterns) > 20, "the walker found suspiciously few URL patterns"
    problems = unclassified_messages(patterns)
    assert not problems, "\n".join(problems)
    kinds = {p.classify() for p in patterns}
    assert {"scoped", "self-only", "admin", "public"} <= kinds


def test_walker_flags_a_view_that_is_not_scoped() -> None:
    # Given a view someone adds without the scope base class
    from django.urls import path

    class LeakyView(APIView):
        def get(self, request: Any) -> Any:  # pragma: no cover - never called
            return None

    fake = Pattern(route="api/v1/leaky/", pattern=path("api/v1/leaky/", LeakyView.as_view()), namespaces=("api",))
    # Then the walker refuses it, naming the URL and the remedy
    [message] = unclassified_messages([fake])
    assert "/api/v1/leaky/" in message
    assert "ScopeGuard" in message


def test_walker_covers_api_router_routes_and_pages() -> None:
    routes = {p.url(pk=1, format="json") for p in by_kind("scoped")}
    for expected in ("/api/v1/schools/", "/api/v1/schools/1/", "/api/v1/students/1/", "/schools/1/", "/pupils/"):
        assert expected in routes, f"{expected} missing from the walked scoped routes: {sorted(routes)}"


def test_filled_urls_resolve_to_their_own_pattern() -> None:
    for p in all_patterns():
        if p.classify() == "admin":
            continue
        url = p.url(pk=1, id=1, format="json")
        try:
            match = resolve(url)
        except Resolver404:
            pytest.fail(f"the walker built {url} from /{p.route} but it does not resolve: teach fill_pattern()")
        assert match.func is p.callback, f"{url} (from /{p.route}) resolved to another view: {match.func}"


def _scope_guard_subclasses(cls: type = ScopeGuard) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _scope_guard_subclasses(sub)


def test_no_scope_guard_subclass_defines_get_queryset() -> None:
    all_patterns()  # importing the URLconf imports every view module
    offenders = [c.__qualname__ for c in _scope_guard_subclasses() if "get_queryset" in c.__dict__]
    assert offenders == []


def test_defining_get_queryset_on_a_scoped_view_raises_at_class_creation() -> None:
    from kehou.core.api import ScopedReadOnlyViewSet

    with pytest.raises(TypeError, match="overrides get_queryset"):

        class Sneaky(ScopedReadOnlyViewSet):
            def get_queryset(self) -> Any:  # pragma: no cover - the class is never created
                return None

    with pytest.raises(TypeError, match="overrides get_queryset"):

        class SneakyPage(ScopedListPage):
            def get_queryset(self) -> Any:  # pragma: no cover
                return None


# --- the world the behaviour tests run in -----------------------------------------------------------------
@dataclass
class World:
    city: City
    forbidden: dict[str, list[str]] = field(default_factory=dict)  # role → strings that must never appear
    api: dict[str, APIClient] = field(default_factory=dict)
    pages: dict[str, Client] = field(default_factory=dict)


@pytest.fixture
def world(city: City, settings: Any, tmp_path: Any) -> World:
    """The city fixture plus rows that live in school A2 and district B for every scoped model we can reach."""
    storage = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}
    settings.STORAGES = {**settings.STORAGES, "default": storage}  # proof files the walker downloads
    now = timezone.now()
    # Teachers: one at A2, one at B1, and an outside teacher who teaches at A1 and at B1.
    for school, name in ((city.a2, "乙老师"), (city.b1, "丙老师")):
        teacher = f.teacher_at(school)
        teacher.full_name = name
        teacher.save(update_fields=["full_name"])
    org = Organisation.objects.create(name="东湖科技社", credit_code="52360100MJ0000001X", district=city.district_a)
    travelling = f.teacher_at(city.a1, city.b1, kind="outside", organisation=org)
    travelling.full_name = "跨区老师"
    travelling.save(update_fields=["full_name"])
    # Guardians of the other schools' pupils, with phones that must not leak.
    guardian_a2 = f.guardian_of(city.pupil_a2)
    guardian_b1 = f.guardian_of(city.pupil_b1)
    # Review and library rows in district A (school A2's, and A1's for its own admin) and district B.
    catalog_rows(city, now)
    walker_proofs(now)  # a stored PDF proof on each submission (kehou/catalog/tests/factories.py)
    enrolment_walker_rows(city)  # classes, windows, holds, waivers, draws (kehou/enrolment/tests/factories.py)
    payments_walker_rows(city)  # orders, attempts, refunds, notifications, ledger (kehou/payments/tests/factories.py)
    payroll_walker_rows(city)  # pay lines, payouts, batches (kehou/payroll/tests/factories.py)
    teaching_walker_rows(city)  # teaching groups and shared lessons (kehou/teaching/tests/factories.py)
    supervision_walker_rows(city)  # a progress report naming district B (kehou/supervision/tests/factories.py)
    # Audit entries in every corner.
    with transaction.atomic():
        for obj in (city.a1, city.a2, city.b1, city.district_a, city.district_b):
            audit.record(actor=None, action="walker.seen", obj=obj, now=now - timedelta(minutes=1))
    c = city
    b_strings = [
        c.b1.name,
        c.b1.code,
        c.pupil_b1.name,
        c.pupil_b1.student_number,
        "丙老师",
        guardian_b1.phone,
        c.district_b.name,
    ]
    a2_strings = [c.a2.name, c.a2.code, c.pupil_a2.name, c.pupil_a2.student_number, "乙老师", guardian_a2.phone]
    a1_strings = [c.a1.name, c.a1.code, c.pupil_a1.name, c.pupil_a1.student_number, c.district_a.name]
    w = World(city=city)
    witnesses = {
        "witness_school_a2": (Role.SCHOOL_ADMIN, {"school": c.a2}),
        "witness_school_b1": (Role.SCHOOL_ADMIN, {"school": c.b1}),
        "witness_district_b": (Role.DISTRICT_ADMIN, {"district": c.district_b}),
    }
    for name, (role, binding) in witnesses.items():
        user = f.UserFactory(username=name)
        f.grant(user, role, **binding)
        client = APIClient()
        client.force_authenticate(user)
        w.api[name] = client
        w.pages[name] = Client()
        w.pages[name].force_login(user, backend="kehou.people.auth.PhoneOrUsernameBackend")
    for role, user in city.users.items():
        if role in SEES_EVERYTHING:
            w.forbidden[role] = []
        elif role == "district_admin":
            w.forbidden[role] = b_strings
        elif role in SCHOOL_LEVEL:
            w.forbidden[role] = b_strings + a2_strings
        else:
            w.forbidden[role] = b_strings + a2_strings + a1_strings
        client = APIClient()
        client.force_authenticate(user)
        w.api[role] = client
        page = Client()
        page.force_login(user, backend="kehou.people.auth.PhoneOrUsernameBackend")
        w.pages[role] = page
    assert set(w.forbidden) == set(ROLES), "the city fixture's roles changed: update ROLES in the walker"
    return w


def catalog_rows(c: City, now: Any) -> None:
    """Submissions with drawn panels, library entries and filings: school A1's and A2's in district A's library,
    school B1's in district B's. District A's library holds A1's course, so that its schools may read it; A1's own
    submission has no panel (a panel seat is the expert's, not the submitting school's)."""
    from kehou.catalog import draw
    from kehou.catalog.models import (
        CatalogItem,
        Filing,
        LibraryEntry,
        Panel,
        PanelMember,
        Submission,
        SubmissionVersion,
    )
    from kehou.catalog.tests.factories import setup_catalog

    catalog = setup_catalog(experts=2)
    science = catalog["categories"]["science"]
    pool = sorted(u.expert_profile.pk for u in catalog["experts"])

    def reviewed(school: Any, title: str, *, panel: bool = True) -> tuple[Submission, SubmissionVersion]:
        user = f.UserFactory()
        sub = Submission.objects.create(
            kind="course",
            library_region=school.district,
            submitter_school=school,
            submitter_user=user,
            title=title,
            category=science,
            status="in_review",
            created_at=now,
            updated_at=now,
        )
        version = SubmissionVersion.objects.create(
            submission=sub, number=1, created_at=now, created_by=user, name=title, grades=[3], fee_per_hour_fen=3000
        )
        if not panel:
            return sub, version
        drawn = Panel.objects.create(
            submission=sub,
            version_number=1,
            round=1,
            region=school.district,
            size=2,
            seed="walker",
            pool=pool,
            drawn_at=now,
            drawn_by=user,
        )
        for position, expert_id in enumerate(draw.first("walker", pool, 2)):
            PanelMember.objects.create(panel=drawn, expert_id=expert_id, draw_position=position, joined_at=now)
        return sub, version

    def entry(sub: Submission, version: SubmissionVersion, **where: Any) -> LibraryEntry:
        item, _ = CatalogItem.objects.get_or_create(
            submission=sub,
            defaults={
                "kind": "course",
                "version": version,
                "name": version.name,
                "category": science,
                "provider_school": sub.submitter_school,
                "admitted_at": now,
            },
        )
        source = "picked" if "school" in where else "admitted"
        return LibraryEntry.objects.create(item=item, source=source, added_at=now, status_changed_at=now, **where)

    def filed(e: LibraryEntry, school: Any) -> None:
        Filing.objects.create(
            entry=e,
            change="added",
            district=school.district,
            school=school,
            filed_at=now,
            filed_by=c.users["city_admin"],
        )

    a1_sub, a1_version = reviewed(c.a1, "东湖课程", panel=False)
    reviewed(c.a2, "乙校课程")
    b_sub, b_version = reviewed(c.b1, "丙校课程")
    district_a = entry(a1_sub, a1_version, level="district", region=c.district_a)
    filed(entry(a1_sub, a1_version, level="school", school=c.a2, upstream=district_a), c.a2)
    district_b = entry(b_sub, b_version, level="district", region=c.district_b)
    filed(entry(b_sub, b_version, level="school", school=c.b1, upstream=district_b), c.b1)


def reads_reference_data(p: Pattern, world: World) -> bool:
    """Whether a list reads reference data every signed-in role may read (categories, quality standards, fee
    standards): a model whose scope is only a rule, with no path to a district, school or person."""
    try:
        model = model_of(p, world, {})
    except Exception:
        return False
    spec: ScopeSpec | None = getattr(model, "kehou_scope", None)
    paths = (
        (spec.district, spec.school, spec.pupil, spec.teacher, spec.owner, spec.operator, spec.expert) if spec else ()
    )
    return spec is not None and spec.rule is not None and all(path is None for path in paths)


def model_of(p: Pattern, world: World, kwargs: dict[str, Any]) -> type[models.Model]:
    """The model a scoped view reads, found through the view itself as the city admin."""
    user = world.city.users["city_admin"]
    view_cls = p.view
    initkwargs = getattr(p.callback, "initkwargs", {}) or getattr(p.callback, "view_initkwargs", {})
    if issubclass(view_cls, APIView):
        request = APIRequestFactory().get(p.url(**kwargs))
        force_authenticate(request, user)
        view = view_cls(**initkwargs)
        if issubclass(view_cls, ViewSetMixin):
            view.action_map = p.callback.actions
            view.action = p.callback.actions.get("get")
        view.args, view.kwargs, view.format_kwarg = (), kwargs, None
        view.request = view.initialize_request(request)
    else:
        from django.test import RequestFactory

        request = RequestFactory().get(p.url(**kwargs))
        request.user = user
        view = view_cls(**initkwargs)
        view.setup(request, **kwargs)
    return view.get_queryset().model


def _path_filter(path: str, target: Any) -> dict[str, Any]:
    return {path or "pk": target.pk}


def rows_outside(model: type[models.Model], role: str, world: World) -> list[models.Model]:
    """Rows of ``model`` the role must not see: those of district B, and of school A2 for school-level roles."""
    spec: ScopeSpec | None = getattr(model, "kehou_scope", None)
    assert spec is not None, f"{model.__name__} has no kehou_scope"
    c = world.city
    manager = model._default_manager
    found: list[models.Model] = []
    if spec.district is not None:
        found += manager.filter(**_path_filter(spec.district, c.district_b)).exclude(
            **_path_filter(spec.district, c.district_a)
        )
    elif spec.school is not None:
        found += manager.filter(**_path_filter(spec.school, c.b1)).exclude(**_path_filter(spec.school, c.a1))
    if role in SCHOOL_LEVEL | SEES_NOTHING and spec.school is not None:
        found += manager.filter(**_path_filter(spec.school, c.a2)).exclude(**_path_filter(spec.school, c.a1))
    if role in SEES_NOTHING and spec.school is not None:
        found += manager.filter(**_path_filter(spec.school, c.a1))
    if (
        not found
        and spec.rule is None
        and all(
            path is None
            for path in (spec.district, spec.school, spec.pupil, spec.teacher, spec.owner, spec.operator, spec.expert)
        )
    ):
        found += manager.all()  # a model with no path (e.g. the city's reconciliation report): only "everything"
    if not found and spec.owner is not None:
        owner = world.city.users[role]
        found += manager.exclude(**{spec.owner or "pk": owner.pk})
    return list(dict.fromkeys(found))


def rows_inside(model: type[models.Model], role: str, world: World) -> list[models.Model]:
    """Rows the role should see: district A's for the district admin, school A1's for the school admin."""
    spec: ScopeSpec = model.kehou_scope  # type: ignore[attr-defined]
    c = world.city
    if role == "district_admin" and spec.district is not None:
        return list(model._default_manager.filter(**_path_filter(spec.district, c.district_a)))
    if role == "school_admin" and spec.school is not None:
        return list(model._default_manager.filter(**_path_filter(spec.school, c.a1)))
    return []


def body_text(response: Any) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
        return xlsx_text(content)
    return content.decode("utf-8", errors="replace")


def xlsx_text(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        names = [n for n in z.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        if "xl/sharedStrings.xml" in z.namelist():
            names.append("xl/sharedStrings.xml")
        assert names, "the export has no worksheet"
        return "\n".join(z.read(n).decode("utf-8") for n in names)


def leaked(text: str, forbidden: list[str]) -> list[str]:
    return [s for s in forbidden if s and (s in text or json.dumps(s)[1:-1] in text)]


def get(world: World, p: Pattern, role: str, url: str) -> Any:
    client = world.api[role] if p.is_api else world.pages[role]
    return client.get(url)


def object_kwargs(p: Pattern, pk: int) -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(p.object_kwargs, pk)
    for name in p.kwarg_names:
        if name == "format":
            values[name] = "json"
        elif name not in values:
            pytest.fail(f"the walker does not know how to fill <{name}> of /{p.route}: teach object_kwargs()")
    return values


def unknown_pk(model: type[models.Model]) -> int:
    top = model._default_manager.order_by("-pk").values_list("pk", flat=True).first() or 0
    return int(top) + 999_999


# --- behaviour ---------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_details_outside_the_scope_answer_the_same_404_as_missing_rows(world: World) -> None:
    detail_patterns = [p for p in by_kind("scoped") if p.is_detail and "get" in p.methods()]
    assert detail_patterns, "no scoped detail pattern found"
    failures: list[str] = []
    for p in detail_patterns:
        model = model_of(p, world, object_kwargs(p, 1))
        missing = get(world, p, "city_admin", p.url(**object_kwargs(p, unknown_pk(model))))
        if missing.status_code != 404:
            failures.append(f"/{p.route}: a missing {model.__name__} answered {missing.status_code}, not 404")
            continue
        if p.is_api and missing.json()["error"]["code"] != "not_found":
            failures.append(f"/{p.route}: a missing {model.__name__} answered {missing.json()}")
        checked = 0
        openable: dict[str, bool] = {}
        for role in ROLES:
            if role in SEES_EVERYTHING:
                continue
            outside = rows_outside(model, role, world)
            if not outside:
                failures.append(
                    f"/{p.route}: no {model.__name__} outside the scope of {role}: add one to the walker's world"
                )
                continue
            for obj in outside:
                url = p.url(**object_kwargs(p, obj.pk))
                # The row exists and the URL is right: someone entitled to it opens it …
                if url not in openable:
                    openable[url] = any(get(world, p, w, url).status_code == 200 for w in WITNESSES)
                if not openable[url]:
                    continue  # the view does not offer this row to anyone (e.g. the city region as a district)
                checked += 1
                # … and the role does not, with exactly the answer for a missing row.
                response = get(world, p, role, url)
                if response.status_code != 404:
                    failures.append(f"{role} GET {url} ({model.__name__} {obj}) → {response.status_code}, not 404")
                elif p.is_api and response.json() != missing.json():
                    failures.append(f"{role} GET {url}: 404 body differs from a missing row's: {response.json()}")
        if not checked:
            failures.append(f"/{p.route}: no out-of-scope {model.__name__} could be opened by anyone entitled to it")
        # An in-scope row answers 200 to a role bound where it lies (school A1's admin, else district A's admin).
        narrower = NARROWER.get(p.dotted, ((), ""))[0]
        inside = [
            (r, obj)
            for r in ("school_admin", "district_admin")
            if r not in narrower
            for obj in rows_inside(model, r, world)[:1]
        ]
        if inside:
            role, obj = inside[0]
            url = p.url(**object_kwargs(p, obj.pk))
            response = get(world, p, role, url)
            if response.status_code != 200:
                failures.append(f"{role} GET {url} ({model.__name__} {obj}, in scope) → {response.status_code}")
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
def test_school_admin_opens_own_school_and_parent_own_child(world: World) -> None:
    c = world.city
    assert world.api["school_admin"].get(f"/api/v1/schools/{c.a1.pk}/").status_code == 200
    assert world.pages["school_admin"].get(f"/schools/{c.a1.pk}/").status_code == 200
    assert world.api["parent"].get(f"/api/v1/students/{c.pupil_a1.pk}/").status_code == 200
    assert world.pages["parent"].get(f"/pupils/{c.pupil_a1.pk}/").status_code == 200
    assert world.api["parent"].get(f"/api/v1/students/{c.pupil_a2.pk}/").status_code == 404


def _rows_of(response: Any) -> list[Any] | None:
    """The rows a list answered with (API results, or the rows of a list page), or None if it is no list."""
    if response.get("Content-Type", "").startswith("application/json"):
        data = response.json()
        if isinstance(data, list):
            return data
        if isinstance(data, dict) and "results" in data:
            return data["results"]
        return None
    context = getattr(response, "context", None)
    if context is not None and "rows" in context:
        return list(context["rows"])
    return None


@pytest.mark.django_db
def test_lists_pages_and_exports_show_nothing_outside_the_scope(world: World) -> None:
    list_patterns = [p for p in by_kind("scoped") + by_kind("self-only") if not p.is_detail and "get" in p.methods()]
    assert len(list_patterns) >= 5
    failures: list[str] = []
    for p in list_patterns:
        url = p.url(format="json")
        exportable = isinstance(p.view, type) and issubclass(p.view, ScopedListPage)
        # Reference data is read by every role with any role at all (the expert scores against the standards).
        reference = p.classify() == "scoped" and reads_reference_data(p, world)
        for role in ROLES:
            expect_empty = role in SEES_NOTHING and not (reference and role != "nobody")
            response = get(world, p, role, url)
            if response.status_code != 200:
                failures.append(f"{role} GET {url} → {response.status_code}, expected 200")
                continue
            if bad := leaked(body_text(response), world.forbidden[role]):
                failures.append(f"{role} GET {url} shows out-of-scope {bad}")
            if expect_empty and p.classify() == "scoped":
                rows = _rows_of(response)
                if rows is not None and rows:
                    failures.append(f"{role} GET {url}: expected an empty list, got {len(rows)} rows")
            if exportable:
                export = get(world, p, role, url + "?format=xlsx")
                if export.status_code != 200 or not export["Content-Type"].startswith("application/vnd.openxml"):
                    failures.append(f"{role} GET {url}?format=xlsx → {export.status_code} {export['Content-Type']}")
                    continue
                text = body_text(export)
                if bad := leaked(text, world.forbidden[role]):
                    failures.append(f"{role} GET {url}?format=xlsx shows out-of-scope {bad}")
                if expect_empty and text.count("<row") > 1:
                    failures.append(f"{role} GET {url}?format=xlsx: expected only the header row")
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
def test_city_admin_lists_show_the_other_district(world: World) -> None:
    # The negative checks above are only worth something if the same lists do show B1 to those who may see it.
    c = world.city
    for url in ("/api/v1/schools/", "/api/v1/students/", "/schools/", "/pupils/", "/audit/"):
        client = world.api["city_admin"] if url.startswith("/api/") else world.pages["city_admin"]
        text = body_text(client.get(url))
        assert c.b1.name in text, url


@pytest.mark.django_db
def test_anonymous_callers_are_refused(city: City) -> None:
    failures: list[str] = []
    for p in by_kind("scoped") + by_kind("self-only"):
        if "get" not in p.methods():
            continue
        url = p.url(**(object_kwargs(p, city.a1.pk) if p.is_detail else {"format": "json"}))
        if p.is_api:
            response = APIClient().get(url)
            if response.status_code != 401 or response.json()["error"]["code"] != "not_authenticated":
                failures.append(f"anonymous GET {url} → {response.status_code} {response.content[:200]!r}")
        else:
            response = Client().get(url)
            if response.status_code != 302 or not response["Location"].startswith("/login/"):
                failures.append(f"anonymous GET {url} → {response.status_code}, expected a redirect to /login/")
    assert not failures, "\n".join(failures)


def _row_counts() -> dict[str, int]:
    counts = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.label == "sessions.Session":
            continue
        counts[meta.label] = model._base_manager.count()
    return counts


@pytest.mark.django_db
def test_writes_to_out_of_scope_rows_answer_404_or_405_and_change_nothing(world: World) -> None:
    failures: list[str] = []
    roles = ("district_admin", "school_admin", "teacher", "parent", "operator_staff", "expert", "nobody")
    for p in by_kind("scoped"):
        allowed = p.methods()
        if p.is_detail:
            model = model_of(p, world, object_kwargs(p, 1))
        before = _row_counts()
        for role in roles:
            if p.is_detail:
                outside = rows_outside(model, role, world)
                if not outside:
                    continue
                url = p.url(**object_kwargs(p, outside[0].pk))
            else:
                url = p.url(format="json")
            client = world.api[role] if p.is_api else world.pages[role]
            for method in WRITE_METHODS:
                if p.is_api:
                    response = getattr(client, method)(url, {"name": "改名"}, format="json")
                else:
                    response = getattr(client, method)(url, {"name": "改名"})
                if method in allowed:
                    expected = 404 if p.is_detail else None
                    if expected and response.status_code != expected:
                        failures.append(f"{role} {method.upper()} {url} → {response.status_code}, expected 404")
                elif response.status_code != 405:
                    failures.append(f"{role} {method.upper()} {url} → {response.status_code}, expected 405")
                elif p.is_api and response.json()["error"]["code"] != "method_not_allowed":
                    failures.append(f"{role} {method.upper()} {url}: {response.json()}")
        after = _row_counts()
        changed = {k: (before[k], after.get(k)) for k in before if before[k] != after.get(k)}
        if changed:
            failures.append(f"writes to /{p.route} changed rows: {changed}")
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
def test_admin_site_is_for_staff_only(city: City) -> None:
    admin_patterns = by_kind("admin")
    assert len(admin_patterns) > 10
    non_staff = Client()
    non_staff.force_login(city.users["district_admin"], backend="kehou.people.auth.PhoneOrUsernameBackend")
    anonymous = Client()
    failures = []
    for p in admin_patterns:
        if p.pattern.name == "login":
            continue  # the admin's own login form is public
        url = p.url(object_id=city.a1.pk, content_type_id=1)
        for who, client in (("district_admin", non_staff), ("anonymous", anonymous)):
            response = client.get(url)
            target = "/admin/" if p.pattern.name == "logout" else "/admin/login/"
            if response.status_code != 302 or not response["Location"].startswith(target):
                failures.append(f"{who} GET {url} → {response.status_code} {response.get('Location')}")
    assert not failures, "\n".join(failures)
    root = Client()
    root.force_login(city.users["superuser"], backend="kehou.people.auth.PhoneOrUsernameBackend")
    assert root.get("/admin/").status_code == 200
