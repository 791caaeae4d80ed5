"""Resident and public pages of the points app, mounted at the site root."""

from django.urls import path

from livingroom.points import views

app_name = "points"

urlpatterns = [
    path("me/points/", views.my_points, name="mine"),
    path("rewards/", views.rewards, name="rewards"),
]
