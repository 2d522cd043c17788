from django.urls import path

from kehou.core.audit_views import AuditListPage
from kehou.orgs.views import SchoolDetailPage, SchoolListPage
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
]
