"""Pages of the portal itself: login, logout and each role's home. Every app's pages are composed beside these in
kehou/urls.py (one page namespace, ``portal:``)."""

from django.urls import path

from . import live, views

urlpatterns: list = [
    path("", views.home_view, name="home"),
    path("login/", views.login_view, name="login"),
    path("login/sms/send", views.sms_send_view, name="sms-send"),
    path("login/sms/", views.sms_login_view, name="sms-login"),
    path("logout/", views.logout_view, name="logout"),
    path("operations/live/", live.LivePage.as_view(), name="live"),
    path("follow-ups/<int:pk>/handle", live.FollowUpHandleAction.as_view(), name="follow-up-handle"),
]
