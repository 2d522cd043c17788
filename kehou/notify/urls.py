"""Pages of the notification centre."""

from django.urls import path

from . import views

urlpatterns: list = [
    path("parent/notifications/", views.NotificationsPage.as_view(), name="parent-notifications"),
]
