from django.urls import path

from livingroom.notices import views

app_name = "notices"

urlpatterns = [
    path("me/notices/", views.inbox, name="inbox"),
]
