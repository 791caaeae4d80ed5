"""Resident pages of courses (filled by the resident-pages work)."""

from django.urls import path  # noqa: F401

app_name = "programs"
urlpatterns: list = []
