"""``manage.py demo_accounts``: print the demo accounts and write them to ``var/demo-accounts.json``.

The table shows every administrator and the named accounts, a sample of teachers, experts and parents, and how
many there are. The JSON file lists every demo account with an administrative, teacher, operator or expert role,
the named ``parent`` and a sample of other parents, as ``{"username", "password", "role", "district_code",
"school_code"}`` (null where the role is not bound to a district or school). Only accounts that still log in with
the demo password are listed.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kehou.demo import data
from kehou.demo.accounts import ROLE_ORDER, Account, collect_accounts
from kehou.demo.common import NAMED_USERNAMES

PARENTS_IN_JSON = 30
SAMPLE = {"teacher": 10, "expert": 8, "parent": 8}
HEADERS = ("role", "username", "password", "name", "district", "school", "")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


class Command(BaseCommand):
    help = "Print the demo accounts and write them to var/demo-accounts.json."

    def handle(self, *args: Any, **options: Any) -> None:
        accounts, changed = collect_accounts()
        if not accounts:
            raise CommandError("No demo accounts found: run manage.py load_demo first.")
        by_role = Counter(a.role for a in accounts)

        parents = [a for a in accounts if a.role == "parent"]
        in_json = [a for a in accounts if a.role != "parent"]
        in_json += [a for a in parents if a.username == "parent"]
        in_json += [a for a in parents if a.username != "parent"][:PARENTS_IN_JSON]
        path = settings.VAR_DIR / "demo-accounts.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([a.as_json() for a in in_json], ensure_ascii=False, indent=1) + "\n")

        shown: list[Account] = []
        seen: Counter[str] = Counter()
        for a in accounts:
            limit = SAMPLE.get(a.role)
            named = a.username in NAMED_USERNAMES
            if limit is None or named or seen[a.role] < limit:
                shown.append(a)
                if not named:
                    seen[a.role] += 1
        rows = [
            (
                a.role,
                a.username,
                a.password,
                a.full_name,
                f"{a.district_code} {a.district_name}" if a.district_code else "",
                f"{a.school_code} {a.school_name}" if a.school_code else "",
                a.detail,
            )
            for a in shown
        ]
        widths = [max(_width(r[i]) for r in [HEADERS, *rows]) for i in range(len(HEADERS))]
        line = "  ".join("-" * w for w in widths)
        self.stdout.write("  ".join(_pad(h, w) for h, w in zip(HEADERS, widths, strict=True)).rstrip())
        self.stdout.write(line)
        previous = None
        for role_row in rows:
            if previous is not None and role_row[0] != previous:
                self.stdout.write("")
            previous = role_row[0]
            self.stdout.write("  ".join(_pad(c, w) for c, w in zip(role_row, widths, strict=True)).rstrip())
        self.stdout.write(line)
        totals = ", ".join(f"{role} {by_role[role]}" for role in ROLE_ORDER if by_role[role])
        self.stdout.write(f"Accounts by role: {totals} (teachers, experts and parents above are samples).")
        self.stdout.write(
            f"All {by_role['parent']} parent accounts log in with the same password, by username or phone."
        )
        if changed:
            self.stdout.write(self.style.WARNING(f"{changed} demo accounts changed their password and are left out."))
        self.stdout.write(
            self.style.SUCCESS(f"Password for every account: {data.DEMO_PASSWORD}. Wrote {len(in_json)} to {path}")
        )
