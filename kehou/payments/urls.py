"""Pages of orders, payments, refunds, reconciliation and the ledger (composed in kehou/page_urls.py)."""

from django.urls import path

from .views import ledger, notifications, parent, payments, policies, reconciliation, refunds

urlpatterns: list = [
    # Parents (phone first)
    path("parent/orders/", parent.OrdersPage.as_view(), name="parent-orders"),
    path("parent/orders/<int:pk>/", parent.ReceiptPage.as_view(), name="order"),
    path("parent/orders/<int:pk>/refund/", parent.RefundPage.as_view(), name="order-refund"),
    path("parent/places/<int:enrolment_id>/pay/", parent.PayPage.as_view(), name="place-pay"),
    # The simulator channel's cashier (its start URL names the merchant trade number)
    path("pay/simulator/<str:trade_id>/", parent.SimulatorCashierPage.as_view(), name="simulator-cashier"),
    # Schools, districts and the city
    path("payments/", payments.PaymentListPage.as_view(), name="payments"),
    path("payments/refunds/", refunds.RefundListPage.as_view(), name="refunds"),
    path("payments/refunds/<int:pk>/decide", refunds.RefundDecideAction.as_view(), name="refund-decide"),
    path("payments/notifications/", notifications.NotificationLogPage.as_view(), name="payment-notifications"),
    path("payments/reconciliations/", reconciliation.ReconciliationListPage.as_view(), name="reconciliations"),
    path(
        "payments/reconciliations/<int:pk>/", reconciliation.ReconciliationDetailPage.as_view(), name="reconciliation"
    ),
    path(
        "payments/reconciliations/differences/",
        reconciliation.ReconciliationItemsPage.as_view(),
        name="reconciliation-items",
    ),
    path("payments/policies/", policies.PolicyPage.as_view(), name="refund-policies"),
    path("ledger/", ledger.LedgerPage.as_view(), name="ledger"),
]
