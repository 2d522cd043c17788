"""``manage.py demo_accounts``: print the demo accounts to try and write them all to ``var/demo-accounts.json``.

It prints one account per role (the named ones: ``admin``, ``city``, ``district-360102``, a school's administrator,
``teacher`` and ``teacher-outside``, ``operator``, ``expert``, ``parent``) and where the rest are; ``--all`` prints
the table of every administrator and the named accounts, a sample of teachers, experts and parents, and how many
there are. The JSON file lists every demo account with an administrative, teacher, operator or expert role,
the named ``parent`` and a sample of other parents, as ``{"username", "password", "role", "district_code",
"school_code"}`` (null where the role is not bound to a district or school). Only accounts that still log in with
the demo password are listed.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kehou.demo import data
from kehou.demo.accounts import ROLE_ORDER, Account, collect_accounts
from kehou.demo.common import NAMED_USERNAMES

PARENTS_IN_JSON = 30
SAMPLE = {"teacher": 10, "expert": 8, "parent": 8}
HEADERS = ("role", "username", "password", "name", "district", "school", "")
# The accounts to try, one per role: (role, label, the usernames to show first; else the role's first account).
TRY = (
    ("superuser", "superuser", ("admin",)),
    ("city_admin", "city bureau", ("city",)),
    ("district_admin", "district bureau", ("district-360102",)),
    ("school_admin", "school", ("school-3601020073",)),
    ("teacher", "teacher", ("teacher", "teacher-outside")),
    ("operator_staff", "operator", ("operator",)),
    ("expert", "expert", ("expert",)),
    ("parent", "parent", ("parent",)),
)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


class Command(BaseCommand):
    help = "Print the demo accounts to try (one per role) and write them all to var/demo-accounts.json."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--all", action="store_true", help="print the table of administrators and samples of the other roles"
        )

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

        if options["all"]:
            self._table(accounts, by_role)
        else:
            self._to_try(accounts)
        if changed:
            self.stdout.write(self.style.WARNING(f"{changed} demo accounts changed their password and are left out."))
        self.stdout.write(
            f"All {len(accounts)} accounts ({by_role['parent']} parents, who may also log in by phone) have the "
            f"password {data.DEMO_PASSWORD}; {len(in_json)} of them, every expert among them, are in {_shown(path)}."
        )

    def _to_try(self, accounts: list[Account]) -> None:
        """One line per role: the named account(s), their name and where they belong."""
        rows = []
        for role, label, preferred in TRY:
            mine = [a for a in accounts if a.role == role]
            chosen = [a for name in preferred for a in mine if a.username == name] or mine[:1]
            if chosen:
                first = chosen[0]
                where = first.school_name or first.district_name or first.detail
                users = " · ".join(a.username for a in chosen)
                rows.append((label, users, " ".join(x for x in (first.full_name, where) if x)))
        if not rows:
            return
        widths = [max(_width(r[i]) for r in rows) for i in range(2)]
        self.stdout.write(self.style.SUCCESS(f"Accounts to try (password {data.DEMO_PASSWORD}):"))
        for label, users, about in rows:
            self.stdout.write(f"  {_pad(label, widths[0])}  {_pad(users, widths[1])}  {about}".rstrip())

    def _table(self, accounts: list[Account], by_role: Counter[str]) -> None:
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


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
