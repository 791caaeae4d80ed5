"""Staff console pages of meal assistance, under /console/meals/."""

from django.urls import path

from livingroom.meals import console_views as views

app_name = "meals_console"

urlpatterns = [
    path("", views.index, name="index"),
    path("claims/", views.claims, name="claims"),
    path("canteens/<id:canteen_id>/", views.canteen, name="canteen"),
    path("canteens/<id:canteen_id>/counter/", views.counter, name="counter"),
    path(
        "canteens/<id:canteen_id>/set-meals/<id:set_meal_id>/photo.jpg",
        views.set_meal_photo,
        name="set-meal-photo",
    ),
]
