from django.urls import path

from livingroom.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("settings/elderly/", views.toggle_elderly, name="toggle-elderly"),
    path("console/", views.console_home, name="console"),
    path("console/audit/", views.console_audit, name="console-audit"),
]
