"""The residents' voice console, through Django's test client: every page renders for the district,
the sub-district, the community desk and a partner organisation; another community's request,
survey or forum is not found (404) and acting on it changes nothing; every form changes exactly
what it says, and a refusal re-renders the page with the message and writes nothing. Excel
exports open with openpyxl; the rates page shows the exact numbers of a small fixture.

Pages are read in English (the language cookie), so the checks do not depend on translations.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from livingroom.places.models import CalendarDay
from livingroom.places.workdays import WorkCalendar
from livingroom.voice import errors, services
from livingroom.voice.models import (
    DeadlineRule,
    Engagement,
    Extension,
    Photo,
    Question,
    Suggestion,
    Survey,
)
from livingroom.voice.services import SuggestionDraft
from tests import factories as f
from tests.conftest import console_client
from tests.voice.conftest import at, jpeg_bytes

pytestmark = pytest.mark.django_db

V = "/console/voice/"
TZ = timezone.get_default_timezone()

_clients: dict[int, Client] = {}


@pytest.fixture(autouse=True)
def _fresh_clients():
    _clients.clear()
    yield
    _clients.clear()


def console(user) -> Client:
    """One signed-in client per member of staff and test (a TOTP code is accepted once)."""
    if user.pk not in _clients:
        client = console_client(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        _clients[user.pk] = client
    return _clients[user.pk]


def text(response) -> str:
    """The page's visible text, whitespace collapsed (tags dropped)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def part(response, element_id: str, tag: str = "div") -> str:
    """The visible text of the element with this id (up to its first closing tag of that name)."""
    content = response.content.decode()
    match = re.search(rf'id="{re.escape(element_id)}"(.*?)</{tag}>', content, re.S)
    assert match, f"#{element_id} not on the page"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1).split(">", 1)[1])).split())


