"""The talent's course proposal page, mounted at /programs/propose/ (staff propose in the console)."""

from django.urls import path  # noqa: F401

app_name = "programs_propose"
urlpatterns: list = []
