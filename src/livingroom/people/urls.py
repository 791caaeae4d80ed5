from django.urls import path

from livingroom.people import views

app_name = "people"

urlpatterns = [
    path("login/", views.login_phone, name="login"),
    path("login/code/", views.login_code, name="login-code"),
    path("logout/", views.logout_view, name="logout"),
    path("me/profile/", views.profile, name="profile"),
    path("me/pass/", views.resident_pass, name="pass"),
    path("me/pass/qr/", views.resident_pass_qr, name="pass-qr"),
    path("me/family/", views.family, name="family"),
    path("me/data/", views.my_data_download, name="my-data"),
    path("me/erasure/", views.erasure, name="erasure"),
    path("me/family/<id:dependant_id>/remove/", views.family_remove, name="family-remove"),
    path("console/login/", views.console_login, name="console-login"),
    path("console/residents/", views.console_residents, name="console-residents"),
    path("console/residents/<id:resident_id>/", views.console_resident, name="console-resident"),
    path(
        "console/residents/<id:resident_id>/verifications/<id:verification_id>/photo.jpg",
        views.console_credential_photo,
        name="console-credential-photo",
    ),
    path("dev/sms/", views.dev_sms_outbox, name="dev-sms"),
]