def flashes(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def sheet_rows(response) -> list[tuple]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    return list(book.active.iter_rows(values_only=True))


def local(y: int, m: int, d: int, h: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, minute, tzinfo=TZ)


# --- the world ----------------------------------------------------------------------------------


@pytest.fixture
def world(voice_world):
    """The voice world with names: 李晓梅 (residents[0]) and a staff-side cast."""
    first = voice_world["residents"][0]
    first.real_name = "李晓梅"
    first.save(update_fields=["real_name"])
    return voice_world


def submit(
    world,
    *,
    resident=None,
    center=None,
    kind="suggestion",
    category="facilities",
    text="希望增设药箱",
    now=None,
):
    who = resident or world["residents"][0]
    return services.suggestion_submit(
        user=who.user,
        draft=SuggestionDraft(
            center_id=(center or world["center"]).pk, kind=kind, category=category, text=text
        ),
        now=now,
    )


def engagement_of(world, *, center=None):
    return services.engagement_record(
        staff=world["desk"],
        scope=world["scope"],
        center_id=(center or world["center"]).pk,
        kind="forum",
        held_on=timezone.localdate(),
        place="固戍客厅一楼",
        participants=12,
        topics="骑手歇脚点",
        raised=[services.RaisedPoint(kind="suggestion", category="facilities", text="希望设一个骑手歇脚点")],
    )


# --- every page, every role ---------------------------------------------------------------------

LIST_PAGES = [
    "",
    "export/",
    "suggestions/new/",
    "extensions/",
    "surveys/",
    "surveys/new/",
    "engagements/",
    "engagements/new/",
    "rates/",
    "settings/",
]


@pytest.mark.parametrize("role", ["district", "street", "community", "partner"])
def test_every_page_renders_for_each_role(world, role):
    staff = world["partner"] if role == "partner" else world["roles"][role]
    s = submit(world)
    services.suggestion_assign(
        staff=world["desk"], scope=world["scope"], suggestion_id=s.pk, organization_id=world["org"].pk
    )
    survey = world["survey"]()
    forum = engagement_of(world)
    client = console(staff)
    for page in LIST_PAGES:
        response = client.get(V + page)
        assert response.status_code == 200, (page, response.status_code)
    # the request handed to the partner is seen by all four; so is the forum at its center
    for page in (f"suggestions/{s.pk}/", f"engagements/{forum.pk}/"):
        assert client.get(V + page).status_code == 200, page
    # a community survey: its community, sub-district and the district; not a partner
    expected = 404 if role == "partner" else 200
    for page in (f"surveys/{survey.pk}/", f"surveys/{survey.pk}/export/", f"surveys/{survey.pk}/poster/"):
        assert client.get(V + page).status_code == expected, page
    queue = text(client.get(V))
    assert s.tracking_no in queue


def test_signed_out_visitors_are_sent_to_the_login(world):
    for page in ["", "surveys/", "rates/", "settings/"]:
        response = Client().get(V + page)
        assert response.status_code == 302
        assert response["Location"].startswith("/console/login/")


def test_another_communitys_objects_are_not_found_and_stay_as_they_were(world):
    s = submit(world)
    survey = world["survey"](publish=False)
    forum = engagement_of(world)
    services.extension_request(
        staff=world["desk"], scope=world["scope"], suggestion_id=s.pk, days=3, reason="需要协调"
    )
    extension = Extension.objects.get()
    for outsider in (world["roles"]["other_community"], world["roles"]["center"]):
        client = console(outsider)
        for page in (
            f"suggestions/{s.pk}/",
            f"surveys/{survey.pk}/",
            f"surveys/{survey.pk}/edit/",
            f"surveys/{survey.pk}/export/",
            f"surveys/{survey.pk}/poster/",
            f"engagements/{forum.pk}/",
        ):
            assert client.get(V + page).status_code == 404, page
        for data in (
            {"action": "respond", "respond-message": "已收到"},
            {"action": "resolve", "resolve-reply": "已处理"},
            {"action": "assign", "assign-organization": ""},
            {"action": "unpublish"},
        ):
            assert client.post(f"{V}suggestions/{s.pk}/", data).status_code == 404
        assert client.post(f"{V}surveys/{survey.pk}/", {"action": "publish"}).status_code == 404
        assert (
            client.post(f"{V}extensions/", {"action": "approve", "extension": extension.pk}).status_code
            == 404
        )
        assert s.tracking_no not in text(client.get(V + "?status=all"))
    s.refresh_from_db()
    extension.refresh_from_db()
    survey.refresh_from_db()
    assert (s.status, s.first_response_at, s.owner_organization_id) == ("received", None, None)
    assert list(s.events.values_list("kind", flat=True)) == ["received", "extension_requested"]
    assert extension.status == "pending"
    assert survey.status == "draft"


# --- the request queue and its export -----------------------------------------------------------


@pytest.fixture
def queue(world):
    """At 固戍's center: a new request, one in progress, one resolved (waiting for a rating), one
    overdue (received 30 days ago, flagged by the clock) with an extension waiting; at 宝民's
    center (another sub-district) one more, which 固戍's staff never see."""
    new = submit(world, kind="consultation", category="services", text="请问自习室几点开门")
    working = submit(world, kind="help", text="楼道灯坏了请帮忙")
    services.suggestion_respond(
        staff=world["desk"], scope=world["scope"], suggestion_id=working.pk, message="已派人查看"
    )
    done = submit(world, kind="report", text="门口台阶破损")
    services.suggestion_resolve(
        staff=world["desk"], scope=world["scope"], suggestion_id=done.pk, reply="已修好"
    )
    late = submit(world, kind="complaint", category="staff", text="工作人员态度不好", now=at(-30))
    services.voice_tick()
    services.extension_request(
        staff=world["desk"], scope=world["scope"], suggestion_id=late.pk, days=2, reason="需要调查"
    )
    elsewhere = submit(world, resident=world["far"], center=world["other_center"], text="宝民的请求内容")
    return {"new": new, "working": working, "done": done, "late": late, "elsewhere": elsewhere}


def tracking_numbers(response) -> list[str]:
    return re.findall(
        r'<td class="mono nowrap"><a href="/console/voice/suggestions/\d+/">(JY\w+)</a>',
        response.content.decode(),
    )


def test_queue_counts_and_filters(world, queue):
    client = console(world["desk"])
    response = client.get(V)
    assert response.status_code == 200
    assert part(response, "k-open", "dd") == "3"
    assert part(response, "k-overdue", "dd") == "1"
    assert part(response, "k-rating", "dd") == "1"
    assert part(response, "k-extensions", "dd") == "1"
    # the default list: open requests, newest first; the other sub-district's never
    assert tracking_numbers(response) == [
        queue["working"].tracking_no,
        queue["new"].tracking_no,
        queue["late"].tracking_no,
    ]
    assert queue["elsewhere"].tracking_no not in response.content.decode()
    assert sorted(tracking_numbers(client.get(V + "?status=all"))) == sorted(
        q.tracking_no for k, q in queue.items() if k != "elsewhere"
    )
    assert tracking_numbers(client.get(V + "?status=resolved")) == [queue["done"].tracking_no]
    assert tracking_numbers(client.get(V + "?status=open&overdue=on")) == [queue["late"].tracking_no]
    assert tracking_numbers(client.get(V + "?status=all&kind=help")) == [queue["working"].tracking_no]
    assert tracking_numbers(client.get(V + f"?status=all&q={queue['done'].tracking_no[-5:]}")) == [
        queue["done"].tracking_no
    ]
    assert tracking_numbers(client.get(V + "?status=all&q=台阶")) == [queue["done"].tracking_no]
    # the overdue request's resolve-by is red
    row = re.search(rf'id="request-{queue["late"].pk}".*?</tr>', response.content.decode(), re.S).group(0)
    assert row.count("vo-late") == 2  # respond-by and resolve-by both passed
    fresh = re.search(rf'id="request-{queue["new"].pk}".*?</tr>', response.content.decode(), re.S).group(0)
    assert "vo-late" not in fresh


def test_queue_refuses_a_center_outside_the_scope(world, queue):
    response = console(world["desk"]).get(V + f"?center={world['other_center'].pk}")
    assert response.status_code == 400
    assert "Select a valid choice" in text(response)
    assert queue["elsewhere"].tracking_no not in response.content.decode()


def test_the_district_sees_every_center_and_filters_by_one(world, queue):
    client = console(world["roles"]["district"])
    assert part(client.get(V), "k-open", "dd") == "4"
    only = tracking_numbers(client.get(V + f"?status=all&center={world['other_center'].pk}"))
    assert only == [queue["elsewhere"].tracking_no]


def test_queue_export_holds_the_filtered_rows_with_masked_names(world, queue):
    client = console(world["desk"])
    rows = sheet_rows(client.get(V + "export/?status=all"))
    header, body = rows[0], rows[1:]
    assert header[:8] == (
        "Tracking number",
        "Type",
        "Category",
        "Center",
        "Owner",
        "Channel",
        "Status",
        "Resident",
    )
    assert sorted(r[0] for r in body) == sorted(q.tracking_no for k, q in queue.items() if k != "elsewhere")
    by_no = {r[0]: r for r in body}
    late = by_no[queue["late"].tracking_no]
    assert late[1:8] == (
        "Complaint",
        "Staff",
        world["center"].name,
        world["center"].name,
        "Online",
        "Received",
        "李**",
    )
    assert late[13] == "yes"
    assert "李晓梅" not in str(rows)
    assert [r[0] for r in sheet_rows(client.get(V + "export/?status=resolved"))[1:]] == [
        queue["done"].tracking_no
    ]
    assert client.get(V + f"export/?center={world['other_center'].pk}").status_code == 400


# --- recording a request ------------------------------------------------------------------------


def test_staff_record_a_phone_request_for_a_registered_resident(world):
    resident = world["residents"][1]
    client = console(world["desk"])
    response = client.post(
        V + "suggestions/new/",
        {
            "center": world["center"].pk,
            "channel": "phone",
            "kind": "help",
            "category": "services",
            "text": "  老人来电：希望有人上门\n帮忙换灯泡  ",
            "phone": resident.user.phone,
            "photos": [SimpleUploadedFile("a.png", jpeg_bytes(fmt="PNG"), content_type="image/png")],
        },
    )
    created = Suggestion.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{V}suggestions/{created.pk}/"
    assert (created.channel, created.kind, created.category, created.status) == (
        "phone",
        "help",
        "services",
        "received",
    )
    assert created.text == "老人来电：希望有人上门\n帮忙换灯泡"
    assert created.resident_id == resident.pk
    assert created.recorded_by_id == world["desk"].pk
    assert list(created.photos.values_list("kind", flat=True)) == ["report"]
    page = client.get(response["Location"])
    assert f"Request {created.tracking_no} is recorded" in " ".join(flashes(page))
    assert part(page, "owner", "strong") == world["center"].name


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"text": "太短"}, "Please describe your request in 5 to 2000 characters."),
        ({"phone": "13912345678"}, "No registered resident of your communities has this number."),
        ({"kind": ""}, "This field is required."),
        ({"center": "999999"}, "Select a valid choice."),
        ({"channel": "online"}, "Select a valid choice."),
        (
            {"photos": [SimpleUploadedFile("a.jpg", b"not an image at all", content_type="image/jpeg")]},
            "Photos must be JPEG, PNG or WebP images.",
        ),
    ],
)
def test_recording_bad_input_shows_the_error_and_writes_nothing(world, change, message):
    data = {
        "center": world["center"].pk,
        "channel": "desk",
        "kind": "help",
        "category": "services",
        "text": "希望增加晚间开放时间",
        **change,
    }
    response = console(world["desk"]).post(V + "suggestions/new/", data)
    assert response.status_code == 400
    assert message in text(response)
    assert Suggestion.objects.count() == 0
    assert Photo.objects.count() == 0


