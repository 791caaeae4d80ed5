"""Staff console pages of points, under /console/points/."""

from django.urls import path

from livingroom.points import console_views as views

app_name = "points_console"

urlpatterns = [
    path("", views.index, name="index"),
    path("rewards/", views.rewards, name="rewards"),
    path("rewards/<id:reward_id>/", views.reward, name="reward"),
    path("desk/", views.desk, name="desk"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("adjust/", views.adjust, name="adjust"),
]
