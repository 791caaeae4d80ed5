"""Staff console pages of courses, under /console/programs/."""

from django.urls import path  # noqa: F401

app_name = "programs_console"
urlpatterns: list = []
