"""/api/v1/ routes of orders, payments, refunds, channel notifications and reconciliation (composed in
kehou/api_urls.py)."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import api, api_notify, api_reconciliation

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("orders", api.OrderViewSet, basename="order")
router.register("refunds", api.RefundViewSet, basename="refund")
router.register("payment-notifications", api_notify.PaymentNotificationViewSet, basename="payment-notification")

urlpatterns: list = [
    # The parent's orders: pay, quote a refund, cancel with a refund
    path("orders/<int:pk>/pay", api.OrderPayView.as_view(), name="order-pay"),
    path("orders/<int:pk>/refund-quote", api.OrderRefundQuoteView.as_view(), name="order-refund-quote"),
    path("orders/<int:pk>/refund", api.OrderRefundView.as_view(), name="order-refund"),
    path("channels/", api.ChannelListView.as_view(), name="payment-channels"),
    # Refunds awaiting the school, refund policies
    path("refunds/<int:pk>/decide", api.RefundDecideView.as_view(), name="refund-decide"),
    path("refund-policies/", api.RefundPolicyListView.as_view(), name="refund-policies"),
    # The channels' notifications (public: verified by signature)
    path("payments/notify/<slug:channel>", api_notify.NotifyView.as_view(), name="payment-notify"),
    # The city's reconciliation report (its detail and export: RECONCILIATION_DETAIL_URLS below)
    path(
        "reconciliations/",
        api_reconciliation.ReconciliationViewSet.as_view({"get": "list", "post": "create"}),
        name="reconciliation-list",
    ),
    path("", include(router.urls)),
]

# The detail and the Excel export of a reconciliation (only a scope that sees everything reads them).
RECONCILIATION_DETAIL_URLS: list = [
    path(
        "reconciliations/<int:pk>/",
        api_reconciliation.ReconciliationViewSet.as_view({"get": "retrieve"}),
        name="reconciliation-detail",
    ),
    path(
        "reconciliations/<int:pk>/export",
        api_reconciliation.ReconciliationExportView.as_view(),
        name="reconciliation-export",
    ),
]
urlpatterns += RECONCILIATION_DETAIL_URLS
