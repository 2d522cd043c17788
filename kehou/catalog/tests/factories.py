"""Catalog test helpers: categories, fee standards, the 20 quality standards, a pool of experts."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from kehou.catalog.models import (
    Category,
    Decision,
    FeeStandard,
    Panel,
    PanelMember,
    QualityItem,
    ReviewPolicy,
    Submission,
)
from kehou.catalog.services import review, submissions
from kehou.catalog.services.submissions import CourseFields
from kehou.orgs.models import Region, School
from kehou.people.models import TeacherProfile, User
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