def test_the_desk_cannot_record_for_a_center_of_another_community(world):
    response = console(world["desk"]).post(
        V + "suggestions/new/",
        {
            "center": world["other_center"].pk,
            "channel": "desk",
            "kind": "help",
            "category": "services",
            "text": "其他社区的请求",
        },
    )
    assert response.status_code == 400
    assert Suggestion.objects.count() == 0


# --- a request: every action through the page ---------------------------------------------------


def act(world, s, data, *, user=None, files=None):
    client = console(user or world["desk"])
    payload = dict(data)
    if files:
        payload.update(files)
    return client.post(f"{V}suggestions/{s.pk}/", payload)


def test_detail_shows_the_request_masked_with_its_timeline(world):
    s = submit(world, text="希望在二楼增设一个药箱", now=at(-1, 10))
    services.suggestion_assign(
        staff=world["desk"],
        scope=world["scope"],
        suggestion_id=s.pk,
        organization_id=world["org"].pk,
        note="物业负责",
    )
    photo = services.photo_add(
        staff=world["desk"], scope=world["scope"], suggestion_id=s.pk, kind="before", data=jpeg_bytes()
    )
    response = console(world["desk"]).get(f"{V}suggestions/{s.pk}/")
    page = text(response)
    assert response.status_code == 200
    assert "希望在二楼增设一个药箱" in page
    assert "李**" in page and "李晓梅" not in page
    timeline = part(response, "timeline", "ol")
    assert timeline.startswith("Received")
    assert "Handed over" in timeline
    assert f"{world['center'].name} → to {world['org'].name}" in timeline
    assert "物业负责" in timeline
    assert f'src="/voice/photos/{photo.pk}.jpg"' in response.content.decode()
    assert part(response, "owner", "strong") == world["org"].name


def test_assign_hands_over_and_back(world):
    s = submit(world)
    response = act(
        world, s, {"action": "assign", "assign-organization": world["org"].pk, "assign-note": "交物业"}
    )
    assert response.status_code == 302
    s.refresh_from_db()
    assert (s.status, s.owner_organization_id) == ("assigned", world["org"].pk)
    event = s.events.get(kind="assigned")
    assert (event.from_owner, event.to_owner, event.note, event.actor_id) == (
        world["center"].name,
        world["org"].name,
        "交物业",
        world["desk"].pk,
    )
    assert flashes(console(world["desk"]).get(response["Location"])) == [
        f"Handed over to {world['org'].name}."
    ]
    act(world, s, {"action": "assign", "assign-organization": ""})
    s.refresh_from_db()
    assert s.owner_organization_id is None
    back = s.events.filter(kind="assigned").last()
    assert (back.from_owner, back.to_owner) == (world["org"].name, world["center"].name)


def test_assign_to_an_organisation_not_at_the_center_is_refused(world):
    s = submit(world)
    stranger = f.OrganizationFactory(name="别处的机构")
    response = act(world, s, {"action": "assign", "assign-organization": stranger.pk})
    assert response.status_code == 400
    assert "Select a valid choice" in text(response)
    s.refresh_from_db()
    assert (s.status, s.owner_organization_id) == ("received", None)
    assert not s.events.filter(kind="assigned").exists()


def test_respond_sends_the_message_and_starts_work(world):
    s = submit(world)
    response = act(world, s, {"action": "respond", "respond-message": "您好，已收到，本周内处理。"})
    assert response.status_code == 302
    s.refresh_from_db()
    assert s.status == "in_progress"
    assert s.first_response_at is not None
    event = s.events.get(kind="responded")
    assert (event.note, event.public) == ("您好，已收到，本周内处理。", True)
    empty = act(world, s, {"action": "respond", "respond-message": "   "})
    assert empty.status_code == 400
    assert "This field is required." in text(empty)
    assert s.events.filter(kind="responded").count() == 1


def test_extension_is_requested_once(world):
    s = submit(world)
    response = act(
        world, s, {"action": "extension", "extension-days": "3", "extension-reason": "需要街道协调"}
    )
    assert response.status_code == 302
    extension = Extension.objects.get()
    assert (extension.suggestion_id, extension.days, extension.reason, extension.status) == (
        s.pk,
        3,
        "需要街道协调",
        "pending",
    )
    page = console(world["desk"]).get(f"{V}suggestions/{s.pk}/")
    assert "An extension of 3 working days is waiting" in text(page)
    again = act(world, s, {"action": "extension", "extension-days": "5", "extension-reason": "再延"})
    assert again.status_code == 409
    assert "An extension is already waiting for a decision." in text(again)
    bad = act(world, s, {"action": "extension", "extension-days": "0", "extension-reason": "x"})
    assert bad.status_code == 400
    assert Extension.objects.count() == 1


def test_extension_out_of_range_writes_nothing(world):
    s = submit(world)
    response = act(world, s, {"action": "extension", "extension-days": "31", "extension-reason": "太久"})
    assert response.status_code == 400
    assert "Ensure this value is less than or equal to 30." in text(response)
    assert Extension.objects.count() == 0
    assert not s.events.filter(kind="extension_requested").exists()


def test_resolve_with_reply_and_what_was_done(world):
    s = submit(world)
    response = act(
        world,
        s,
        {"action": "resolve", "resolve-reply": "药箱已配置在二楼服务台", "resolve-done_note": "二楼配置药箱"},
    )
    assert response.status_code == 302
    s.refresh_from_db()
    assert (s.status, s.reply, s.done_note) == ("resolved", "药箱已配置在二楼服务台", "二楼配置药箱")
    assert s.resolved_at is not None and s.first_response_at == s.resolved_at
    page = console(world["desk"]).get(f"{V}suggestions/{s.pk}/")
    assert "respond" not in re.findall(r'name="action" value="(\w+)"', page.content.decode())
    # the request is no longer open: a late second attempt is refused at the top of the page
    again = act(world, s, {"action": "respond", "respond-message": "再说一句"})
    assert again.status_code == 409
    assert "This request is Resolved; that step is not possible now." in text(again)
    assert not s.events.filter(kind="responded").exists()


