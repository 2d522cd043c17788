"""Pages of people: a school's pupils and roster, pupils, teachers."""

from django.urls import path

from .roster_views import RosterPage, RosterTemplatePage
from .views import PupilDetailPage, PupilListPage, SchoolDetailPage, TeacherListPage

urlpatterns: list = [
    path("schools/<int:pk>/", SchoolDetailPage.as_view(), name="school"),
    path("schools/<int:pk>/roster/", RosterPage.as_view(), name="school-roster"),
    path("schools/<int:pk>/roster/template.xlsx", RosterTemplatePage.as_view(), name="school-roster-template"),
    path("pupils/", PupilListPage.as_view(), name="pupils"),
    path("pupils/<int:pk>/", PupilDetailPage.as_view(), name="pupil"),
    path("teachers/", TeacherListPage.as_view(), name="teachers"),
]
