"""Writing the ledger: one function, ``post``. Other apps (payments, payroll) describe a transaction as balanced
legs; the ledger checks the accounts that must not go negative under a lock and appends it once per key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from kehou.core import permissions
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, KehouError
from kehou.orgs.models import School

from .models import Account, LedgerTransaction, Posting

ESCROW = "escrow"
REFUNDS_PAYABLE = "refunds_payable"
TEACHER_PAY_PAYABLE = "teacher_pay_payable"
OPERATOR_COSTS_PAYABLE = "operator_costs_payable"
TAX_WITHHELD_PAYABLE = "tax_withheld_payable"


def clearing_code(channel: str) -> str:
    return f"clearing:{channel}"


def prepaid_code(school_id: int) -> str:
    return f"prepaid:school:{school_id}"


def earned_code(school_id: int) -> str:
    """Fees released by delivery: still in escrow, no longer the parents' (teachers' pay and costs come out of it)."""
    return f"earned:school:{school_id}"


@dataclass(frozen=True)
class Leg:
    debit: str  # account code
    credit: str
    amount_fen: int


def account(code: str) -> Account:
    """The account of a code, opened on first use (the chart of accounts is fixed by the code's shape)."""
    existing = Account.objects.filter(code=code).first()
    if existing is not None:
        return existing
    values: dict[str, Any]
    if code == ESCROW:
        values = {"name": "资金监管账户 Escrow account", "kind": Account.Kind.ASSET}
    elif code.startswith("clearing:"):
        # What a channel owes the escrow account; refunds are netted against its next settlement, so it may go
        # below zero for a while.
        values = {
            "name": f"渠道待清算 Channel clearing ({code[9:]})",
            "kind": Account.Kind.ASSET,
            "may_go_negative": True,
        }
    elif code.startswith("prepaid:school:"):
        school = School.objects.get(pk=int(code.rsplit(":", 1)[1]))
        values = {"name": f"家长预付款 Prepayments · {school.name}", "kind": Account.Kind.LIABILITY, "school": school}
    elif code.startswith("earned:school:"):
        school = School.objects.get(pk=int(code.rsplit(":", 1)[1]))
        values = {"name": f"已履约收入 Earned · {school.name}", "kind": Account.Kind.LIABILITY, "school": school}
    elif code == TAX_WITHHELD_PAYABLE:
        values = {"name": "代扣个税 Tax withheld", "kind": Account.Kind.LIABILITY}
    elif code == REFUNDS_PAYABLE:
        values = {"name": "应付退款 Refunds payable", "kind": Account.Kind.LIABILITY}
    elif code == TEACHER_PAY_PAYABLE:
        values = {"name": "应付教师课酬 Teachers' pay payable", "kind": Account.Kind.LIABILITY}
    elif code == OPERATOR_COSTS_PAYABLE:
        values = {"name": "应付运营成本 Operator costs payable", "kind": Account.Kind.LIABILITY}
    else:
        raise KehouError(_("Unknown ledger account."), code=ErrorCode.UNKNOWN_ACCOUNT, fields={"account": code})
    return Account.objects.get_or_create(code=code, defaults=values)[0]


def balance_of(acct: Account) -> int:
    """The balance in the account's normal direction (positive = what an asset holds / a liability owes)."""
    debits = Posting.objects.filter(debit=acct).aggregate(s=Sum("amount_fen"))["s"] or 0
    credits = Posting.objects.filter(credit=acct).aggregate(s=Sum("amount_fen"))["s"] or 0
    return debits - credits if acct.debit_normal else credits - debits


def _same(existing: LedgerTransaction, kind: str, legs: Sequence[Leg]) -> bool:
    stored = sorted(existing.postings.values_list("debit__code", "credit__code", "amount_fen"))
    return existing.kind == kind and stored == sorted((leg.debit, leg.credit, leg.amount_fen) for leg in legs)


def post(
    *,
    key: str,
    kind: str,
    legs: Sequence[Leg],
    now: datetime,
    school_id: int | None = None,
    reference: str = "",
    memo: str = "",
    corrects: LedgerTransaction | None = None,
) -> tuple[LedgerTransaction, bool]:
    """Append a transaction once per ``key``: (the transaction, whether it was written now). Posting the same key
    again with the same legs returns the first; with different legs it is refused (``ledger_key_reused``). A leg
    that would take an account that must not go negative below zero refuses the whole transaction."""
    if not key or len(key) > 120:
        raise KehouError(_("A ledger transaction needs a key."), code=ErrorCode.LEDGER_KEY_INVALID)
    if not legs or any(leg.amount_fen <= 0 or leg.debit == leg.credit for leg in legs):
        raise KehouError(
            _("Every leg moves a positive amount between two accounts."), code=ErrorCode.LEDGER_LEG_INVALID
        )
    if kind not in LedgerTransaction.Kind.values:
        raise KehouError(_("Unknown kind of ledger transaction."), code=ErrorCode.LEDGER_KIND_INVALID)
    existing = LedgerTransaction.objects.filter(key=key).first()
    if existing is not None:
        if not _same(existing, kind, legs):
            raise Conflict(_("This ledger key was used for another transaction."), code=ErrorCode.LEDGER_KEY_REUSED)
        return existing, False
    try:
        with transaction.atomic():
            codes = sorted({c for leg in legs for c in (leg.debit, leg.credit)})
            accounts = {a.code: a for a in Account.objects.filter(code__in=codes)}  # one read for all legs
            accounts.update({code: account(code) for code in codes if code not in accounts})  # opened on first use
            # Lock, in a fixed order, every account this transaction lowers that must not go negative.
            change: dict[str, int] = {}
            for leg in legs:
                d, c = accounts[leg.debit], accounts[leg.credit]
                change[d.code] = change.get(d.code, 0) + (leg.amount_fen if d.debit_normal else -leg.amount_fen)
                change[c.code] = change.get(c.code, 0) + (-leg.amount_fen if c.debit_normal else leg.amount_fen)
            lowered = sorted(
                accounts[code].pk for code, delta in change.items() if delta < 0 and not accounts[code].may_go_negative
            )
            for acct in Account.objects.select_for_update().filter(pk__in=lowered).order_by("pk"):
                if balance_of(acct) + change[acct.code] < 0:
                    raise Conflict(
                        _("The account %(account)s would go negative.") % {"account": acct.code},
                        code=ErrorCode.LEDGER_INSUFFICIENT,
                        fields={"account": acct.code, "balance_fen": balance_of(acct)},
                    )
            txn = LedgerTransaction.objects.create(
                key=key,
                kind=kind,
                at=now,
                school_id=school_id,
                reference=reference[:80],
                memo=memo[:200],
                corrects=corrects,
            )
            Posting.objects.bulk_create(
                Posting(
                    transaction=txn, debit=accounts[leg.debit], credit=accounts[leg.credit], amount_fen=leg.amount_fen
                )
                for leg in legs
            )
    except IntegrityError:
        existing = LedgerTransaction.objects.filter(key=key).first()
        if existing is None:
            raise
        if not _same(existing, kind, legs):
            raise Conflict(
                _("This ledger key was used for another transaction."), code=ErrorCode.LEDGER_KEY_REUSED
            ) from None
        return existing, False
    return txn, True


def correct(*, actor: Any, original: LedgerTransaction, reason: str, now: datetime) -> LedgerTransaction:
    """Undo a transaction that should not have been posted: a new ``correction`` transaction with the opposite lines,
    pointing at the original (nothing is edited or deleted). Only the city bureau corrects; once per original."""
    from kehou.core import audit

    if actor is not None:
        permissions.require_city_admin(actor, message=_("Only the city bureau corrects the ledger."))
    if not reason.strip():
        raise KehouError(_("Give a reason."), code=ErrorCode.REASON_REQUIRED)
    if original.kind == LedgerTransaction.Kind.CORRECTION:
        raise Conflict(
            _("A correction is corrected by posting again, not by correcting it."), code=ErrorCode.CORRECT_CORRECTION
        )
    legs = [Leg(p.credit.code, p.debit.code, p.amount_fen) for p in original.postings.select_related("debit", "credit")]
    with transaction.atomic():
        txn, created = post(
            key=f"correction:{original.key}",
            kind=LedgerTransaction.Kind.CORRECTION,
            legs=legs,
            now=now,
            school_id=original.school_id,
            reference=original.reference,
            memo=reason.strip()[:200],
            corrects=original,
        )
        if created:
            audit.record(
                actor=actor,
                action=AuditAction.LEDGER_CORRECT,
                obj=txn,
                after={"corrects": original.key, "reason": reason.strip()[:200]},
                now=now,
                school_id=original.school_id,
            )
    return txn