def test_resolve_without_reply_is_refused(world):
    s = submit(world)
    response = act(world, s, {"action": "resolve", "resolve-reply": ""})
    assert response.status_code == 400
    s.refresh_from_db()
    assert (s.status, s.resolved_at) == ("received", None)


def test_publish_on_the_board_and_take_it_off(world):
    s = submit(world)
    short = act(world, s, {"action": "publish", "publish-summary": "药箱"})
    assert short.status_code == 400
    assert "Write a public summary (5 to 300 characters) without personal details." in text(short)
    s.refresh_from_db()
    assert (s.is_public, s.public_summary) == (False, "")
    response = act(
        world,
        s,
        {
            "action": "publish",
            "publish-summary": "居民建议二楼增设药箱，电话13812345678",
            "publish-done_note": "已配置药箱",
        },
    )
    assert response.status_code == 302
    s.refresh_from_db()
    assert s.is_public is True
    assert s.public_summary == "居民建议二楼增设药箱，电话138****5678"
    assert s.done_note == "已配置药箱"
    assert s.events.filter(kind="published").count() == 1
    off = act(world, s, {"action": "unpublish"})
    assert off.status_code == 302
    s.refresh_from_db()
    assert s.is_public is False
    assert flashes(console(world["desk"]).get(off["Location"])) == [
        "The request is on the public board.",
        "The request is taken off the public board.",
    ]


def test_before_and_after_photos(world):
    s = submit(world)
    response = act(
        world,
        s,
        {"action": "photo", "photo-kind": "after"},
        files={
            "photo-photo": SimpleUploadedFile(
                "after.jpg", jpeg_bytes(color="blue"), content_type="image/jpeg"
            )
        },
    )
    assert response.status_code == 302
    photo = Photo.objects.get()
    assert (photo.suggestion_id, photo.kind, photo.uploaded_by_id) == (s.pk, "after", world["desk"].pk)
    assert bytes(photo.content)[:2] == b"\xff\xd8"
    bad = act(
        world,
        s,
        {"action": "photo", "photo-kind": "before"},
        files={"photo-photo": SimpleUploadedFile("x.jpg", b"GIF89a not really", content_type="image/jpeg")},
    )
    assert bad.status_code == 400
    assert "Photos must be JPEG, PNG or WebP images." in text(bad)
    missing = act(world, s, {"action": "photo", "photo-kind": "before"})
    assert missing.status_code == 400
    assert Photo.objects.count() == 1


def test_an_unknown_action_is_refused(world):
    s = submit(world)
    response = act(world, s, {"action": "delete"})
    assert response.status_code == 400
    assert "Unknown action." in text(response)
    assert list(s.events.values_list("kind", flat=True)) == ["received"]


def test_the_partner_acts_on_what_was_handed_to_it(world):
    s = submit(world)
    services.suggestion_assign(
        staff=world["desk"], scope=world["scope"], suggestion_id=s.pk, organization_id=world["org"].pk
    )
    response = act(world, s, {"action": "resolve", "resolve-reply": "物业已处理"}, user=world["partner"])
    assert response.status_code == 302
    s.refresh_from_db()
    assert (s.status, s.reply) == ("resolved", "物业已处理")
    # handed back to the center, the partner no longer sees it
    other = submit(world, text="另一件事情需要处理")
    assert console(world["partner"]).get(f"{V}suggestions/{other.pk}/").status_code == 404


# --- extensions ---------------------------------------------------------------------------------


@pytest.fixture
def waiting(world):
    s = submit(world)
    services.extension_request(
        staff=world["desk"], scope=world["scope"], suggestion_id=s.pk, days=3, reason="需要协调"
    )
    s.refresh_from_db()
    return s, Extension.objects.get()


def test_the_desk_sees_extensions_read_only_and_cannot_decide(world, waiting):
    s, extension = waiting
    client = console(world["desk"])
    page = client.get(V + "extensions/")
    assert "Read only: extensions are decided by sub-district or district officials." in text(page)
    assert 'value="approve"' not in page.content.decode()
    assert s.tracking_no in text(page)
    response = client.post(V + "extensions/", {"action": "approve", "extension": extension.pk})
    assert response.status_code == 403
    assert "Extensions are decided by sub-district or district officials." in text(response)
    extension.refresh_from_db()
    assert extension.status == "pending"
    assert Suggestion.objects.get().resolve_by == s.resolve_by


def test_the_sub_district_approves_and_the_deadline_moves(world, waiting):
    s, extension = waiting
    client = console(world["roles"]["street"])
    assert 'value="approve"' in client.get(V + "extensions/").content.decode()
    response = client.post(
        V + "extensions/", {"action": "approve", "extension": extension.pk, "note": "同意"}
    )
    assert response.status_code == 302
    extension.refresh_from_db()
    assert (extension.status, extension.decided_by_id, extension.decision_note) == (
        "approved",
        world["roles"]["street"].pk,
        "同意",
    )
    moved = Suggestion.objects.get()
    assert moved.resolve_by == WorkCalendar().deadline(s.resolve_by, 3)
    assert moved.events.filter(kind="extension_approved").count() == 1
    page = client.get(response["Location"])
    assert flashes(page) == [
        f"Approved: {s.tracking_no} is now due {timezone.localtime(moved.resolve_by):%Y-%m-%d %H:%M}."
    ]
    assert "No extension is waiting." in text(page)


def test_the_district_refuses_and_the_deadline_stays(world, waiting):
    s, extension = waiting
    response = console(world["roles"]["district"]).post(
        V + "extensions/", {"action": "refuse", "extension": extension.pk}
    )
    assert response.status_code == 302
    extension.refresh_from_db()
    assert extension.status == "refused"
    assert Suggestion.objects.get().resolve_by == s.resolve_by


