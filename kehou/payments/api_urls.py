"""/api/v1/ routes of orders, payments, refunds, channel notifications, reconciliation and the ledger (included
from kehou/api_urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
