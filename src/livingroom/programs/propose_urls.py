"""The talent's course proposal page, mounted at /programs/propose/ (staff propose in the console)."""

from django.urls import path

from livingroom.programs import propose_views as views

app_name = "programs_propose"

urlpatterns = [
    path("new/", views.new, name="new"),
]
