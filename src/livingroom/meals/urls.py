"""Resident and public pages of meal assistance, mounted at the site root."""

from django.urls import path

from livingroom.meals import views

app_name = "meals"

urlpatterns = [
    path("meals/", views.canteens, name="canteens"),
    path("meals/canteens/<id:canteen_id>/", views.canteen, name="canteen"),
    path("meals/canteens/<id:canteen_id>/order/", views.order, name="order"),
    path("meals/photos/<id:set_meal_id>.jpg", views.photo, name="photo"),
    path("me/meals/", views.mine, name="mine"),
    path("me/meals/<id:meal_id>/cancel/", views.cancel, name="cancel"),
]
