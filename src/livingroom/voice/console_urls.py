"""Staff console pages of residents' voice, under /console/voice/."""



app_name = "voice_console"

urlpatterns: list = []