def test_a_second_decision_is_refused_and_the_first_stands(world, waiting):
    s, extension = waiting
    client = console(world["roles"]["district"])
    client.post(V + "extensions/", {"action": "refuse", "extension": extension.pk})
    again = client.post(V + "extensions/", {"action": "approve", "extension": extension.pk})
    assert again.status_code == 409
    assert errors.ExtensionDecided().message in text(again)
    extension.refresh_from_db()
    assert extension.status == "refused"
    assert Suggestion.objects.get().resolve_by == s.resolve_by
    assert client.post(V + "extensions/", {"action": "approve", "extension": "abc"}).status_code == 404


# --- surveys ------------------------------------------------------------------------------------


def builder_data(world, **overrides):
    data = {
        "action": "save",
        "title": "夜间开放时间调查",
        "description": "自习室准备延长开放。",
        "area": "community",
        "community": world["place"]["communities"][0].pk,
        "audience": "everyone",
        "closes_at": "",
        "rows": "4",
        "q0_kind": "single",
        "q0_text": "您最方便的时间？",
        "q0_required": "on",
        "q0_choices": "工作日晚上\n周末\n\n都可以",
        "q1_kind": "rating",
        "q1_text": "您对现在的开放时间满意吗？",
        "q1_scale": "5",
        "q2_kind": "",
        "q2_text": "",
        "q3_kind": "short_text",
        "q3_text": "周末几点来？",
        "q3_show_if": "1",
        "q3_show_choice": "周末",
    }
    data.update(overrides)
    return data


def test_build_a_survey_with_skip_logic(world):
    response = console(world["desk"]).post(V + "surveys/new/", builder_data(world))
    survey = Survey.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{V}surveys/{survey.pk}/"
    assert (survey.title, survey.status, survey.area, survey.community_id, survey.anonymous) == (
        "夜间开放时间调查",
        "draft",
        "community",
        world["place"]["communities"][0].pk,
        False,
    )
    questions = list(survey.questions.order_by("position"))
    assert [(q.position, q.kind, q.text, q.required) for q in questions] == [
        (1, "single", "您最方便的时间？", True),
        (2, "rating", "您对现在的开放时间满意吗？", False),
        (3, "short_text", "周末几点来？", False),
    ]
    assert questions[0].choices == [
        {"key": "a", "label": "工作日晚上"},
        {"key": "b", "label": "周末"},
        {"key": "c", "label": "都可以"},
    ]
    assert (questions[2].show_if_position, questions[2].show_if_choice) == (1, "b")


def test_the_condition_may_name_the_choice_by_number(world):
    console(world["desk"]).post(V + "surveys/new/", builder_data(world, q3_show_choice="3"))
    assert Survey.objects.get().questions.get(position=3).show_if_choice == "c"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"q0_choices": "只有一个"}, "Give at least two choices, one per line."),
        ({"title": ""}, "This field is required."),
        ({"q3_show_if": "4"}, "Name an earlier choice question by its number."),
        ({"q3_show_if": "2"}, "Name an earlier choice question by its number."),
        ({"q3_show_choice": "深夜"}, "Write one of the choices of question 1, or its number."),
        ({"q0_kind": ""}, "Choose the kind of question."),
        ({"area": "district"}, "Select a valid choice."),
        ({"community": str(0)}, "Select a valid choice."),
        ({"closes_at": "2020-01-01T10:00"}, "The survey cannot be saved: the closing time has passed"),
        (
            {
                "q0_text": "",
                "q0_choices": "",
                "q1_text": "",
                "q3_text": "",
                "q3_show_if": "",
                "q3_show_choice": "",
            },
            "Add at least one question.",
        ),
    ],
)
def test_builder_bad_input_shows_the_error_and_writes_nothing(world, change, message):
    response = console(world["desk"]).post(V + "surveys/new/", builder_data(world, **change))
    assert response.status_code == 400
    assert message in text(response)
    assert Survey.objects.count() == 0
    assert Question.objects.count() == 0


def test_add_and_remove_questions_keep_what_was_typed(world):
    client = console(world["desk"])
    added = client.post(V + "surveys/new/", builder_data(world, action="add"))
    assert added.status_code == 200
    assert len(re.findall(r'id="question-\d+"', added.content.decode())) == 5
    assert 'value="夜间开放时间调查"' in added.content.decode()
    assert "工作日晚上\n周末" in added.content.decode()
    removed = client.post(V + "surveys/new/", builder_data(world, action="remove:2"))
    content = removed.content.decode()
    assert len(re.findall(r'id="question-\d+"', content)) == 3
    assert "您对现在的开放时间满意吗？" not in content
    assert re.search(r'name="q2_text"[^>]*value="周末几点来？"', content)
    assert 'name="rows" value="3"' in content
    assert Survey.objects.count() == 0


def test_edit_a_draft_but_not_a_published_survey(world):
    survey = world["survey"](publish=False)
    client = console(world["desk"])
    page = client.get(f"{V}surveys/{survey.pk}/edit/")
    assert page.status_code == 200
    assert 'value="百姓客厅需求调查"' in page.content.decode()
    assert re.search(r'name="q3_show_choice"[^>]*value="每周"', page.content.decode())
    response = client.post(f"{V}surveys/{survey.pk}/edit/", builder_data(world, title="改过的标题"))
    assert response.status_code == 302
    survey.refresh_from_db()
    assert survey.title == "改过的标题"
    assert survey.questions.count() == 3
    services.survey_publish(staff=world["desk"], scope=world["scope"], survey_id=survey.pk)
    blocked = client.post(f"{V}surveys/{survey.pk}/edit/", builder_data(world, title="再改"))
    assert blocked.status_code == 302 and blocked["Location"] == f"{V}surveys/{survey.pk}/"
    survey.refresh_from_db()
    assert survey.title == "改过的标题"


def test_publish_and_close(world):
    survey = world["survey"](publish=False)
    client = console(world["desk"])
    closing_a_draft = client.post(f"{V}surveys/{survey.pk}/", {"action": "close"})
    assert closing_a_draft.status_code == 409
    assert "This survey is not open for answers." in text(closing_a_draft)
    survey.refresh_from_db()
    assert survey.status == "draft"
    assert client.post(f"{V}surveys/{survey.pk}/", {"action": "publish"}).status_code == 302
    survey.refresh_from_db()
    assert (survey.status, survey.published_at is not None) == ("published", True)
    page = client.get(f"{V}surveys/{survey.pk}/")
    assert part(page, "public-link", "a") == f"http://testserver/surveys/{survey.pk}/"
    assert "<svg" in page.content.decode()
    assert client.post(f"{V}surveys/{survey.pk}/", {"action": "close"}).status_code == 302
    survey.refresh_from_db()
    assert survey.status == "closed"


