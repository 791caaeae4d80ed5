from django.urls import path

from livingroom.places import views

app_name = "places"

urlpatterns = [
    path("centers/", views.center_list, name="centers"),
    path("centers/<id:center_id>/", views.center_detail, name="center"),
    path("me/center/", views.my_center, name="my-center"),
    path("console/centers/", views.console_centers, name="console-centers"),
    path("console/centers/<id:center_id>/", views.console_center, name="console-center"),
]
