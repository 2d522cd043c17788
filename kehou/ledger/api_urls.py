"""/api/v1/ routes of the escrow ledger (read only)."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import api

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("ledger/transactions", api.TransactionViewSet, basename="ledger-transaction")

urlpatterns: list = [
    path("ledger/balances", api.BalanceListView.as_view(), name="ledger-balances"),
    path("ledger/verify", api.VerifyView.as_view(), name="ledger-verify"),
    path("", include(router.urls)),
]
