from django.contrib import admin
from django.urls import include, path

from livingroom.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("livingroom.web.urls")),
    path("", include("livingroom.people.urls")),
    path("", include("livingroom.places.urls")),
]
