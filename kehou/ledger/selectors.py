"""Reading the ledger: balances derived from postings, and the invariants ``ledger_verify`` checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from kehou.core.scope import Scope

from .models import Account, LedgerTransaction, Posting
from .services import ESCROW

# Other apps add checks of their own (e.g. payments: "every paid order has exactly its postings"): each returns a
# list of breaches (strings), empty when all is well.
EXTRA_CHECKS: list[Callable[[], list[str]]] = []


def balances() -> dict[str, int]:
    """Every account's balance in its normal direction, by code."""
    debits = dict(
        Posting.objects.values_list("debit__code").annotate(s=Sum("amount_fen")).values_list("debit__code", "s")
    )
    credits = dict(
        Posting.objects.values_list("credit__code").annotate(s=Sum("amount_fen")).values_list("credit__code", "s")
    )
    result: dict[str, int] = {}
    for acct in Account.objects.all():
        d, c = debits.get(acct.code, 0) or 0, credits.get(acct.code, 0) or 0
        result[acct.code] = d - c if acct.debit_normal else c - d
    return result


def _sum(qs: QuerySet[Posting]) -> int:
    return qs.aggregate(s=Sum("amount_fen"))["s"] or 0


@dataclass
class Verification:
    balanced: bool
    transactions: int
    escrow_fen: int  # funds in custody: the escrow account plus what the channels still owe it
    breaches: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "balanced": self.balanced,
            "transactions": self.transactions,
            "escrow_fen": self.escrow_fen,
            "breaches": self.breaches,
        }


def verify() -> Verification:
    """The invariants of the escrow ledger:

    * every line balances (a debit and a credit of the same positive amount: guaranteed by the schema, re-checked
      here), so assets + expenses = liabilities over the whole ledger;
    * no account that must not go negative is negative;
    * funds in custody (escrow + channel clearing) = paid − refunded − paid out;
    * the checks other apps registered in ``EXTRA_CHECKS``.
    """
    breaches: list[str] = []
    bad_lines = Posting.objects.filter(Q(amount_fen__lte=0) | Q(debit=F("credit"))).count()
    if bad_lines:
        breaches.append(f"{bad_lines} postings do not balance")
    by_code = balances()
    kinds = dict(Account.objects.values_list("code", "kind"))
    debit_side = sum(v for code, v in by_code.items() if kinds[code] in ("asset", "expense"))
    credit_side = sum(v for code, v in by_code.items() if kinds[code] == "liability")
    if debit_side != credit_side:
        breaches.append(f"assets + expenses ({debit_side}) ≠ liabilities ({credit_side})")
    for acct in Account.objects.filter(may_go_negative=False):
        if by_code.get(acct.code, 0) < 0:
            breaches.append(f"{acct.code} is negative ({by_code[acct.code]})")
    custody_codes = [c for c in by_code if c == ESCROW or c.startswith("clearing:")]
    custody = sum(by_code[c] for c in custody_codes)
    into = Q(debit__code__startswith="clearing:") | Q(debit__code=ESCROW)
    out_of = Q(credit__code__startswith="clearing:") | Q(credit__code=ESCROW)
    paid = _sum(Posting.objects.filter(into, transaction__kind=LedgerTransaction.Kind.PAYMENT))
    refunded = _sum(Posting.objects.filter(out_of, transaction__kind=LedgerTransaction.Kind.REFUND))
    paid_out = _sum(Posting.objects.filter(out_of, transaction__kind=LedgerTransaction.Kind.PAYOUT))
    corrections = _sum(Posting.objects.filter(into, transaction__kind="correction")) - _sum(
        Posting.objects.filter(out_of, transaction__kind="correction")
    )
    if custody != paid - refunded - paid_out + corrections:
        breaches.append(
            f"custody {custody} ≠ paid {paid} − refunded {refunded} − paid out {paid_out} + corrections {corrections}"
        )
    for check in EXTRA_CHECKS:
        breaches += check()
    return Verification(
        balanced=not breaches,
        transactions=LedgerTransaction.objects.count(),
        escrow_fen=custody,
        breaches=breaches,
    )


def account_list(*, scope: Scope) -> QuerySet[Account]:
    """The accounts a scope may see: the city bureau every account; a district its schools' prepayment accounts;
    a school its own (the shared accounts — escrow, clearing, refunds payable — belong to no school)."""
    return scope.filter(Account.objects.select_related("school")).order_by("code")


def account_balances(accounts: QuerySet[Account]) -> list[tuple[Account, int, int, int]]:
    """(account, debits, credits, balance in its normal direction) for each account, derived from the postings in
    two grouped queries."""
    rows = list(accounts)
    ids = [a.pk for a in rows]
    debits = dict(
        Posting.objects.filter(debit_id__in=ids)
        .values_list("debit_id")
        .annotate(s=Sum("amount_fen"))
        .values_list("debit_id", "s")
    )
    credits = dict(
        Posting.objects.filter(credit_id__in=ids)
        .values_list("credit_id")
        .annotate(s=Sum("amount_fen"))
        .values_list("credit_id", "s")
    )
    result = []
    for acct in rows:
        d, c = int(debits.get(acct.pk) or 0), int(credits.get(acct.pk) or 0)
        result.append((acct, d, c, d - c if acct.debit_normal else c - d))
    return result


def transaction_detail_queryset(*, scope: Scope) -> QuerySet[LedgerTransaction]:
    """Transactions in the scope with their postings and the postings' accounts."""
    postings = Posting.objects.select_related("debit__school", "credit__school").order_by("pk")
    return scope.filter(
        LedgerTransaction.objects.select_related("school").prefetch_related(Prefetch("postings", queryset=postings))
    )


def transaction_list(
    *, scope: Scope, kind: str = "", school_id: int | None = None, reference: str = ""
) -> QuerySet[LedgerTransaction]:
    """Transactions in the scope, newest first, with each posting's accounts read in the same prefetch."""
    qs = transaction_detail_queryset(scope=scope)
    if kind:
        qs = qs.filter(kind=kind)
    if school_id:
        qs = qs.filter(school_id=school_id)
    if reference:
        qs = qs.filter(reference=reference)
    return qs.order_by("-at", "-pk")


def account_label(account: Account) -> str:
    """An account in the reader's language ("资金监管账户", "家长预付款 · 南昌市第一小学"), for pages; the code
    (``prepaid:school:10``) is for engineers and the API."""
    code = account.code
    if code == "escrow":
        return str(_("Escrow account"))
    if code.startswith("clearing:"):
        return str(_("Channel clearing: %(channel)s")) % {"channel": code.split(":", 1)[1]}
    if code.startswith("prepaid:school:"):
        school = account.school.name if account.school is not None else code.rsplit(":", 1)[1]
        return str(_("Prepayments · %(school)s")) % {"school": school}
    if code.startswith("earned:school:"):
        school = account.school.name if account.school is not None else code.rsplit(":", 1)[1]
        return str(_("Earned by delivery · %(school)s")) % {"school": school}
    labels = {
        "refunds_payable": _("Refunds payable"),
        "teacher_pay_payable": _("Teachers' pay payable"),
        "operator_costs_payable": _("Operator costs payable"),
        "tax_withheld_payable": _("Tax withheld"),
    }
    return str(labels.get(code, account.name))