def answer(world, survey, resident, values):
    by_position = {q.position: q for q in survey.questions.all()}
    return services.response_submit(
        survey_id=survey.pk, user=resident.user, answers={by_position[k].pk: v for k, v in values.items()}
    )


def test_results_counts_percentages_average_texts_and_export(world):
    survey = world["survey"]()
    r0, r1, r2 = world["residents"]
    answer(world, survey, r0, {1: "a", 2: ["a", "c"], 3: 5, 5: "希望多开放"})
    answer(world, survey, r1, {1: "b", 2: ["a"], 3: 4, 4: "自习"})
    answer(world, survey, r2, {1: "b", 3: 2})
    client = console(world["desk"])
    page = client.get(f"{V}surveys/{survey.pk}/")
    assert part(page, "responses", "dd") == "3"
    first = part(page, "result-q1", "table")
    assert "每天 1 33.3%" in first and "每周 2 66.7%" in first and "很少 0 0.0%" in first
    second = part(page, "result-q2", "table")
    assert "自习室 2 100.0%" in second and "助餐 1 50.0%" in second and "舞蹈室 0 0.0%" in second
    assert part(page, "avg-q3", "span") == "3.67"
    assert "希望多开放" in part(page, "result-q5", "section")
    charts = {
        m.group(1): json.loads(html.unescape(m.group(2)))
        for m in re.finditer(
            r'<script id="(chart-q\d+)" type="application/json">(.*?)</script>', page.content.decode()
        )
    }
    q1 = survey.questions.get(position=1)
    assert charts[f"chart-q{q1.pk}"] == {
        "type": "pie",
        "title": "您多久来一次客厅？",
        "labels": ["每天", "每周", "很少"],
        "values": [1, 2, 0],
    }
    assert len(charts) == 3  # the two text questions have no chart
    rows = sheet_rows(client.get(f"{V}surveys/{survey.pk}/export/"))
    assert rows[0][:3] == ("#", "Given on", "1. 您多久来一次客厅？")
    assert len(rows) == 4
    assert sorted(r[2] for r in rows[1:]) == sorted(["每天", "每周", "每周"])
    assert sorted(r[3] or "" for r in rows[1:]) == sorted(["", "自习室", "自习室; 助餐"])


def test_results_without_answers_draw_no_chart(world):
    survey = world["survey"]()
    page = console(world["desk"]).get(f"{V}surveys/{survey.pk}/")
    assert "data-vc-chart" not in page.content.decode()
    assert text(page).count("No answer yet.") == 5


def test_the_poster_holds_the_qr_title_and_link(world):
    survey = world["survey"]()
    page = console(world["desk"]).get(f"{V}surveys/{survey.pk}/poster/")
    content = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in content and "百姓客厅需求调查" in content
    assert f"http://testserver/surveys/{survey.pk}/" in content
    assert "@page { size: A4" in content


def test_a_partner_cannot_make_surveys(world):
    client = console(world["partner"])
    assert "Your role looks at them only." in text(client.get(V + "surveys/new/"))
    response = client.post(V + "surveys/new/", builder_data(world))
    assert Survey.objects.count() == 0
    assert response.status_code == 200


def test_the_district_makes_a_district_wide_survey(world):
    data = builder_data(world, area="district", community="")
    response = console(world["roles"]["district"]).post(V + "surveys/new/", data)
    assert response.status_code == 302
    survey = Survey.objects.get()
    assert (survey.area, survey.community_id, survey.street_id) == ("district", None, None)


def test_the_sub_district_makes_a_street_survey(world):
    street = world["place"]["streets"][0]
    data = builder_data(world, area="street", community="", street=street.pk)
    assert console(world["roles"]["street"]).post(V + "surveys/new/", data).status_code == 302
    assert (Survey.objects.get().area, Survey.objects.get().street_id) == ("street", street.pk)


# --- forums and visits --------------------------------------------------------------------------


def forum_data(world, **overrides):
    data = {
        "center": world["center"].pk,
        "kind": "forum",
        "held_on": (timezone.localdate() - dt.timedelta(days=2)).isoformat(),
        "place": "固戍客厅一楼",
        "participants": "18",
        "topics": "新就业群体座谈会",
        "notes": "骑手们提了两件事。",
        "p0_kind": "suggestion",
        "p0_category": "facilities",
        "p0_text": "希望设一个骑手歇脚点",
        "p2_kind": "help",
        "p2_category": "services",
        "p2_text": "希望配一个药箱",
        "p3_kind": "complaint",  # a type without text: a blank row
    }
    data.update(overrides)
    return data


def test_a_forum_turns_raised_points_into_tracked_requests(world):
    client = console(world["desk"])
    response = client.post(V + "engagements/new/", forum_data(world))
    forum = Engagement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{V}engagements/{forum.pk}/"
    assert (forum.kind, forum.participants, forum.place, forum.recorded_by_id) == (
        "forum",
        18,
        "固戍客厅一楼",
        world["desk"].pk,
    )
    raised = list(Suggestion.objects.order_by("id"))
    assert [(s.kind, s.category, s.text, s.channel, s.engagement_id, s.center_id) for s in raised] == [
        ("suggestion", "facilities", "希望设一个骑手歇脚点", "forum", forum.pk, world["center"].pk),
        ("help", "services", "希望配一个药箱", "forum", forum.pk, world["center"].pk),
    ]
    page = client.get(response["Location"])
    assert flashes(page) == ["Recorded, with 2 tracked requests from what residents raised."]
    for s in raised:
        assert f'href="{V}suggestions/{s.pk}/"' in page.content.decode()
    listing = client.get(V + "engagements/")
    assert part(listing, f"engagement-{forum.pk}", "tr").endswith("2")
    detail = client.get(f"{V}suggestions/{raised[0].pk}/")
    assert f'href="{V}engagements/{forum.pk}/"' in detail.content.decode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"p2_kind": ""}, "Choose one."),
        ({"p0_text": "太短"}, "Write at least 5 characters."),
        ({"participants": "0"}, "Ensure this value is greater than or equal to 1."),
        (
            {"held_on": (timezone.localdate() + dt.timedelta(days=3)).isoformat()},
            "the date must be within the past year",
        ),
        ({"center": "999999"}, "Select a valid choice."),
        ({"topics": ""}, "This field is required."),
    ],
)
def test_forum_bad_input_writes_nothing(world, change, message):
    response = console(world["desk"]).post(V + "engagements/new/", forum_data(world, **change))
    assert response.status_code == 400
    assert message in text(response)
    assert Engagement.objects.count() == 0
    assert Suggestion.objects.count() == 0


