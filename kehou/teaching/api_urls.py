"""/api/v1/ routes of the teaching platform."""

from django.urls import path

from . import api

urlpatterns: list = [
    path("qr-login/", api.QrLoginStartView.as_view(), name="qr-login"),
    path("qr-login/scan", api.QrLoginScanView.as_view(), name="qr-login-scan"),
    path("qr-login/<str:public_id>/", api.QrLoginStateView.as_view(), name="qr-login-state"),
    path("qr-login/<str:public_id>/session", api.QrLoginSessionView.as_view(), name="qr-login-session"),
    path("qr-login/<str:public_id>/confirm", api.QrLoginConfirmView.as_view(), name="qr-login-confirm"),
    path("qr-login/<str:public_id>/reject", api.QrLoginRejectView.as_view(), name="qr-login-reject"),
    path("teaching/outlines/<int:pk>/", api.OutlineView.as_view(), name="teaching-outline"),
    path("teaching/sessions/<int:pk>/lesson", api.SessionLessonView.as_view(), name="teaching-session-lesson"),
    path("teaching/lessons/", api.PlanListView.as_view(), name="teaching-lessons"),
    path("teaching/lessons/<int:pk>/", api.PlanDetailView.as_view(), name="teaching-lesson"),
    path("teaching/lessons/<int:pk>/copy", api.PlanCopyView.as_view(), name="teaching-lesson-copy"),
    path("teaching/lessons/<int:pk>/submit", api.PlanSubmitView.as_view(), name="teaching-lesson-submit"),
    path("teaching/library-lessons/", api.LibraryLessonListView.as_view(), name="teaching-library-lessons"),
    path("teaching/library-lessons/<int:pk>/copy", api.LibraryLessonCopyView.as_view(), name="teaching-library-copy"),
    path("teaching/groups/", api.GroupListView.as_view(), name="teaching-groups"),
    path("schools/<int:pk>/teaching-groups", api.GroupCreateView.as_view(), name="teaching-group-create"),
    path("teaching/courseware/", api.CoursewareListView.as_view(), name="teaching-courseware"),
    path("teaching/courseware/<int:pk>/", api.CoursewareDetailView.as_view(), name="teaching-courseware-detail"),
    path("teaching/courseware/<int:pk>/pages/<int:n>", api.CoursewarePageView.as_view(), name="teaching-page"),
    path("teaching/courseware/<int:pk>/file", api.CoursewareFileView.as_view(), name="teaching-courseware-file"),
    path("teaching/presentations/", api.PresentationListView.as_view(), name="teaching-presentations"),
    path("teaching/presentations/<int:pk>/", api.PresentationDetailView.as_view(), name="teaching-presentation"),
    path("teaching/presentations/<int:pk>/go", api.PresentationGoView.as_view(), name="teaching-presentation-go"),
]
