"""API of the escrow ledger (read only: the ledger is written by services through ``ledger.services.post``).

Balances and transactions are read through the scope: the city bureau sees every account and transaction; a
district bureau its schools' prepayment accounts and transactions; a school its own. The shared accounts (escrow,
the channels' clearing, refunds payable) belong to no school, so only the city bureau sees them. ``verify`` checks
the invariants of the whole ledger, which only a scope that sees everything can read.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from kehou.core.api import ScopedReadOnlyViewSet, ScopeGuard, query_int
from kehou.core.scope import Scope

from . import selectors
from .models import Account, LedgerTransaction, Posting


class AccountBalanceSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField(help_text="`asset`, `liability`, `expense`")
    school = serializers.IntegerField(allow_null=True)
    debits_fen = serializers.IntegerField()
    credits_fen = serializers.IntegerField()
    balance_fen = serializers.IntegerField(help_text="in the account's normal direction")


class BalancesSerializer(serializers.Serializer[Any]):
    accounts = AccountBalanceSerializer(many=True)
    total_fen = serializers.IntegerField(help_text="sum of the balances shown, by kind: see `by_kind`")
    by_kind = serializers.DictField(child=serializers.IntegerField())


class PostingSerializer(serializers.ModelSerializer[Posting]):
    debit = serializers.CharField(source="debit.code")
    credit = serializers.CharField(source="credit.code")

    class Meta:
        model = Posting
        fields = ["debit", "credit", "amount_fen"]


class TransactionSerializer(serializers.ModelSerializer[LedgerTransaction]):
    kind = serializers.CharField(help_text=", ".join(f"`{v}`" for v in LedgerTransaction.Kind.values))
    amount_fen = serializers.SerializerMethodField(help_text="the sum of its postings")
    postings = PostingSerializer(many=True, read_only=True)

    class Meta:
        model = LedgerTransaction
        fields = ["id", "key", "kind", "at", "school", "reference", "memo", "corrects", "amount_fen", "postings"]

    def get_amount_fen(self, obj: LedgerTransaction) -> int:
        return sum(p.amount_fen for p in obj.postings.all())


class VerificationSerializer(serializers.Serializer[Any]):
    checked = serializers.BooleanField(help_text="false for a caller who cannot see the whole ledger")
    balanced = serializers.BooleanField(allow_null=True)
    transactions = serializers.IntegerField(allow_null=True)
    escrow_fen = serializers.IntegerField(allow_null=True, help_text="funds in custody: escrow + channel clearing")
    breaches = serializers.ListField(child=serializers.CharField())


class BalanceListView(ScopeGuard, generics.GenericAPIView):  # type: ignore[type-arg]
    pagination_class = None

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.account_list(scope=scope)

    @extend_schema(
        summary="Ledger account balances in the caller's scope",
        description=(
            "Derived from the postings (nothing is stored as a balance). The city bureau: every account (escrow, "
            "each channel's clearing, each school's prepayments, refunds payable, teachers' pay payable, operator "
            "costs); a district bureau: its schools' prepayment accounts; a school: its own. Others: none."
        ),
        parameters=[OpenApiParameter("school", int, description="school id")],
        responses={200: BalancesSerializer},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        accounts: QuerySet[Account] = self.get_queryset()
        school_id = query_int(request, "school")
        if school_id:
            accounts = accounts.filter(school_id=school_id)
        rows = selectors.account_balances(accounts)
        by_kind: dict[str, int] = {}
        for acct, _d, _c, balance in rows:
            by_kind[acct.kind] = by_kind.get(acct.kind, 0) + balance
        body = {
            "accounts": [
                {
                    "code": acct.code,
                    "name": acct.name,
                    "kind": acct.kind,
                    "school": acct.school_id,
                    "debits_fen": debits,
                    "credits_fen": credits,
                    "balance_fen": balance,
                }
                for acct, debits, credits, balance in rows
            ],
            "total_fen": sum(balance for *_rest, balance in rows),
            "by_kind": by_kind,
        }
        return Response(BalancesSerializer(body).data)


@extend_schema_view(
    list=extend_schema(
        summary="Ledger transactions in the caller's scope, newest first",
        description=(
            "Append-only: payments, settlements into escrow, refunds (reserve, paid, undo), releases, payouts and "
            "corrections, each with its unique idempotency `key` and its balanced postings (debit, credit, amount)."
        ),
        parameters=[
            OpenApiParameter("kind", str, enum=LedgerTransaction.Kind.values),
            OpenApiParameter("school", int, description="school id"),
            OpenApiParameter("reference", str, description="exactly, e.g. `order:KH…`"),
        ],
    ),
    retrieve=extend_schema(summary="One ledger transaction with its postings"),
)
class TransactionViewSet(ScopedReadOnlyViewSet):
    serializer_class = TransactionSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        if self.action == "retrieve":
            return selectors.transaction_detail_queryset(scope=scope)
        kind = self.request.query_params.get("kind", "").strip()
        return selectors.transaction_list(
            scope=scope,
            kind=kind if kind in LedgerTransaction.Kind.values else "",
            school_id=query_int(self.request, "school"),
            reference=self.request.query_params.get("reference", "").strip()[:80],
        )


class VerifyView(ScopeGuard, generics.GenericAPIView):  # type: ignore[type-arg]
    pagination_class = None

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.account_list(scope=scope)

    @extend_schema(
        summary="Check the ledger's invariants (what `manage.py ledger_verify` prints)",
        description=(
            "Every posting balances; assets + expenses = liabilities; no account that must not go negative is "
            "negative; funds in custody (escrow + channel clearing) = paid − refunded − paid out (+ corrections); "
            "every paid order has exactly its postings. The whole ledger is checked, so only the city bureau gets "
            "the figures; anyone else gets `checked: false` and nothing else."
        ),
        responses={200: VerificationSerializer},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not self.scope.everything:
            body: dict[str, Any] = {
                "checked": False,
                "balanced": None,
                "transactions": None,
                "escrow_fen": None,
                "breaches": [],
            }
        else:
            body = {"checked": True, **selectors.verify().as_dict()}
        return Response(VerificationSerializer(body).data)


__all__ = ["BalanceListView", "TransactionViewSet", "VerifyView"]