# --- the rates ----------------------------------------------------------------------------------


@pytest.fixture
def rated(world):
    """March 2026 (no holidays entered: Monday to Friday work). At 固戍 (center A) and 龙珠 (center B,
    the same sub-district):

    =====  =====================  ========================  ==========================  =================
    no     received               first response            resolved                    then
    =====  =====================  ========================  ==========================  =================
    s1 A   Mon 03-02 09:00 cons.  Tue 03-03 10:00 (on time) Wed 03-04 (on time)         rated 5, closed
    s2 A   Mon 03-02 10:00 cons.  Wed 03-04 10:00 (late)    Mon 03-09 (late)            rated 1, follow-up
    s3 A   Tue 03-03 09:00 cons.  —                         —                           open
    s4 A   Tue 03-03 09:00 sugg.  Thu 03-05 10:00 (on time) Thu 03-05 (with the reply)  reopened 03-06
    s5 B   Wed 03-04 09:00 cons.  Wed 03-04 15:00 (on time) Thu 03-05 (on time)         rated 4, closed
    s6 A   Fri 02-27 (before the period)
    s7     at 宝民 (another sub-district), in the period
    =====  =====================  ========================  ==========================  =================

    A consultation: respond within 1 working day, resolve within 3; a suggestion: 2 and 15.
    """
    desk, scope = world["desk"], world["scope"]
    district = world["roles"]["district"]
    from livingroom.people.scopes import staff_scope

    wide = staff_scope(district)
    center_b = world["place"]["centers"][1]
    r0, r1, r2 = world["residents"]
    s1 = submit(world, resident=r0, kind="consultation", now=local(2026, 3, 2, 9))
    services.suggestion_respond(
        staff=desk, scope=scope, suggestion_id=s1.pk, message="收到", now=local(2026, 3, 3, 10)
    )
    services.suggestion_resolve(
        staff=desk, scope=scope, suggestion_id=s1.pk, reply="已办", now=local(2026, 3, 4, 10)
    )
    services.suggestion_rate(user=r0.user, suggestion_id=s1.pk, rating=5, now=local(2026, 3, 4, 12))
    s2 = submit(world, resident=r1, kind="consultation", now=local(2026, 3, 2, 10))
    services.suggestion_respond(
        staff=desk, scope=scope, suggestion_id=s2.pk, message="收到", now=local(2026, 3, 4, 10)
    )
    services.suggestion_resolve(
        staff=desk, scope=scope, suggestion_id=s2.pk, reply="已办", now=local(2026, 3, 9, 10)
    )
    services.suggestion_rate(user=r1.user, suggestion_id=s2.pk, rating=1, now=local(2026, 3, 9, 12))
    submit(world, resident=r2, kind="consultation", now=local(2026, 3, 3, 9))
    s4 = submit(world, resident=r2, kind="suggestion", now=local(2026, 3, 3, 9))
    services.suggestion_resolve(
        staff=desk, scope=scope, suggestion_id=s4.pk, reply="已办", now=local(2026, 3, 5, 10)
    )
    services.suggestion_reopen(
        user=r2.user, suggestion_id=s4.pk, reason="问题又出现了", now=local(2026, 3, 6, 10)
    )
    s5 = submit(
        world, resident=world["outsider"], center=center_b, kind="consultation", now=local(2026, 3, 4, 9)
    )
    services.suggestion_respond(
        staff=district, scope=wide, suggestion_id=s5.pk, message="收到", now=local(2026, 3, 4, 15)
    )
    services.suggestion_resolve(
        staff=district, scope=wide, suggestion_id=s5.pk, reply="已办", now=local(2026, 3, 5, 10)
    )
    services.suggestion_rate(
        user=world["outsider"].user, suggestion_id=s5.pk, rating=4, now=local(2026, 3, 5, 12)
    )
    submit(world, resident=r0, kind="consultation", now=local(2026, 2, 27, 9))
    submit(world, resident=world["far"], center=world["other_center"], kind="help", now=local(2026, 3, 10, 9))
    return {"center_a": world["center"], "center_b": center_b}


def rate_values(page) -> dict[str, tuple[str, str]]:
    """Each card's value and its "part / whole" line."""
    out = {}
    for key in ("response_rate", "resolution_rate", "satisfaction_rate", "on_time_rate", "reopen_rate"):
        block = re.search(rf'id="rate-{key}">(.*?)</div>', page.content.decode(), re.S).group(1)
        value = re.search(r'class="vo-rate__value">(.*?)</dd>', block).group(1).strip()
        parts = re.search(r'class="vo-rate__parts">(.*?)</dd>', block).group(1).strip()
        out[key] = (value, parts)
    return out


def test_rates_of_a_sub_district_with_their_definitions(world, rated):
    street = world["place"]["streets"][0]
    client = console(world["roles"]["street"])
    page = client.get(V + f"rates/?scope=street:{street.pk}&from=2026-03-01&to=2026-03-31")
    assert page.status_code == 200
    assert part(page, "rate-received").startswith("Requests received 5")
    assert rate_values(page) == {
        "response_rate": ("60.0%", "3 / 5"),
        "resolution_rate": ("40.0%", "2 / 5"),
        "satisfaction_rate": ("66.7%", "2 / 3"),
        "on_time_rate": ("100.0%", "2 / 2"),
        "reopen_rate": ("25.0%", "1 / 4"),
    }
    assert "32.0 h" in part(page, "rate-average")
    content = text(page)
    for definition in (
        "Requests first responded to by their respond-by time ÷ requests received.",
        "Requests resolved (resolved or closed now) ÷ requests received.",
        "Rated “very satisfied” or “satisfied” ÷ requests rated.",
        "Resolved requests resolved by their resolve-by time ÷ requests resolved.",
        "Requests reopened at least once ÷ requests ever resolved.",
    ):
        assert definition in content
    a, b = rated["center_a"], rated["center_b"]
    assert part(page, f"center-{a.pk}", "tr") == f"{a.name} 4 50.0% 25.0% 50.0% 100.0% 33.3% 40.7"
    assert part(page, f"center-{b.pk}", "tr") == f"{b.name} 1 100.0% 100.0% 100.0% 100.0% 0.0% 6.0"
    assert "centers received no request in the period" not in text(page)  # the street has two centers
    chart = json.loads(
        html.unescape(
            re.search(
                r'<script id="rates-chart" type="application/json">(.*?)</script>', page.content.decode()
            ).group(1)
        )
    )
    assert chart["labels"] == sorted([a.name, b.name])
    by_name = dict(
        zip(chart["labels"], zip(*[s["values"] for s in chart["series"]], strict=True), strict=True)
    )
    assert by_name[a.name] == (50.0, 25.0, 50.0)
    assert by_name[b.name] == (100.0, 100.0, 100.0)
    rows = sheet_rows(
        client.get(V + f"rates/?scope=street:{street.pk}&from=2026-03-01&to=2026-03-31&format=xlsx")
    )
    assert rows[0][:2] == ("Center", "Received")
    assert (a.name, 4, 2, 1, 2, 1, 50.0, 25.0, 50.0, 100.0, 33.3, 40.7) in rows


