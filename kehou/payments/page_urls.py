"""Pages of orders, payments, refunds, reconciliation and the ledger (added to the portal namespace)."""

from django.urls import path

from . import views_admin as admin
from . import views_parent as parent

urlpatterns: list = [
    # Parents (phone first)
    path("parent/orders/", parent.OrdersPage.as_view(), name="parent-orders"),
    path("parent/orders/<int:pk>/", parent.ReceiptPage.as_view(), name="order"),
    path("parent/orders/<int:pk>/refund/", parent.RefundPage.as_view(), name="order-refund"),
    path("parent/places/<int:enrolment_id>/pay/", parent.PayPage.as_view(), name="place-pay"),
    # The simulator channel's cashier (its start URL names the merchant trade number)
    path("pay/simulator/<str:trade_id>/", parent.SimulatorCashierPage.as_view(), name="simulator-cashier"),
    # Schools, districts and the city
    path("payments/", admin.PaymentListPage.as_view(), name="payments"),
    path("payments/refunds/", admin.RefundListPage.as_view(), name="refunds"),
    path("payments/refunds/<int:pk>/decide", admin.RefundDecideAction.as_view(), name="refund-decide"),
    path("payments/notifications/", admin.NotificationLogPage.as_view(), name="payment-notifications"),
    path("payments/reconciliations/", admin.ReconciliationListPage.as_view(), name="reconciliations"),
    path("payments/reconciliations/<int:pk>/", admin.ReconciliationDetailPage.as_view(), name="reconciliation"),
    path(
        "payments/reconciliations/differences/",
        admin.ReconciliationItemsPage.as_view(),
        name="reconciliation-items",
    ),
    path("payments/policies/", admin.PolicyPage.as_view(), name="refund-policies"),
    path("ledger/", admin.LedgerPage.as_view(), name="ledger"),
]
