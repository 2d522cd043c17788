"""Catalog test helpers: categories, fee standards, the 20 quality standards, a pool of experts."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from kehou.catalog.models import Category, FeeStandard, QualityItem, ReviewPolicy
from kehou.orgs.models import Region
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
