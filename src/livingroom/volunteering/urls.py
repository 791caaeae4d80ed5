"""Resident and public pages of the volunteering app, mounted at the site root."""

from django.urls import path

from livingroom.volunteering import views

app_name = "volunteering"

urlpatterns = [
    path("volunteer/", views.activity_list, name="list"),
    path("volunteer/activities/<id:activity_id>/", views.activity_detail, name="detail"),
    path("volunteer/shifts/<id:shift_id>/signup/", views.signup, name="signup"),
    path("me/volunteering/", views.my_volunteering, name="mine"),
    path("me/volunteering/register/", views.register, name="register"),
    path("me/volunteering/signups/<id:signup_id>/cancel/", views.signup_cancel, name="cancel"),
    path("me/volunteering/corrections/", views.correction, name="correction"),
    path("me/volunteering/certificates/", views.certificate_issue, name="certificate-issue"),
    path("me/certificates/<id:certificate_id>.pdf", views.certificate_download, name="certificate-pdf"),
    path("certificates/verify/", views.verify, name="verify"),
    path("certificates/verify/<str:code>/", views.verify_code, name="verify-code"),
]
