"""Pages of the portal itself: login, logout and each role's home. Every app's pages are composed beside these in
kehou/urls.py (one page namespace, ``portal:``)."""

from django.urls import path

from . import disbursements, live, pay, reports, views

urlpatterns: list = [
    path("", views.home_view, name="home"),
    path("login/", views.login_view, name="login"),
    path("login/sms/send", views.sms_send_view, name="sms-send"),
    path("login/sms/", views.sms_login_view, name="sms-login"),
    path("logout/", views.logout_view, name="logout"),
    path("operations/live/", live.LivePage.as_view(), name="live"),
    path("follow-ups/<int:pk>/handle", live.FollowUpHandleAction.as_view(), name="follow-up-handle"),
    path("pay/", pay.PayPage.as_view(), name="pay"),
    path("pay/schools/<int:pk>/approve", pay.SchoolApproveAction.as_view(), name="pay-school-approve"),
    path("pay/schools/<int:pk>/operator-approve", pay.OperatorApproveAction.as_view(), name="pay-operator-approve"),
    path("pay/lines/<int:pk>/reject", pay.LineRejectAction.as_view(), name="pay-line-reject"),
    path("pay/lines/<int:pk>/dispute", pay.LineDisputeAction.as_view(), name="pay-line-dispute"),
    path("pay/lines/<int:pk>/answer", pay.LineAnswerAction.as_view(), name="pay-line-answer"),
    path("pay/operators/<int:pk>/payout", pay.PayoutBatchAction.as_view(), name="pay-payout-batch"),
    path("pay/disbursements/", disbursements.DisbursementPage.as_view(), name="disbursements"),
    path(
        "pay/operators/<int:pk>/disbursements",
        disbursements.DisbursementRequestAction.as_view(),
        name="disbursement-request",
    ),
    path(
        "pay/disbursements/<int:pk>/approve",
        disbursements.DisbursementApproveAction.as_view(),
        name="disbursement-approve",
    ),
    path(
        "pay/disbursements/<int:pk>/refuse",
        disbursements.DisbursementRefuseAction.as_view(),
        name="disbursement-refuse",
    ),
    path("pay/disbursements/<int:pk>/voucher", disbursements.VoucherDownload.as_view(), name="disbursement-voucher"),
    path("pay/account/", disbursements.PayeePage.as_view(), name="payee"),
    path("pay/account/callback", disbursements.PayeeCallback.as_view(), name="payee-callback"),
    path("pay/account/simulator/", disbursements.PayeeSimulator.as_view(), name="payee-simulator"),
    path("pay/reports/", reports.ReportListPage.as_view(), name="reports"),
    path("pay/reports/<int:pk>/", reports.ReportDetailPage.as_view(), name="report"),
    path("pay/reports/<int:pk>/acknowledge", reports.ReportAcknowledgeAction.as_view(), name="report-acknowledge"),
    path("pay/operators/<int:pk>/report", reports.ReportFileAction.as_view(), name="report-file"),
    path("pay/operators/<int:pk>/costs", reports.CostAddAction.as_view(), name="cost-add"),
]
