"""/api/v1/ routes of class-hour pay."""

from django.urls import path

from . import api

urlpatterns: list = [
    path("pay-lines/", api.PayLineListView.as_view(), name="pay-lines"),
    path("pay-lines/<int:pk>/reject", api.LineRejectView.as_view(), name="pay-line-reject"),
    path("pay-lines/<int:pk>/dispute", api.LineDisputeView.as_view(), name="pay-line-dispute"),
    path("pay-lines/<int:pk>/answer", api.LineAnswerView.as_view(), name="pay-line-answer"),
    path("schools/<int:pk>/pay-lines/school-approve", api.SchoolApproveView.as_view(), name="pay-school-approve"),
    path("schools/<int:pk>/pay-lines/operator-approve", api.OperatorApproveView.as_view(), name="pay-operator-approve"),
    path("operators/<int:pk>/payout-batches", api.PayoutBatchStartView.as_view(), name="payout-batch-start"),
    path("operators/<int:pk>/pay-rates", api.PayRateSetView.as_view(), name="pay-rate-set"),
    path("payout-batches/", api.PayoutBatchListView.as_view(), name="payout-batches"),
    path("payouts/", api.PayoutListView.as_view(), name="payouts"),
    path("pay-rates/", api.PayRateListView.as_view(), name="pay-rates"),
    path("audit-reports/", api.AuditReportListView.as_view(), name="audit-reports"),
    path("operators/<int:pk>/audit-reports", api.AuditReportFileView.as_view(), name="audit-report-file"),
    path("audit-reports/<int:pk>/acknowledge", api.AuditReportAcknowledgeView.as_view(), name="audit-report-ack"),
    path("operator-costs/", api.OperatorCostListView.as_view(), name="operator-costs"),
    path("disbursements/", api.DisbursementListView.as_view(), name="disbursements"),
    path("operators/<int:pk>/disbursements", api.DisbursementRequestView.as_view(), name="disbursement-request"),
    path("disbursements/<int:pk>/approve", api.DisbursementApproveView.as_view(), name="disbursement-approve"),
    path("disbursements/<int:pk>/refuse", api.DisbursementRefuseView.as_view(), name="disbursement-refuse"),
    path("payee/", api.PayeeView.as_view(), name="payee"),
    path("payouts/notify/<slug:channel>", api.PayoutNotifyView.as_view(), name="payout-notify"),
]
