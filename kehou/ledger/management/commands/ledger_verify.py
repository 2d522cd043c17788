"""Check the escrow ledger's invariants: prints one JSON line and exits non-zero on any breach."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand

from kehou.ledger.selectors import verify


class Command(BaseCommand):
    help = 'Verify the escrow ledger; prints {"balanced": …, "transactions": N, "escrow_fen": …}.'

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify()
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
        if not result.balanced:
            sys.exit(1)
