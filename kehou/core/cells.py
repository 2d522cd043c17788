"""A list page's cell that carries how its column is laid out (core/list.html reads ``css`` for the ``<td>``).

``num`` right-aligns figures, ``fold`` lets a secondary text wrap in a narrow column, ``pair`` holds a main value
with a quieter second line. A plain value stays a plain cell; Excel exports never see these (their columns are
plain values).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString


class Cell(SafeString):
    """Safe HTML (a plain value is escaped) with the CSS class of its ``<td>`` (and ``<th>`` when a header)."""

    css: str

    def __new__(cls, value: Any = "", css: str = "") -> Cell:
        cell = super().__new__(cls, conditional_escape("" if value is None else value))
        cell.css = css
        return cell


def num(value: Any) -> Cell:
    return Cell(value, "num")


def stacked(main: Any, second: Any = "", css: str = "") -> Cell:
    """A value with a quieter line under it (e.g. an amount and what it is made of)."""
    if not second:
        return Cell(main, css)
    return Cell(format_html('{}<small class="sub">{}</small>', main, second), f"{css} pair".strip())


def reject_with_reason(
    request: HttpRequest, url: str, *, label: str, confirm: str, reason_label: str, submit: str
) -> SafeString:
    """A rejection that asks for its reason first: the button opens a small form with a required reason (the
    action refuses a rejection without one too) and asks for confirmation before it is sent."""
    hidden = {"csrfmiddlewaretoken": get_token(request), "next": request.get_full_path(), "decision": "reject"}
    inputs = format_html_join("", '<input type="hidden" name="{}" value="{}">', hidden.items())
    return format_html(
        '<details class="reject" data-reject><summary class="button small secondary">{}</summary>'
        '<form method="post" action="{}" data-confirm="{}">{}'
        '<label>{}<input name="reason" required maxlength="200" autocomplete="off"></label>'
        '<button type="submit" class="small secondary">{}</button></form></details>',
        label,
        url,
        confirm,
        inputs,
        reason_label,
        submit,
    )
