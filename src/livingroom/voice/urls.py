"""Resident and public pages of residents' voice, mounted at the site root."""

from django.urls import path

from livingroom.voice import views

app_name = "voice"

urlpatterns = [
    path("surveys/", views.survey_list, name="surveys"),
    path("surveys/<id:survey_id>/", views.survey, name="survey"),
    path("suggestions/new/", views.suggestion_new, name="suggestion-new"),
    path("me/suggestions/", views.my_suggestions, name="mine"),
    path("suggestions/<id:suggestion_id>/rate/", views.rate, name="rate"),
    path("suggestions/<id:suggestion_id>/reopen/", views.reopen, name="reopen"),
    path("suggestions/<str:tracking_no>/", views.suggestion_detail, name="suggestion"),
    path("board/", views.board, name="board"),
    path("centers/<id:center_id>/board/", views.center_board, name="center-board"),
    path("voice/photos/<id:photo_id>.jpg", views.photo, name="photo"),
]
