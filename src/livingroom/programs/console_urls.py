"""Staff console pages of courses, under /console/programs/."""

from django.urls import path

from livingroom.programs import console_views as views

app_name = "programs_console"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("<id:program_id>/", views.program, name="program"),
    path("sessions/<id:session_id>/", views.session, name="session"),
    path("talents/", views.talents, name="talents"),
    path("totals/", views.totals, name="totals"),
]
