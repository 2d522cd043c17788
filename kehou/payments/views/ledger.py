"""The escrow ledger page: balances, custody and the invariants, transactions with their postings."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.core.pages import (
    ScopedListPage,
    local,
    yuan,
)
from kehou.core.scope import Scope
from kehou.ledger import selectors as ledger_selectors
from kehou.ledger.models import LedgerTransaction

from .. import selectors_pages


def _postings(t: LedgerTransaction) -> str:
    label = ledger_selectors.account_label
    return "; ".join(f"{label(p.debit)} ← {label(p.credit)} {yuan(p.amount_fen)}" for p in t.postings.all())


class LedgerPage(ScopedListPage):
    """The escrow ledger: account balances (the city bureau every account, with the funds in custody and the
    invariants checked; a district or school its prepayment accounts) and the transactions with their postings."""

    title = gettext_lazy("Escrow ledger")
    export_name = "ledger"
    search_placeholder = gettext_lazy("Reference, e.g. order:KH…")
    template_name = "payments/ledger.html"

    columns = (
        (gettext_lazy("At"), lambda t: local(t.at, "%Y-%m-%d %H:%M:%S")),
        (gettext_lazy("Kind"), lambda t: t.get_kind_display()),
        (gettext_lazy("Reference"), lambda t: t.reference),
        (gettext_lazy("Postings (debit ← credit)"), _postings),
        (gettext_lazy("Amount"), lambda t: yuan(sum(p.amount_fen for p in t.postings.all()))),
    )

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        return ledger_selectors.transaction_list(scope=scope, kind=g.get("kind", ""), reference=g.get("q", "").strip())

    def filters(self) -> list[dict[str, Any]]:
        return [
            {
                "name": "kind",
                "label": _("Kind"),
                "choices": LedgerTransaction.Kind.choices,
                "value": self.request.GET.get("kind", ""),
            }
        ]

    def extra_context(self) -> dict[str, Any]:
        view = selectors_pages.ledger_view(scope=self.scope, limit=0)
        v = view["verification"]
        return {
            "accounts": [
                {
                    "a": a,
                    "label": ledger_selectors.account_label(a),
                    "debits": yuan(d),
                    "credits": yuan(c),
                    "balance": yuan(b),
                }
                for a, d, c, b in view["accounts"]
            ],
            "verification": v,
            "custody": yuan(v.escrow_fen) if v else "",
        }
