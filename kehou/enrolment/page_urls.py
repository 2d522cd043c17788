"""Pages of classes, windows, selection and waivers (added to the portal namespace in portal/urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
