"""Pages of the libraries and review."""

from django.urls import path

from .views import experts, filings, libraries, panels, standards, submissions

urlpatterns: list = [
    # Libraries and review for the bureaus and the school admins
    path("review/", panels.ReviewQueuePage.as_view(), name="review"),
    path("review/submissions/<int:pk>/draw", panels.ReviewDrawAction.as_view(), name="review-draw"),
    path("review/panels/", panels.PanelListPage.as_view(), name="review-panels"),
    path("review/panels/<int:pk>/", panels.PanelPage.as_view(), name="review-panel"),
    path("review/panels/<int:pk>/decide", panels.PanelDecideAction.as_view(), name="review-panel-decide"),
    path("review/panels/<int:pk>/cancel", panels.PanelCancelAction.as_view(), name="review-panel-cancel"),
    path("submissions/<int:pk>/withdraw", submissions.SubmissionWithdrawAction.as_view(), name="submission-withdraw"),
    path("review-tasks/<int:pk>/recuse", panels.SeatRecuseAction.as_view(), name="review-task-recuse"),
    path("library/", libraries.LibraryPage.as_view(), name="library"),
    path("library/<int:pk>/", libraries.LibraryEntryPage.as_view(), name="library-entry"),
    path("library/<int:pk>/adopt", libraries.LibraryAdoptAction.as_view(), name="library-adopt"),
    path("library/<int:pk>/pick", libraries.LibraryPickAction.as_view(), name="library-pick"),
    path("library/<int:pk>/status", libraries.LibraryStatusAction.as_view(), name="library-status"),
    path("filings/", filings.FilingListPage.as_view(), name="filings"),
    path("filings/<int:pk>/acknowledge", filings.FilingAcknowledgeAction.as_view(), name="filing-acknowledge"),
    path("standards/", standards.StandardsPage.as_view(), name="standards"),
    # Submitters (我的申报) and experts (评审任务)
    path("submissions/", submissions.SubmissionListPage.as_view(), name="submissions"),
    path("submissions/new/course/", submissions.SubmissionNewCoursePage.as_view(), name="submission-new-course"),
    path("submissions/new/teacher/", submissions.SubmissionNewDossierPage.as_view(), name="submission-new-teacher"),
    path("submissions/<int:pk>/", submissions.SubmissionDetailPage.as_view(), name="submission"),
    path("submissions/<int:pk>/revise/", submissions.SubmissionRevisePage.as_view(), name="submission-revise"),
    path("review-tasks/", experts.ReviewListPage.as_view(), name="review-tasks"),
    path("review-tasks/<int:pk>/", experts.ReviewSheetPage.as_view(), name="review-task"),
]
