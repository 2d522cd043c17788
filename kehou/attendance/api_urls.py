"""/api/v1/ routes of the teacher's day."""

from django.urls import path

from . import api

urlpatterns: list = [
    path("teacher/sessions/", api.TeacherSessionListView.as_view(), name="teacher-sessions"),
    path("sessions/<int:pk>/check-in", api.CheckInView.as_view(), name="session-check-in"),
    path("sessions/<int:pk>/check-in/makeup", api.MakeupView.as_view(), name="session-check-in-makeup"),
    path("sessions/<int:pk>/roll-call", api.RollCallView.as_view(), name="session-roll-call"),
    path("sessions/<int:pk>/comments", api.SessionCommentsView.as_view(), name="session-comments"),
    path("comments/", api.CommentListView.as_view(), name="comments"),
    path("comment-tags/", api.CommentTagListView.as_view(), name="comment-tags"),
    path("sessions/<int:pk>/substitute", api.SubstituteView.as_view(), name="session-substitute"),
    path("check-ins/", api.FlaggedCheckInListView.as_view(), name="check-ins"),
    path("check-ins/<int:pk>/decide", api.MakeupDecideView.as_view(), name="check-in-decide"),
    path("leave-requests/", api.LeaveListView.as_view(), name="leave-requests"),
    path("leave-requests/<int:pk>/decide", api.LeaveDecideView.as_view(), name="leave-request-decide"),
    path("leave-requests/<int:pk>/withdraw", api.LeaveWithdrawView.as_view(), name="leave-request-withdraw"),
    path("operator/live/", api.OperatorLiveView.as_view(), name="operator-live"),
    path("follow-ups/", api.FollowUpListView.as_view(), name="follow-ups"),
    path("follow-ups/<int:pk>/handle", api.FollowUpHandleView.as_view(), name="follow-up-handle"),
    path("attendance-statuses/", api.StatusListView.as_view(), name="attendance-statuses"),
]
