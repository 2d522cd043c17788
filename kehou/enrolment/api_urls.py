"""/api/v1/ routes of classes, windows, selection and waivers (included from kehou/api_urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
