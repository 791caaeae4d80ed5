"""Staff console pages of volunteering, under /console/volunteering/."""

from django.urls import path

from livingroom.volunteering import console_views as views

app_name = "volunteering_console"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("<id:activity_id>/", views.activity, name="activity"),
    path("shifts/<id:shift_id>/", views.shift, name="shift"),
    path("corrections/", views.corrections, name="corrections"),
    path("volunteers/", views.volunteers, name="volunteers"),
    path("hours/", views.hours, name="hours"),
]
