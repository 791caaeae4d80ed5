import re
import time

import pytest
from django.test import Client

from livingroom.people.auth import SESSION_LAST_SEEN
from livingroom.people.models import Resident
from livingroom.people.sms import latest_outbox_message
from tests.conftest import console_client
from tests.factories import HoursFactory, ResidentFactory, SpaceFactory, make_id_number


def sms_sign_in(client: Client, phone: str) -> None:
    response = client.post("/login/", {"phone": phone})
    assert response.status_code == 302 and response["Location"].startswith("/login/code/")
    code = re.search(r"\d{6}", latest_outbox_message(phone).body).group(0)
    response = client.post("/login/code/", {"code": code})
    assert response.status_code == 302


@pytest.mark.django_db
def test_anonymous_home_is_chinese_by_default(client, place):
    page = client.get("/")
    html = page.content.decode()
    assert page.status_code == 200 and '<html lang="zh-CN">' in html
    assert "西乡街道" in html  # the sub-district list
    assert "百姓客厅" in html


@pytest.mark.django_db
def test_language_switch_to_english(client, place):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html and "People's Living Room" in html


@pytest.mark.django_db
def test_elderly_mode_toggles_with_a_cookie(client, place):
    response = client.post("/settings/elderly/", {"next": "/centers/"})
    assert response.status_code == 302 and response["Location"] == "/centers/"
    assert 'class="resident elderly"' in client.get("/").content.decode()
    client.post("/settings/elderly/", {"next": "https://evil.example/"})
    assert 'class="resident"' in client.get("/").content.decode()


@pytest.mark.django_db
def test_resident_signs_in_completes_profile_and_sees_center_and_pass(client, place):
    center = place["centers"][0]
    HoursFactory(center=center, weekday=0)
    SpaceFactory(center=center, name="自习室")
    sms_sign_in(client, "13900004444")
    assert client.get("/").status_code == 200
    wrong = make_id_number()
    wrong = wrong[:-1] + ("1" if wrong[-1] != "1" else "2")
    page = client.post(
        "/me/profile/",
        {
            "real_name": "李晓梅",
            "id_number": wrong,
            "home_community": place["communities"][0].pk,
            "consent": "on",
        },
    )
    assert page.status_code == 200 and "id_number" in page.context["form"].errors
    assert not Resident.objects.exists()
    response = client.post(
        "/me/profile/",
        {
            "real_name": "李晓梅",
            "id_number": make_id_number(),
            "home_community": place["communities"][0].pk,
            "consent": "on",
        },
    )
    assert response.status_code == 302
    home = client.get("/").content.decode()
    assert "李**" in home and center.name in home
    my_center = client.get("/me/center/")
    assert my_center.status_code == 302 and my_center["Location"] == f"/centers/{center.pk}/"
    pass_page = client.get("/me/pass/").content.decode()
    assert "<svg" in pass_page and 'hx-trigger="every 30s' in pass_page
    assert "<svg" in client.get("/me/pass/qr/").content.decode()


@pytest.mark.django_db
def test_pass_page_asks_for_a_profile_first(client, place):
    sms_sign_in(client, "13900005555")
    response = client.get("/me/pass/")
    assert response.status_code == 302 and response["Location"] == "/me/profile/"


@pytest.mark.django_db
def test_sms_signed_in_user_is_not_staff_even_with_a_role(client, place, roles):
    worker = roles["community"]
    worker.set_phone("13900006666")
    worker.save()
    sms_sign_in(client, "13900006666")
    response = client.get("/console/")
    assert response.status_code == 302 and response["Location"].startswith("/console/login/")


@pytest.mark.django_db
def test_staff_are_signed_out_after_thirty_idle_minutes(place, roles):
    client = console_client(roles["community"])
    assert client.get("/console/").status_code == 200
    session = client.session
    session[SESSION_LAST_SEEN] = int(time.time()) - 31 * 60
    session.save()
    response = client.get("/console/")
    assert response.status_code == 302 and response["Location"].startswith("/console/login/")


@pytest.mark.django_db
def test_console_resident_reveal_is_audited(place, roles):
    resident = ResidentFactory(home_community=place["communities"][0])
    client = console_client(roles["community"])
    page = client.get(f"/console/residents/{resident.pk}/").content.decode()
    assert resident.id_number not in page and resident.masked_id_number in page
    page = client.post(
        f"/console/residents/{resident.pk}/", {"action": "reveal", "reason": "办理残疾人证核验"}
    )
    assert resident.id_number in page.content.decode()
    from livingroom.core.models import AuditEvent

    event = AuditEvent.objects.get(action="people.resident.pii_viewed")
    assert event.actor == roles["community"] and event.data["reason"] == "办理残疾人证核验"


@pytest.mark.django_db
def test_dev_outbox_only_in_debug(client, settings):
    settings.DEBUG = False
    assert client.get("/dev/sms/").status_code == 404
    settings.DEBUG = True
    assert client.get("/dev/sms/").status_code == 200
