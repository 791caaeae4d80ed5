"""Staff console pages of meal assistance, under /console/meals/."""

from django.urls import path

from livingroom.meals import console_views as views

app_name = "meals_console"

urlpatterns = [
    path("", views.index, name="index"),
]
