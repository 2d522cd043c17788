from django.urls import path

from . import views

urlpatterns: list = [
    path("supervision/", views.DashboardPage.as_view(), name="supervision"),
    path("supervision/onboarding/", views.OnboardingPage.as_view(), name="supervision-onboarding"),
    path("supervision/reports/", views.ReportsPage.as_view(), name="supervision-reports"),
]
