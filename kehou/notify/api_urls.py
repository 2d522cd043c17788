"""/api/v1/ routes of the notification centre."""

from django.urls import path

from . import api

urlpatterns: list = [
    path("notifications/", api.NotificationListView.as_view(), name="notifications"),
    path("notifications/read", api.NotificationReadView.as_view(), name="notifications-read"),
    path("events/", api.EventStreamView.as_view(), name="events"),
]
