"""Screenshots of each role's pages for the docs, taken from a running Kehou with the demo city loaded.

It starts nothing itself: serve the demo first, then point this at it::

    .venv/bin/python manage.py load_demo && .venv/bin/python manage.py demo_accounts   # writes var/demo-accounts.json
    .venv/bin/uvicorn kehou.asgi:application --port 8765 &
    .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:8765

It logs in as the first account of each role in ``var/demo-accounts.json`` through the real login form and
writes PNG files (phone 390×844 and desktop 1280×800) to ``docs/img/``. Chromium is Debian's package, given by
path (``--chromium``); Chinese text needs a CJK font on the machine (Debian: ``fonts-noto-cjk``).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
MAX_BYTES = 200 * 1024


@dataclass(frozen=True)
class Shot:
    name: str  # file name without .png
    role: str | None  # whose account (None: not logged in)
    path: str  # page to open after logging in
    device: str  # "phone" or "desktop"
    open_menu: bool = False


SHOTS = [
    Shot("login-phone", None, "/login/", "phone"),
    Shot("city-desktop", "city_admin", "/", "desktop"),
    Shot("district-desktop", "district_admin", "/", "desktop"),
    Shot("school-desktop", "school_admin", "/", "desktop"),
    Shot("school-phone", "school_admin", "/", "phone", open_menu=True),
    Shot("pupils-desktop", "school_admin", "/pupils/?grade=3", "desktop"),
    Shot("teacher-phone", "teacher", "/", "phone"),
    Shot("parent-phone", "parent", "/", "phone"),
    Shot("operator-desktop", "operator_staff", "/", "desktop"),
    Shot("expert-phone", "expert", "/", "phone"),
    # Course selection (issue 4) and payments (issue 5)
    Shot("parent-selection-phone", "parent", "/parent/", "phone"),
    Shot("parent-places-phone", "parent", "/parent/enrolments/", "phone"),
    Shot("parent-orders-phone", "parent", "/parent/orders/", "phone"),
    Shot("school-classes-desktop", "school_admin", "/classes/", "desktop"),
    Shot("district-windows-desktop", "district_admin", "/windows/", "desktop"),
    Shot("city-payments-desktop", "city_admin", "/payments/", "desktop"),
    Shot("city-refunds-desktop", "city_admin", "/payments/refunds/", "desktop"),
    Shot("city-ledger-desktop", "city_admin", "/ledger/", "desktop"),
]


def first_account_per_role(accounts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    chosen: dict[str, dict[str, Any]] = {}
    for account in accounts:
        chosen.setdefault(account["role"], account)
    return chosen


def log_in(page: Any, base: str, account: dict[str, Any]) -> None:
    page.goto(f"{base}/login/")
    page.fill("#pw input[name=username]", account["username"])
    page.fill("#pw input[name=password]", account["password"])
    page.click("#pw button[type=submit]")
    page.wait_for_url(f"{base}/")


def take(browser: Any, base: str, shot: Shot, account: dict[str, Any] | None, out: Path) -> Path:
    viewport = PHONE if shot.device == "phone" else DESKTOP
    target = out / f"{shot.name}.png"
    # A phone shot is taken at 2× for sharpness, and again at 1× if that file would be too large for the docs.
    for scale in [2, 1] if shot.device == "phone" else [1]:
        context = browser.new_context(viewport=viewport, device_scale_factor=scale, locale="zh-CN")
        try:
            page = context.new_page()
            if account is not None:
                log_in(page, base, account)
            page.goto(base + shot.path)
            if shot.open_menu:
                page.click("[data-menu-toggle]")
            page.evaluate("document.fonts.ready")
            page.screenshot(path=str(target), full_page=False)
        finally:
            context.close()
        if target.stat().st_size <= MAX_BYTES:
            break
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="where Kehou is served")
    parser.add_argument("--accounts", type=Path, default=ROOT / "var" / "demo-accounts.json")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--only", nargs="*", default=[], help="names of the shots to take (default: all)")
    args = parser.parse_args(argv)

    if not Path(args.chromium).is_file():
        parser.error(f"Chromium not found at {args.chromium} (Debian: apt-get install chromium fonts-noto-cjk)")
    if not args.accounts.is_file():
        parser.error(f"{args.accounts} not found: run manage.py load_demo and manage.py demo_accounts first")
    accounts = first_account_per_role(json.loads(args.accounts.read_text(encoding="utf-8")))
    args.out.mkdir(parents=True, exist_ok=True)
    base = args.url.rstrip("/")

    from playwright.sync_api import sync_playwright

    failed = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        try:
            for shot in SHOTS:
                if args.only and shot.name not in args.only:
                    continue
                account = accounts.get(shot.role) if shot.role else None
                if shot.role and account is None:
                    print(f"skip {shot.name}: no {shot.role} account in {args.accounts}", file=sys.stderr)
                    failed += 1
                    continue
                path = take(browser, base, shot, account, args.out)
                shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                print(f"{shown}  {path.stat().st_size // 1024} KB")
        finally:
            browser.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
