from django.contrib import admin
from django.urls import include, path, register_converter

from livingroom.api import api
from livingroom.core.converters import IdConverter
from livingroom.people.auth import admin_site_behind_console_sign_in

register_converter(IdConverter, "id")
handler500 = "livingroom.core.middleware.server_error"
admin_site_behind_console_sign_in(admin.site)

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("livingroom.web.urls")),
    path("", include("livingroom.people.urls")),
    path("", include("livingroom.places.urls")),
    path("", include("livingroom.booking.urls")),
    path("programs/propose/", include("livingroom.programs.propose_urls")),
    path("", include("livingroom.programs.urls")),
    path("", include("livingroom.notices.urls")),
    path("", include("livingroom.volunteering.urls")),
    path("", include("livingroom.voice.urls")),
    path("", include("livingroom.points.urls")),
    path("", include("livingroom.meals.urls")),
    path("console/bookings/", include("livingroom.booking.console_urls")),
    path("console/programs/", include("livingroom.programs.console_urls")),
    path("console/volunteering/", include("livingroom.volunteering.console_urls")),
    path("console/voice/", include("livingroom.voice.console_urls")),
    path("console/points/", include("livingroom.points.console_urls")),
    path("console/meals/", include("livingroom.meals.console_urls")),
]
