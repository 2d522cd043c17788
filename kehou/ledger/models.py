"""The double-entry escrow ledger (资金安全监管账户), append-only (DESIGN.md rule 4).

Every line of a transaction names the account debited, the account credited and a positive amount in fen, so a
transaction balances by construction and the database guards it (check constraints); there is no way to write half a
line. Transactions carry a unique idempotency key. Nothing is ever updated or deleted: database triggers refuse it
(migration 0002); a mistake is corrected by a new transaction. Balances are always derived from the lines.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kehou.core.scope import ScopeSpec


class Account(models.Model):
    class Kind(models.TextChoices):
        ASSET = "asset", _("Asset")
        LIABILITY = "liability", _("Liability")
        EXPENSE = "expense", _("Expense")

    code = models.CharField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    school = models.ForeignKey("orgs.School", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    may_go_negative = models.BooleanField(default=False)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.via_school("school", operator_via_school=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")

    def __str__(self) -> str:
        return self.code

    @property
    def debit_normal(self) -> bool:
        """Assets and expenses grow with debits; liabilities with credits."""
        return self.kind in (self.Kind.ASSET, self.Kind.EXPENSE)


class LedgerTransaction(models.Model):
    class Kind(models.TextChoices):
        PAYMENT = "payment", _("Payment received")
        SETTLEMENT = "settlement", _("Channel settlement into escrow")
        REFUND = "refund", _("Refund")
        RELEASE = "release", _("Release from prepayments")
        ACCRUAL = "accrual", _("Teachers' pay accrued")
        PAYOUT = "payout", _("Payout from escrow")
        CORRECTION = "correction", _("Correction")

    key = models.CharField(_("idempotency key"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    at = models.DateTimeField(_("at"))
    school = models.ForeignKey("orgs.School", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(_("reference"), max_length=80, blank=True)
    memo = models.CharField(_("memo"), max_length=200, blank=True)
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections")

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.via_school("school", operator_via_school=False)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")
        indexes = [models.Index(fields=["reference"]), models.Index(fields=["kind", "at"])]

    def __str__(self) -> str:
        return self.key


class Posting(models.Model):
    """One balanced line: ``amount_fen`` debited to one account and credited to another."""

    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="postings")
    debit = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="debits")
    credit = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="credits")
    amount_fen = models.PositiveBigIntegerField(_("amount (fen)"))

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.through("transaction", LedgerTransaction.kehou_scope)

    class Meta:
        ordering = ["transaction_id", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="posting_amount_positive"),
            models.CheckConstraint(condition=~Q(debit=F("credit")), name="posting_two_accounts"),
        ]

    def __str__(self) -> str:
        return f"{self.debit_id} ← {self.amount_fen} ← {self.credit_id}"
