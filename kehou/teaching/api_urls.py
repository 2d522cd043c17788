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
]
