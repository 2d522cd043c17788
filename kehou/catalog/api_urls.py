"""/api/v1/ routes of the libraries and review."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from .api import filings, libraries, panels, standards, submissions

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("library", libraries.LibraryEntryViewSet, basename="library-entry")
router.register("submissions", submissions.SubmissionViewSet, basename="submission")
router.register("panel-seats", panels.PanelSeatViewSet, basename="panel-seat")

urlpatterns: list = [
    # Libraries and review: the city bureau, the district bureaus and the school admins
    path("review/submissions/", panels.ReviewQueueView.as_view(), name="review-submissions"),
    path("review/submissions/<int:pk>/draw", panels.PanelDrawView.as_view(), name="review-submission-draw"),
    path("panels/<int:pk>/", panels.PanelDetailView.as_view(), name="panel-detail"),
    path("panels/<int:pk>/verify", panels.PanelVerifyView.as_view(), name="panel-verify"),
    path("panels/<int:pk>/decide", panels.PanelDecideView.as_view(), name="panel-decide"),
    path("panels/<int:pk>/cancel", panels.PanelCancelView.as_view(), name="panel-cancel"),
    path("library/<int:pk>/adopt", libraries.LibraryAdoptView.as_view(), name="library-entry-adopt"),
    path("library/<int:pk>/pick", libraries.LibraryPickView.as_view(), name="library-entry-pick"),
    path("library/<int:pk>/status", libraries.LibraryStatusView.as_view(), name="library-entry-status"),
    path("filings/", filings.FilingListView.as_view(), name="filings"),
    path("filings/<int:pk>/acknowledge", filings.FilingAcknowledgeView.as_view(), name="filing-acknowledge"),
    path("categories/", standards.CategoryListView.as_view(), name="categories"),
    path("quality-standards/", standards.QualityStandardListView.as_view(), name="quality-standards"),
    path("fee-standards/", standards.FeeStandardListView.as_view(), name="fee-standards"),
    path("review-policies/", standards.ReviewPolicyListView.as_view(), name="review-policies"),
    # Submitters and experts
    path("submissions/<int:pk>/revise", submissions.SubmissionReviseView.as_view(), name="submission-revise"),
    path("submissions/<int:pk>/proofs", submissions.SubmissionProofsView.as_view(), name="submission-proofs"),
    path("submissions/<int:pk>/withdraw", submissions.SubmissionWithdrawView.as_view(), name="submission-withdraw"),
    path("recusals/", panels.RecusalListView.as_view(), name="recusals"),
    path("proofs/<int:pk>/download", submissions.ProofDownloadView.as_view(), name="proof-download"),
    path("panel-seats/<int:pk>/score", panels.SeatScoreView.as_view(), name="panel-seat-score"),
    path("panel-seats/<int:pk>/decline", panels.SeatDeclineView.as_view(), name="panel-seat-decline"),
    path("", include(router.urls)),
]
