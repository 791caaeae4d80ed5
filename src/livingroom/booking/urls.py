from django.urls import path

from livingroom.booking import views

app_name = "booking"

urlpatterns = [
    path("spaces/<id:space_id>/", views.space_page, name="space"),
    path("spaces/<id:space_id>/book/", views.book, name="book"),
    path("spaces/<id:space_id>/check-in/", views.door_check_in, name="door"),
    path("spaces/<id:space_id>/poster/", views.door_poster, name="poster"),
    path("me/bookings/", views.my_bookings, name="mine"),
    path("me/bookings/<id:booking_id>/cancel/", views.cancel, name="cancel"),
    path("me/bookings/<id:booking_id>/calendar.ics", views.booking_ics, name="ics"),
]
