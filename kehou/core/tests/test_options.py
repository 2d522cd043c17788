"""``OPTIONS`` on every API route answers without a server error, for a signed-in person (DRF's metadata asks each
view for a serializer; an action view names its body, so it has one)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from kehou.conftest import City, api_as


def api_routes() -> list[str]:
    found: list[str] = []

    def walk(patterns: Any, prefix: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and route.startswith("api/v1/"):
                found.append(route)

    walk(get_resolver().url_patterns, "")
    paths = set()
    for route in found:
        path = re.sub(r"<(?:int:)?(\w+)>", "1", route)
        path = re.sub(r"<slug:\w+>", "simulator", path)
        path = path.replace("^", "").replace("$", "").replace("\\.(?P<format>[a-z0-9]+)/?", "")
        if "(?P" in path or "[" in path:
            path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", path)
        paths.add("/" + path)
    return sorted(paths)


@pytest.mark.django_db
def test_options_never_answers_500(city: City) -> None:
    client = api_as(city.users["city_admin"])
    failures = []
    routes = api_routes()
    assert len(routes) > 60  # every app's API is walked
    for path in routes:
        try:
            response = client.options(path)
        except Exception as exc:  # the test client re-raises what would be a 500
            failures.append((path, repr(exc)[:120]))
            continue
        if response.status_code >= 500:
            failures.append((path, response.status_code))
    assert failures == []