def test_rates_with_nothing_to_divide_by_show_a_dash(world, rated):
    client = console(world["desk"])
    page = client.get(V + f"rates/?scope=center:{world['center'].pk}&from=2026-02-01&to=2026-02-26")
    assert part(page, "rate-received").startswith("Requests received 0")
    assert {k: v[0] for k, v in rate_values(page).items()} == dict.fromkeys(
        ("response_rate", "resolution_rate", "satisfaction_rate", "on_time_rate", "reopen_rate"), "—"
    )
    assert part(page, "rate-average").startswith("Average time to first response —")
    assert "1 center received no request in the period" in part(page, "quiet-centers", "details")
    assert 'data-vc-chart="rates-chart"' not in page.content.decode()


def test_the_district_rates_count_every_center(world, rated):
    page = console(world["roles"]["district"]).get(V + "rates/?scope=district&from=2026-03-01&to=2026-03-31")
    assert part(page, "rate-received").startswith("Requests received 6")
    assert rate_values(page)["response_rate"] == ("50.0%", "3 / 6")


def test_rates_refuse_scopes_and_periods_they_may_not_see(world, rated):
    client = console(world["desk"])
    assert client.get(V + "rates/?scope=district").status_code == 400
    assert client.get(V + f"rates/?scope=center:{world['other_center'].pk}").status_code == 400
    backwards = client.get(V + f"rates/?scope=center:{world['center'].pk}&from=2026-03-31&to=2026-03-01")
    assert backwards.status_code == 400
    assert "The end date is before the start date." in text(backwards)
    too_long = client.get(V + f"rates/?scope=center:{world['center'].pk}&from=2020-01-01&to=2026-03-01")
    assert too_long.status_code == 400
    assert "Choose at most two years." in text(too_long)
    default = client.get(V + "rates/")
    assert default.status_code == 200
    today = timezone.localdate()
    assert f"{today.replace(day=1):%Y-%m-%d} – {today:%Y-%m-%d}" in text(default)


# --- settings -----------------------------------------------------------------------------------


def test_district_officials_set_and_delete_deadline_rules(world):
    client = console(world["roles"]["district"])
    response = client.post(
        V + "settings/",
        {
            "action": "rule_set",
            "rule-kind": "complaint",
            "rule-category": "staff",
            "rule-respond_days": "1",
            "rule-resolve_days": "4",
        },
    )
    assert response.status_code == 302
    rule = DeadlineRule.objects.get(kind="complaint", category="staff")
    assert (rule.respond_days, rule.resolve_days) == (1, 4)
    assert part(client.get(V + "settings/"), f"rule-{rule.pk}", "tr").startswith("Complaint Staff 1 4")
    bad = client.post(
        V + "settings/",
        {
            "action": "rule_set",
            "rule-kind": "help",
            "rule-category": "",
            "rule-respond_days": "5",
            "rule-resolve_days": "3",
        },
    )
    assert bad.status_code == 400
    assert "Deadlines are 1–60 working days to respond and up to 120 to resolve, not shorter." in text(bad)
    assert not DeadlineRule.objects.filter(kind="help", respond_days=5).exists()
    before = DeadlineRule.objects.count()
    assert client.post(V + "settings/", {"action": "rule_delete", "rule": rule.pk}).status_code == 302
    assert DeadlineRule.objects.count() == before - 1
    assert not DeadlineRule.objects.filter(pk=rule.pk).exists()


def test_district_officials_keep_the_calendar(world):
    client = console(world["roles"]["district"])
    response = client.post(
        V + "settings/?year=2026",
        {"action": "day_set", "day-day": "2026-10-08", "day-kind": "holiday", "day-name": "国庆节"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{V}settings/?year=2026"
    day = CalendarDay.objects.get()
    assert (day.date, day.kind, day.name) == (dt.date(2026, 10, 8), "holiday", "国庆节")
    page = client.get(V + "settings/?year=2026")
    assert part(page, "day-2026-10-08", "tr").startswith("2026-10-08 Thu Public holiday 国庆节")
    bad = client.post(V + "settings/", {"action": "day_set", "day-day": "2026-13-01", "day-kind": "holiday"})
    assert bad.status_code == 400
    assert CalendarDay.objects.count() == 1
    assert (
        client.post(V + "settings/?year=2026", {"action": "day_remove", "day": "2026-10-08"}).status_code
        == 302
    )
    assert CalendarDay.objects.count() == 0


@pytest.mark.parametrize("role", ["street", "community", "partner"])
def test_others_see_the_settings_read_only(world, role):
    staff = world["partner"] if role == "partner" else world["roles"][role]
    CalendarDay.objects.create(date=dt.date(2026, 10, 1), kind="holiday", name="国庆节")
    client = console(staff)
    page = client.get(V + "settings/?year=2026")
    assert "Read only: district officials set the deadlines and keep the calendar." in text(page)
    assert 'id="rule-form"' not in page.content.decode() and 'id="day-form"' not in page.content.decode()
    assert "国庆节" in text(page)
    rules = DeadlineRule.objects.count()
    for data in (
        {"action": "rule_set", "rule-kind": "help", "rule-respond_days": "1", "rule-resolve_days": "2"},
        {"action": "rule_delete", "rule": DeadlineRule.objects.first().pk},
        {"action": "day_set", "day-day": "2026-10-09", "day-kind": "holiday"},
        {"action": "day_remove", "day": "2026-10-01"},
    ):
        assert client.post(V + "settings/", data).status_code == 403
    assert DeadlineRule.objects.count() == rules
    assert list(CalendarDay.objects.values_list("date", flat=True)) == [dt.date(2026, 10, 1)]
