"""Resident and public pages of meal assistance, mounted at the site root."""

from django.urls import path

from livingroom.meals import views

app_name = "meals"

urlpatterns = [
    path("meals/", views.canteens, name="canteens"),
]
