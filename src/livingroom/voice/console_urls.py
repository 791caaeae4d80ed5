"""Staff console pages of residents' voice, under /console/voice/."""

from django.urls import path

from livingroom.voice import console_views as views

app_name = "voice_console"

urlpatterns = [
    path("", views.index, name="index"),
    path("export/", views.export, name="export"),
    path("suggestions/new/", views.record, name="record"),
    path("suggestions/<id:suggestion_id>/", views.suggestion, name="suggestion"),
    path("extensions/", views.extensions, name="extensions"),
    path("surveys/", views.surveys, name="surveys"),
    path("surveys/new/", views.survey_new, name="survey-new"),
    path("surveys/<id:survey_id>/", views.survey, name="survey"),
    path("surveys/<id:survey_id>/edit/", views.survey_edit, name="survey-edit"),
    path("surveys/<id:survey_id>/export/", views.survey_export, name="survey-export"),
    path("surveys/<id:survey_id>/poster/", views.survey_poster, name="survey-poster"),
    path("engagements/", views.engagements, name="engagements"),
    path("engagements/new/", views.engagement_new, name="engagement-new"),
    path("engagements/<id:engagement_id>/", views.engagement, name="engagement"),
    path("rates/", views.rates, name="rates"),
    path("settings/", views.settings_page, name="settings"),
]
