"""Filters the payments pages share (dates, the place, the channel)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from kehou.core.scope import Scope
from kehou.enrolment.views.common import _district_filter, _school_choices

from ..models import Channel


def _date(request: HttpRequest, name: str) -> date | None:
    try:
        return parse_date(request.GET.get(name, "").strip())
    except ValueError:
        return None


def _date_filters(request: HttpRequest, start: str, end: str) -> list[dict[str, Any]]:
    g = request.GET
    return [
        {"name": start, "label": _("From"), "type": "date", "value": g.get(start, "")},
        {"name": end, "label": _("To"), "type": "date", "value": g.get(end, "")},
    ]


def _place_filters(scope: Scope, request: HttpRequest) -> list[dict[str, Any]]:
    g = request.GET
    controls = _district_filter(scope, g.get("district", ""))
    schools = _school_choices(scope, g.get("district", ""))
    if len(schools) > 1 or g.get("school"):
        controls.append({"name": "school", "label": _("School"), "choices": schools, "value": g.get("school", "")})
    return controls


def _channel_filter(request: HttpRequest) -> dict[str, Any]:
    return {
        "name": "channel",
        "label": _("Channel"),
        "choices": Channel.choices,
        "value": request.GET.get("channel", ""),
    }


def _id(request: HttpRequest, name: str) -> int | None:
    from kehou.core.api import parse_id

    return parse_id(request.GET.get(name, ""))
