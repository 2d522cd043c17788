"""The Content-Security-Policy in a real browser (issue 14): the pages and the Swagger UI run under it with no
violation, and the page's own inline script (by nonce) still runs. Launched as in kehou/portal/tests/test_browser.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from kehou.portal.tests.test_browser import browser, page_factory, password_login  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watched(page: Any) -> list[str]:
    """Console errors and CSP violations seen by the page."""
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if m.type == "error" and "status of 404" not in m.text else None)
    page.on(
        "response", lambda r: seen.append(f"{r.status} {r.url}") if r.status == 404 and "favicon" not in r.url else None
    )
    page.on("pageerror", lambda e: seen.append(str(e)))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error('CSP ' + e.violatedDirective))"
    )
    return seen


def test_pages_run_under_the_policy_and_the_nonce_script_runs(city: Any, live_server: Any, page_factory: Any) -> None:  # noqa: F811
    page = page_factory()
    seen = watched(page)
    page.goto(f"{live_server.url}/login/")
    assert page.evaluate("document.documentElement.classList.contains('js')")  # base.html's inline script ran
    password_login(page, live_server.url, "school_a1")
    page.goto(f"{live_server.url}/pupils/")
    page.goto(f"{live_server.url}/schools/{city.a1.pk}/")
    assert not seen, seen


def test_swagger_ui_works_under_the_policy_offline(city: Any, live_server: Any, page_factory: Any) -> None:  # noqa: F811
    page = page_factory()
    seen = watched(page)
    outside: list[str] = []
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(live_server.url)
            else (outside.append(route.request.url), route.abort())
        ),
    )
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".opblock", timeout=15_000)
    assert page.locator(".opblock").count() > 10
    assert "Kehou API" in page.locator(".info .title").inner_text()
    assert not outside, outside
    assert not seen, seen
