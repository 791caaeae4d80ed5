"""Resident pages of courses, mounted at the site root."""

from django.urls import path

from livingroom.programs import views

app_name = "programs"

urlpatterns = [
    path("programs/", views.program_list, name="list"),
    path("programs/<id:program_id>/", views.program_detail, name="detail"),
    path("programs/<id:program_id>/enrol/", views.enrol, name="enrol"),
    path("me/programs/", views.my_programs, name="mine"),
    path("me/programs/<id:enrollment_id>/cancel/", views.cancel, name="cancel"),
    path("me/programs/<id:enrollment_id>/accept/", views.accept, name="accept"),
    path("me/programs/<id:enrollment_id>/rate/", views.rate, name="rate"),
    path("talents/", views.talents, name="talents"),
    path("me/talent/", views.my_talent, name="my-talent"),
    path("me/talent/withdraw/", views.talent_withdraw, name="talent-withdraw"),
]
