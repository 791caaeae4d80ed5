"""Console pages of the booking app, mounted at ``console/bookings/``."""

from django.urls import path

from livingroom.booking import console_views as views

app_name = "booking_console"

urlpatterns = [
    path("", views.index, name="index"),
    path("calendar/<id:center_id>/", views.calendar, name="calendar"),
    path("requests/", views.requests, name="requests"),
    path("<id:booking_id>/", views.booking, name="booking"),
    path("spaces/<id:space_id>/block/", views.space_block, name="block"),
    path("spaces/<id:space_id>/rules/", views.space_rules, name="rules"),
    path("spaces/<id:space_id>/hours/", views.space_hours, name="hours"),
    path("centers/<id:center_id>/closures/", views.closures, name="closures"),
    path("desk/", views.desk, name="desk"),
    path("utilisation/", views.utilisation, name="utilisation"),
    path("series/", views.series_list, name="series"),
    path("series/new/", views.series_new, name="series-new"),
]
