from django.urls import path

from kehou.catalog import views_admin
from kehou.catalog.views_submit import (
    ReviewListPage,
    ReviewSheetPage,
    SubmissionDetailPage,
    SubmissionListPage,
    SubmissionNewCoursePage,
    SubmissionNewDossierPage,
    SubmissionRevisePage,
)
from kehou.core.audit_views import AuditListPage
from kehou.enrolment.page_urls import urlpatterns as enrolment_pages
from kehou.orgs.views import SchoolDetailPage, SchoolListPage
from kehou.payments.page_urls import urlpatterns as payments_pages
from kehou.people.roster_views import RosterPage, RosterTemplatePage
from kehou.people.views import PupilDetailPage, PupilListPage, TeacherListPage

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.home_view, name="home"),
    path("login/", views.login_view, name="login"),
    path("login/sms/send", views.sms_send_view, name="sms-send"),
    path("login/sms/", views.sms_login_view, name="sms-login"),
    path("logout/", views.logout_view, name="logout"),
    path("schools/", SchoolListPage.as_view(), name="schools"),
    path("schools/<int:pk>/", SchoolDetailPage.as_view(), name="school"),
    path("schools/<int:pk>/roster/", RosterPage.as_view(), name="school-roster"),
    path("schools/<int:pk>/roster/template.xlsx", RosterTemplatePage.as_view(), name="school-roster-template"),
    path("pupils/", PupilListPage.as_view(), name="pupils"),
    path("pupils/<int:pk>/", PupilDetailPage.as_view(), name="pupil"),
    path("teachers/", TeacherListPage.as_view(), name="teachers"),
    path("audit/", AuditListPage.as_view(), name="audit"),
    # Libraries and review for the bureaus and the school admins (catalog/views_admin.py)
    path("review/", views_admin.ReviewQueuePage.as_view(), name="review"),
    path("review/submissions/<int:pk>/draw", views_admin.ReviewDrawAction.as_view(), name="review-draw"),
    path("review/panels/", views_admin.PanelListPage.as_view(), name="review-panels"),
    path("review/panels/<int:pk>/", views_admin.PanelPage.as_view(), name="review-panel"),
    path("review/panels/<int:pk>/decide", views_admin.PanelDecideAction.as_view(), name="review-panel-decide"),
    path("review/panels/<int:pk>/cancel", views_admin.PanelCancelAction.as_view(), name="review-panel-cancel"),
    path("submissions/<int:pk>/withdraw", views_admin.SubmissionWithdrawAction.as_view(), name="submission-withdraw"),
    path("review-tasks/<int:pk>/recuse", views_admin.SeatRecuseAction.as_view(), name="review-task-recuse"),
    path("library/", views_admin.LibraryPage.as_view(), name="library"),
    path("library/<int:pk>/", views_admin.LibraryEntryPage.as_view(), name="library-entry"),
    path("library/<int:pk>/adopt", views_admin.LibraryAdoptAction.as_view(), name="library-adopt"),
    path("library/<int:pk>/pick", views_admin.LibraryPickAction.as_view(), name="library-pick"),
    path("library/<int:pk>/status", views_admin.LibraryStatusAction.as_view(), name="library-status"),
    path("filings/", views_admin.FilingListPage.as_view(), name="filings"),
    path("filings/<int:pk>/acknowledge", views_admin.FilingAcknowledgeAction.as_view(), name="filing-acknowledge"),
    path("standards/", views_admin.StandardsPage.as_view(), name="standards"),
    # Submitters (我的申报) and experts (评审任务) (catalog/views_submit.py)
    path("submissions/", SubmissionListPage.as_view(), name="submissions"),
    path("submissions/new/course/", SubmissionNewCoursePage.as_view(), name="submission-new-course"),
    path("submissions/new/teacher/", SubmissionNewDossierPage.as_view(), name="submission-new-teacher"),
    path("submissions/<int:pk>/", SubmissionDetailPage.as_view(), name="submission"),
    path("submissions/<int:pk>/revise/", SubmissionRevisePage.as_view(), name="submission-revise"),
    path("review-tasks/", ReviewListPage.as_view(), name="review-tasks"),
    path("review-tasks/<int:pk>/", ReviewSheetPage.as_view(), name="review-task"),
]
urlpatterns += enrolment_pages
urlpatterns += payments_pages
