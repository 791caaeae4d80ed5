"""Resident and public pages of residents' voice, mounted at the site root."""



app_name = "voice"

urlpatterns: list = []
