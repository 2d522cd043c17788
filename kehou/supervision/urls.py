from django.urls import path

from . import views

urlpatterns: list = [
    path("supervision/", views.DashboardPage.as_view(), name="supervision"),
]
