"""Presentation helpers of the home pages (the roles a person acts as)."""

from __future__ import annotations

from typing import Any

from django import template

from kehou.portal.selectors import role_labels as labels

register = template.Library()


@register.simple_tag
def role_labels(user: Any) -> list[str]:
    """What the person acts as ("区县教体局 · 东湖区", …), for the greeting on the home page."""
    if not getattr(user, "is_authenticated", False):
        return []
    return labels(user=user)
