"""Pages of the teacher's day."""

from django.urls import path

from . import views

urlpatterns: list = [
    path("timetable/", views.TimetablePage.as_view(), name="timetable"),
    path("sessions/<int:pk>/", views.SessionPage.as_view(), name="session"),
    path("sessions/<int:pk>/check-in", views.CheckInAction.as_view(), name="session-check-in"),
    path("sessions/<int:pk>/makeup", views.MakeupAction.as_view(), name="session-makeup"),
    path("sessions/<int:pk>/roll-call", views.RollCallAction.as_view(), name="session-roll-call"),
    path("sessions/<int:pk>/substitute", views.SubstituteAction.as_view(), name="session-substitute"),
    path("sessions/<int:pk>/comments", views.CommentAction.as_view(), name="session-comment"),
    path("parent/leave/", views.ParentLeavePage.as_view(), name="parent-leave"),
    path("parent/comments/", views.ParentCommentsPage.as_view(), name="parent-comments"),
    path("leave-requests/", views.LeaveListPage.as_view(), name="leave-requests"),
    path("schools/<int:pk>/leave-approver", views.LeaveApproverAction.as_view(), name="leave-approver"),
    path("leave-requests/<int:pk>/decide", views.LeaveDecideAction.as_view(), name="leave-decide"),
    path("leave-requests/<int:pk>/withdraw", views.LeaveWithdrawAction.as_view(), name="leave-withdraw"),
    path("check-ins/", views.FlaggedCheckInPage.as_view(), name="check-ins"),
    path("check-ins/<int:pk>/decide", views.MakeupDecideAction.as_view(), name="check-in-decide"),
]
