"""Rows of supervision for the scope walker: a progress report naming district B only (with its files stored),
outside every walker role's scope but the city's; district B's witness opens it."""

from __future__ import annotations

from typing import Any


def walker_rows(city: Any) -> None:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from ..models import ProgressReport

    now = timezone.now()
    pdf = default_storage.save("supervision/reports/walker.pdf", ContentFile(b"%PDF-1.4\n%walker\n"))
    xlsx = default_storage.save("supervision/reports/walker.xlsx", ContentFile(b"PK\x03\x04walker"))
    report = ProgressReport.objects.create(
        number="2026-900",
        title="走查通报",
        issued_at=now,
        summary={},
        pdf=pdf,
        xlsx=xlsx,
        pdf_sha256="0" * 64,
        xlsx_sha256="0" * 64,
    )
    report.districts.set([city.district_b])
