"""/api/v1/ — every router and view registered here is walked by the scope test."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from kehou.catalog import api_admin
from kehou.catalog.api_submit import (
    PanelSeatViewSet,
    ProofDownloadView,
    RecusalListView,
    SeatDeclineView,
    SeatScoreView,
    SubmissionProofsView,
    SubmissionReviseView,
    SubmissionViewSet,
    SubmissionWithdrawView,
)
from kehou.core.audit_api import AuditEntryViewSet
from kehou.enrolment.api_urls import urlpatterns as enrolment_urls
from kehou.orgs.api import DistrictViewSet, SchoolViewSet
from kehou.payments.api_urls import urlpatterns as payments_urls
from kehou.people.api import MeView, StudentViewSet, TeacherViewSet, TokenView
from kehou.people.roster_views import RosterImportView, RosterTemplateView

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("schools", SchoolViewSet, basename="school")
router.register("districts", DistrictViewSet, basename="district")
router.register("students", StudentViewSet, basename="student")
router.register("teachers", TeacherViewSet, basename="teacher")
router.register("audit", AuditEntryViewSet, basename="audit")
router.register("library", api_admin.LibraryEntryViewSet, basename="library-entry")
router.register("submissions", SubmissionViewSet, basename="submission")
router.register("panel-seats", PanelSeatViewSet, basename="panel-seat")

app_name = "api"
urlpatterns = [
    path("auth/token", TokenView.as_view(), name="token"),
    path("me/", MeView.as_view(), name="me"),
    path("schools/<int:pk>/roster", RosterImportView.as_view(), name="school-roster"),
    path("schools/<int:pk>/roster/template", RosterTemplateView.as_view(), name="school-roster-template"),
    # Libraries and review: the city bureau, the district bureaus and the school admins (catalog/api_admin.py)
    path("review/submissions/", api_admin.ReviewQueueView.as_view(), name="review-submissions"),
    path("review/submissions/<int:pk>/draw", api_admin.PanelDrawView.as_view(), name="review-submission-draw"),
    path("panels/<int:pk>/", api_admin.PanelDetailView.as_view(), name="panel-detail"),
    path("panels/<int:pk>/verify", api_admin.PanelVerifyView.as_view(), name="panel-verify"),
    path("panels/<int:pk>/decide", api_admin.PanelDecideView.as_view(), name="panel-decide"),
    path("panels/<int:pk>/cancel", api_admin.PanelCancelView.as_view(), name="panel-cancel"),
    path("library/<int:pk>/adopt", api_admin.LibraryAdoptView.as_view(), name="library-entry-adopt"),
    path("library/<int:pk>/pick", api_admin.LibraryPickView.as_view(), name="library-entry-pick"),
    path("library/<int:pk>/status", api_admin.LibraryStatusView.as_view(), name="library-entry-status"),
    path("filings/", api_admin.FilingListView.as_view(), name="filings"),
    path("filings/<int:pk>/acknowledge", api_admin.FilingAcknowledgeView.as_view(), name="filing-acknowledge"),
    path("categories/", api_admin.CategoryListView.as_view(), name="categories"),
    path("quality-standards/", api_admin.QualityStandardListView.as_view(), name="quality-standards"),
    path("fee-standards/", api_admin.FeeStandardListView.as_view(), name="fee-standards"),
    path("review-policies/", api_admin.ReviewPolicyListView.as_view(), name="review-policies"),
    # Submitters and experts (catalog/api_submit.py)
    path("submissions/<int:pk>/revise", SubmissionReviseView.as_view(), name="submission-revise"),
    path("submissions/<int:pk>/proofs", SubmissionProofsView.as_view(), name="submission-proofs"),
    path("submissions/<int:pk>/withdraw", SubmissionWithdrawView.as_view(), name="submission-withdraw"),
    path("recusals/", RecusalListView.as_view(), name="recusals"),
    path("proofs/<int:pk>/download", ProofDownloadView.as_view(), name="proof-download"),
    path("panel-seats/<int:pk>/score", SeatScoreView.as_view(), name="panel-seat-score"),
    path("panel-seats/<int:pk>/decline", SeatDeclineView.as_view(), name="panel-seat-decline"),
    path("", include(router.urls)),
]
urlpatterns += enrolment_urls
urlpatterns += payments_urls
