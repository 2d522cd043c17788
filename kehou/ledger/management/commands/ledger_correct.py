"""Correct a ledger transaction by posting its opposite (append-only: nothing is edited or deleted)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from kehou.core import clock
from kehou.core.errors import KehouError
from kehou.ledger.models import LedgerTransaction
from kehou.ledger.services import correct


class Command(BaseCommand):
    help = "Post the correction of one ledger transaction (by its key) with a reason; prints one JSON line."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("key", help="the key of the transaction to correct")
        parser.add_argument("--reason", required=True)

    def handle(self, *args: Any, key: str, reason: str, **options: Any) -> None:
        original = LedgerTransaction.objects.filter(key=key).first()
        if original is None:
            raise CommandError(f"no ledger transaction with key {key!r}")
        try:
            with transaction.atomic():
                txn = correct(actor=None, original=original, reason=reason, now=clock.now())
        except KehouError as refusal:
            raise CommandError(f"{refusal.code}: {refusal.message}") from None
        self.stdout.write(json.dumps({"corrected": key, "correction": txn.key, "lines": txn.postings.count()}))
