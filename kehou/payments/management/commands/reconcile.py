"""Import a channel's daily bill, match it against our payments and refunds, and post the day's settlement:
``manage.py reconcile --channel simulator --date 2026-11-28 [--file path]``. Prints one JSON line of counts; a bill
that cannot be read (or is of another merchant or day) prints its error code and exits non-zero, writing nothing."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kehou.core import clock
from kehou.core.errors import KehouError
from kehou.payments.channels.bills import MAX_BILL_BYTES
from kehou.payments.selectors_reconciliation import reconciliation_summary
from kehou.payments.services.reconciliation import reconcile


class Command(BaseCommand):
    help = "Reconcile a channel's daily bill (downloaded, or --file) and settle the day into escrow."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--channel", required=True, help="simulator, wechat, alipay, ganfutong")
        parser.add_argument("--date", required=True, help="the bill's day, YYYY-MM-DD (Beijing time)")
        parser.add_argument("--file", default="", help="a bill file to import instead of downloading it")

    def handle(self, *args: Any, channel: str, date: str, file: str = "", **options: Any) -> None:
        try:
            bill_date = _date(date)
        except ValueError:
            raise CommandError(f"--date must be YYYY-MM-DD, not {date!r}") from None
        content = None
        if file:
            path = Path(file)
            if not path.is_file() or path.stat().st_size > MAX_BILL_BYTES:
                raise CommandError(f"bill_unreadable: no readable file at {file}")
            content = path.read_bytes()
        try:
            recon = reconcile(channel=channel, bill_date=bill_date, content=content, actor=None, now=clock.now())
        except KehouError as exc:
            raise CommandError(f"{exc.code}: {exc.message} {json.dumps(exc.fields, ensure_ascii=False)}") from None
        self.stdout.write(json.dumps(reconciliation_summary(recon), ensure_ascii=False))


def _date(text: str) -> date:
    return date.fromisoformat(text) if len(text) == 10 else date.fromisoformat("invalid")
