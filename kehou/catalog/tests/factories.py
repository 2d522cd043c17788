"""Catalog test helpers: categories, fee standards, the 20 quality standards, a pool of experts."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from kehou.catalog import selectors
from kehou.catalog.models import (
    CatalogItem,
    Category,
    Decision,
    FeeStandard,
    Filing,
    LibraryEntry,
    LibraryEntryEvent,
    Panel,
    PanelMember,
    QualityItem,
    ReviewPolicy,
    Score,
    Submission,
    SubmissionVersion,
)
from kehou.catalog.services import libraries, review, submissions
from kehou.catalog.services.submissions import CourseFields
from kehou.core.models import AuditEntry
from kehou.orgs.models import Organisation, Region, School
from kehou.people.models import Role, TeacherProfile, User
from kehou.testing import factories as f

CATEGORIES = [
    ("science", "科技"),
    ("sports", "体育"),
    ("arts", "艺术"),
    ("humanities", "人文"),
    ("labour", "劳动"),
    ("psychology", "心理"),
]


def setup_catalog(*, experts: int = 8, speciality: str = "科技") -> dict[str, Any]:
    city = Region.objects.get_or_create(code="360100", defaults={"name": "南昌市", "kind": "city"})[0]
    cats = {
        code: Category.objects.get_or_create(code=code, defaults={"name": name, "order": i})[0]
        for i, (code, name) in enumerate(CATEGORIES)
    }
    for cat in cats.values():
        FeeStandard.objects.get_or_create(
            region=city,
            category=cat,
            defaults={"min_fee_fen": 1000, "max_fee_fen": 5000, "teacher_pay_fen": 6000, "set_at": timezone.now()},
        )
    for n in range(1, 21):
        QualityItem.objects.get_or_create(
            number=n,
            defaults={"title": f"标准{n}", "weight": 5 if n <= 10 else 3, "max_score": 10, "is_veto": n in (1, 2)},
        )
    ReviewPolicy.objects.get_or_create(region=city, defaults={"panel_size": 5})
    pool = [f.expert([speciality]) for _ in range(experts)]
    return {"city": city, "categories": cats, "experts": pool}


# --- helpers for the service and rule tests (added with test_draw/test_review/test_submissions/test_libraries) ---

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


def all_items(value: int = 9, **overrides: int) -> dict[str, int]:
    """A complete score sheet for the 20 standards: every item ``value``, some overridden (``i7=3``)."""
    sheet = {str(n): value for n in range(1, 21)}
    for key, score in overrides.items():
        sheet[key.removeprefix("i")] = score
    return sheet


def course_fields(category: Category, teacher_ids: list[int], **overrides: Any) -> CourseFields:
    values: dict[str, Any] = {
        "name": "机器人编程",
        "category": category,
        "introduction": "用积木机器人学编程",
        "grades": [3, 4, 5],
        "minutes_per_hour": 45,
        "hours_per_term": 16,
        "fee_per_hour_fen": 3000,
        "teacher_ids": teacher_ids,
    }
    values.update(overrides)
    return CourseFields(**values)


def staff_teacher(user: User) -> TeacherProfile:
    return TeacherProfile.objects.get(user=user)


def submit_course(
    city: Any,
    category: Category,
    *,
    library: str = "city",
    actor: User | None = None,
    school: School | None = None,
    teacher_ids: list[int] | None = None,
    now: datetime = NOW,
    **overrides: Any,
) -> Submission:
    """A course submitted by school A1 (its admin acting) for its staff teacher, unless told otherwise."""
    if actor is None:
        actor = city.users["school_admin"]
        school = school or city.a1
    if teacher_ids is None:
        teacher_ids = [staff_teacher(city.users["teacher"]).pk]
    return submissions.submission_create(
        actor=actor,
        school=school,
        library=library,
        now=now,
        fields=course_fields(category, teacher_ids, **overrides),
    )


def draw_panel(submission: Submission, actor: User, *, seed: str = "kehou-test-seed", size: int | None = None) -> Panel:
    return review.panel_draw(actor=actor, submission=submission, now=NOW, seed=seed, size=size)


def active_members(panel: Panel) -> list[PanelMember]:
    return list(panel.members.filter(status=PanelMember.Status.ACTIVE).select_related("expert__user"))


def score_all(panel: Panel, sheets: list[dict[str, int]] | dict[str, int] | None = None, vetoes: Any = ()) -> None:
    """Every active member scores: one sheet for all, or one sheet per member in draw order."""
    members = active_members(panel)
    per_member = sheets if isinstance(sheets, list) else [sheets or all_items(9)] * len(members)
    for member, sheet in zip(members, per_member, strict=True):
        review.score_submit(
            actor=member.expert.user,
            member=member,
            item_scores=sheet,
            vetoed_items=list(vetoes),
            comment="符合标准",
            now=NOW,
        )


def admitted_entry(city: Any, category: Category, *, library: str = "city", name: str = "机器人编程") -> LibraryEntry:
    """A course of school A1 admitted by review into the city library (or district A's library)."""
    sub = submit_course(city, category, library=library, name=name)
    admin = city.users["city_admin"] if library == "city" else city.users["district_admin"]
    panel = draw_panel(sub, admin, size=3)
    score_all(panel)
    review.panel_decide(actor=admin, panel=panel, now=NOW)
    return LibraryEntry.objects.get(item__submission=sub)


def district_admin_of(district: Region, username: str = "") -> User:
    user = f.UserFactory(**({"username": username} if username else {}))
    f.grant(user, Role.DISTRICT_ADMIN, district=district)
    return user


def school_admin_of(school: School) -> User:
    user = f.UserFactory()
    f.grant(user, Role.SCHOOL_ADMIN, school=school)
    return user


def outside_teacher(organisation: Organisation | None = None) -> User:
    return f.teacher_at(kind=TeacherProfile.Kind.OUTSIDE, organisation=organisation)


def organisation(district: Region, name: str = "") -> Organisation:
    n = Organisation.objects.count() + 1
    return Organisation.objects.create(name=name or f"社会机构{n}", credit_code=f"52360100MJ{n:08d}", district=district)


# What "nothing changed" means for a denied request: the rows of every table the catalog writes, and the status of
# every row that has one.
COUNTED = (
    Submission,
    SubmissionVersion,
    Panel,
    PanelMember,
    Score,
    Decision,
    CatalogItem,
    LibraryEntry,
    LibraryEntryEvent,
    Filing,
    AuditEntry,
)
WITH_STATUS = (Submission, Panel, PanelMember, LibraryEntry, Filing)


def db_state() -> dict[str, Any]:
    state: dict[str, Any] = {model.__name__: model.objects.count() for model in COUNTED}
    for model in WITH_STATUS:
        state[f"{model.__name__}.status"] = sorted(model.objects.values_list("pk", "status"))
    state["Submission.version_count"] = sorted(Submission.objects.values_list("pk", "version_count"))
    return state


@contextmanager
def nothing_changes() -> Iterator[None]:
    """``with nothing_changes(), pytest.raises(...):`` — the denied call wrote nothing at all."""
    before = db_state()
    yield
    assert db_state() == before


# --- proof files (added with test_proofs/test_api_submit/test_pages_submit) -------------------------------------
def tiny_pdf(text: str = "Kehou proof") -> bytes:
    """A small, valid one-page PDF (objects, cross-reference table and trailer with correct offsets)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid PNG image (8-bit RGB, every pixel green)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x0b\x6e\x4f" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def tiny_jpeg() -> bytes:
    """The first bytes of a JFIF JPEG (SOI, APP0) — enough for the content check, which reads the header only."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


def walker_proofs(now: datetime) -> None:
    """A PDF proof on the current version of every submission that has none, stored in the default storage (the
    scope walker opens each with its download URL)."""
    import uuid

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from kehou.catalog.models import ProofFile

    data = tiny_pdf()
    for sub in Submission.objects.all():
        version = sub.versions.get(number=sub.version_count)
        if version.proofs.exists():
            continue
        name = default_storage.save(f"proofs/walker/{uuid.uuid4().hex}.pdf", ContentFile(data))
        ProofFile.objects.create(
            version=version,
            kind=ProofFile.Kind.COURSE_PLAN,
            file=name,
            original_name=f"{sub.title}.pdf",
            content_type="application/pdf",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_at=now,
            uploaded_by=sub.submitter_user,
        )


# --- submitters' and experts' helpers (added with test_api_submit/test_pages_submit/test_proofs) ------------------
SUBMIT_NOW = datetime(2026, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def course_body(category: Category, teacher_ids: list[int], **changes: Any) -> CourseFields:
    values: dict[str, Any] = {
        "name": "少儿陶艺",
        "category": category,
        "introduction": "用陶泥学造型",
        "grades": [3, 4],
        "minutes_per_hour": 45,
        "hours_per_term": 16,
        "fee_per_hour_fen": 3000,
        "teacher_ids": teacher_ids,
    }
    values.update(changes)
    return CourseFields(**values)


def submitted_course(
    city: Any,
    *,
    actor: User | None = None,
    school: School | None = None,
    library: str = "city",
    category: str = "science",
    teacher_ids: list[int] | None = None,
    **changes: Any,
) -> Submission:
    """A course submitted through the service: by school A1's admin for its staff teacher unless told otherwise."""
    if actor is None:
        actor, school = city.users["school_admin"], school or city.a1
    if teacher_ids is None:
        teacher_ids = [TeacherProfile.objects.get(user=city.users["teacher"]).pk]
    fields = course_body(Category.objects.get(code=category), teacher_ids, **changes)
    return submissions.submission_create(actor=actor, school=school, library=library, fields=fields, now=SUBMIT_NOW)


def drawn_panel(submission: Submission, actor: User, *, size: int = 3, seed: str = "kehou-submit") -> Panel:
    return review.panel_draw(actor=actor, submission=submission, now=SUBMIT_NOW, seed=seed, size=size)


def decided(panel: Panel, actor: User, *, value: int, comment: str = "意见") -> Decision:
    """Every active member scores every standard ``value`` (with a comment naming their draw position), and the
    bureau decides: 9 admits, 7 returns for revision (with the default thresholds), 3 rejects."""
    members = panel.members.filter(status=PanelMember.Status.ACTIVE).order_by("draw_position")
    for i, member in enumerate(members.select_related("expert__user"), start=1):
        review.score_submit(
            actor=member.expert.user,
            member=member,
            item_scores={str(n): value for n in QualityItem.objects.values_list("number", flat=True)},
            vetoed_items=[],
            comment=f"{comment}{i}",
            now=SUBMIT_NOW,
        )
    return review.panel_decide(actor=actor, panel=panel, now=SUBMIT_NOW)


@contextmanager
def no_writes() -> Iterator[None]:
    """``with no_writes():`` — the block wrote nothing at all: every table has the rows it had, and every status
    column the values it had."""

    def snapshot() -> dict[str, Any]:
        from django.apps import apps

        state: dict[str, Any] = {}
        for model in apps.get_models(include_auto_created=True):
            if model._meta.proxy or not model._meta.managed or model._meta.label == "sessions.Session":
                continue
            state[model._meta.label] = model._base_manager.count()
            if any(f.name == "status" for f in model._meta.concrete_fields):
                state[f"{model._meta.label}.status"] = sorted(model._base_manager.values_list("pk", "status"))
        return state

    before = snapshot()
    yield
    assert snapshot() == before


class Libs:
    """The three-level libraries, built through the services.

    City entries ``city`` and ``other_city`` (school A1's courses, admitted by review); district A's adoption of
    ``city`` is ``da``, district B's ``db``; school A1 (a district school) picked ``da`` into ``sa1``; school A2,
    made city-managed (局属), picked ``city`` into ``sa2``.
    """

    def __init__(self, city: Any) -> None:
        cat = setup_catalog(experts=4)
        self.c = city
        self.a2_admin = school_admin_of(city.a2)
        self.b_admin = district_admin_of(city.district_b)
        city.a2.authority = School.Authority.CITY_BUREAU
        city.a2.save()
        self.city = admitted_entry(city, cat["categories"]["science"])
        self.other_city = admitted_entry(city, cat["categories"]["science"], name="创意美术")
        self.da = libraries.library_adopt(
            actor=city.users["district_admin"], district=city.district_a, city_entry=self.city, now=NOW
        )
        self.db = libraries.library_adopt(actor=self.b_admin, district=city.district_b, city_entry=self.city, now=NOW)
        self.sa1 = libraries.library_pick(actor=city.users["school_admin"], school=city.a1, entry=self.da, now=NOW)
        self.sa2 = libraries.library_pick(actor=self.a2_admin, school=city.a2, entry=self.city, now=NOW)

    def set_status(self, entry: LibraryEntry, status: str, actor: Any = None) -> int:
        actor = (
            actor
            or {
                "city": self.c.users["city_admin"],
                "district": self.c.users["district_admin"] if entry.region_id == self.c.district_a.pk else self.b_admin,
                "school": self.c.users["school_admin"] if entry.school_id == self.c.a1.pk else self.a2_admin,
            }[entry.level]
        )
        return libraries.library_set_status(actor=actor, entry=entry, status=status, reason="抽查", now=NOW)

    def usable(self) -> dict[str, bool]:
        return {
            "a1": selectors.usable_entries(school=self.c.a1).filter(pk=self.sa1.pk).exists(),
            "a2": selectors.usable_entries(school=self.c.a2).filter(pk=self.sa2.pk).exists(),
        }
