"""The volunteering and points consoles, through Django's test client: every page renders for the
center's desk, anonymous visitors are sent to the login, another community's worker finds nothing;
every form changes exactly what it says, and a refusal re-renders the page with the service's
message and changes nothing. Excel exports open with openpyxl and hold masked names only.

Pages are read in English (the language cookie), so the checks do not depend on translations.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from livingroom.people.models import StaffRole
from livingroom.points import services as points
from livingroom.points.models import Account, Entry, Redemption, Reward, StockMove
from livingroom.volunteering import services
from livingroom.volunteering.models import Activity, Correction, ServiceRecord, Shift, Signup, Volunteer
from tests.conftest import console_client
from tests.volunteering.conftest import at, give_points, pass_of

pytestmark = pytest.mark.django_db

VOL = "/console/volunteering/"
PTS = "/console/points/"
NAMES = ["李晓梅", "王建国", "陈美玲"]
MASKED = ["李**", "王**", "陈**"]

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


def flashes(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def sheet_rows(response) -> list[tuple]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    return list(book.active.iter_rows(values_only=True))


# --- the world ----------------------------------------------------------------------------------


@pytest.fixture
def named(vworld):
    for resident, name in zip(vworld["residents"], NAMES, strict=True):
        resident.real_name = name
        resident.save(update_fields=["real_name"])
    return vworld


def create_activity(world, *, now=None, shifts=None, **overrides):
    values = dict(
        center_id=world["center"].pk,
        title="社区环境清洁",
        description="清理公共区域。",
        requirements="穿运动鞋",
        points_per_hour=1,
        bonus_points=2,
        shifts=shifts
        or [
            services.ShiftDraft(
                role="清洁员", place="固戍客厅门口", starts_at=at(1, 9), ends_at=at(1, 12), needed=3
            )
        ],
    )
    values.update(overrides)
    return services.activity_create(
        staff=world["desk"], scope=world["scope"], draft=services.ActivityDraft(**values), now=now
    )


@pytest.fixture
def held(named):
    """An activity whose shift was yesterday 09:00–12:00: both volunteers signed up, the first
    checked in at 08:50 and out at 11:30 (150 minutes), the second never came. Also a draft for
    next week."""
    activity = create_activity(
        named,
        now=at(-3),
        title="敬老院探访",
        shifts=[
            services.ShiftDraft(
                role="陪伴员", place="固戍敬老院", starts_at=at(-1, 9), ends_at=at(-1, 12), needed=3
            )
        ],
    )
    shift = activity.shifts.get()
    first, second = named["volunteers"]
    signups = [
        services.signup_create(user=v.resident.user, shift_id=shift.pk, now=at(-2)) for v in (first, second)
    ]
    kiosk = named["kiosk"][0]
    services.check_at_device(
        device=kiosk, shift_id=shift.pk, token=pass_of(first.resident), direction="in", now=at(-1, 8, 50)
    )
    services.check_at_device(
        device=kiosk, shift_id=shift.pk, token=pass_of(first.resident), direction="out", now=at(-1, 11, 30)
    )
    draft = create_activity(named, title="图书整理", publish=False)
    return {**named, "activity": activity, "shift": shift, "signups": signups, "draft": draft}


@pytest.fixture
def confirmed(held):
    records = services.hours_confirm(staff=held["desk"], scope=held["scope"], shift_id=held["shift"].pk)
    return {**held, "records": records}


@pytest.fixture
def now_shift(named):
    """A shift that started 10 minutes ago (check-in is open); the first volunteer signed up."""
    now = timezone.now()
    activity = create_activity(
        named,
        now=now - dt.timedelta(hours=2),
        title="垃圾分类宣传",
        shifts=[
            services.ShiftDraft(
                role="宣传员",
                place="固戍广场",
                starts_at=now - dt.timedelta(minutes=10),
                ends_at=now + dt.timedelta(hours=2),
                needed=2,
            )
        ],
    )
    shift = activity.shifts.get()
    signup = services.signup_create(
        user=named["volunteers"][0].resident.user, shift_id=shift.pk, now=now - dt.timedelta(hours=1)
    )
    return {**named, "activity": activity, "shift": shift, "signup": signup}


# --- pages, sign-in and scopes --------------------------------------------------------------------


def test_every_page_renders_for_the_desk(confirmed):
    w = confirmed
    correction = services.correction_request(
        user=w["volunteers"][0].resident.user, signup_id=w["signups"][0].pk, minutes=170, reason="忘记签退"
    )
    desk = console(w["desk"])
    center = w["center"].pk
    year = timezone.localdate().year
    for path in [
        VOL,
        f"{VOL}?status=draft",
        f"{VOL}?status=nonsense",
        f"{VOL}new/",
        f"{VOL}{w['activity'].pk}/",
        f"{VOL}{w['draft'].pk}/",
        f"{VOL}shifts/{w['shift'].pk}/",
        f"{VOL}shifts/{w['draft'].shifts.get().pk}/",
        f"{VOL}corrections/",
        f"{VOL}corrections/?status=all",
        f"{VOL}volunteers/",
        f"{VOL}volunteers/?q=V",
        f"{VOL}hours/",
        f"{VOL}hours/?from={year}-01-01&to={year}-12-31&center={center}",
        PTS,
        f"{PTS}?center={center}&from={year}-01-01&to={year}-12-31&page=2",
        f"{PTS}rewards/",
        f"{PTS}rewards/{w['drink'].pk}/",
        f"{PTS}desk/",
        f"{PTS}reconciliation/",
        f"{PTS}adjust/",
        f"{PTS}adjust/?resident={w['residents'][0].pk}",
    ]:
        response = desk.get(path)
        assert response.status_code == 200, path
    page = text(desk.get(f"{VOL}corrections/"))
    assert "忘记签退" in page and correction.minutes_requested == 170
    # The console's navigation holds both new entries.
    nav = desk.get("/console/").content.decode()
    assert f'href="{VOL}"' in nav and f'href="{PTS}"' in nav


def test_anonymous_visitors_are_sent_to_the_login(held):
    anonymous = Client()
    for path in [
        VOL,
        f"{VOL}new/",
        f"{VOL}{held['activity'].pk}/",
        f"{VOL}shifts/{held['shift'].pk}/",
        f"{VOL}corrections/",
        f"{VOL}volunteers/",
        f"{VOL}hours/",
        PTS,
        f"{PTS}rewards/",
        f"{PTS}rewards/{held['drink'].pk}/",
        f"{PTS}desk/",
        f"{PTS}reconciliation/",
        f"{PTS}adjust/",
    ]:
        response = anonymous.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/console/login/?next="), path
    # A post changes nothing either.
    anonymous.post(f"{VOL}{held['draft'].pk}/", {"action": "publish"})
    held["draft"].refresh_from_db()
    assert held["draft"].status == Activity.Status.DRAFT


def test_another_communitys_worker_finds_nothing(confirmed, roles):
    w = confirmed
    correction = services.correction_request(
        user=w["volunteers"][1].resident.user, signup_id=w["signups"][1].pk, minutes=180, reason="我来了"
    )
    other = console(roles["other_community"])
    for path in [
        f"{VOL}{w['activity'].pk}/",
        f"{VOL}shifts/{w['shift'].pk}/",
        f"{VOL}shifts/{w['shift'].pk}/?format=xlsx",
        f"{VOL}?center={w['center'].pk}",
        f"{PTS}?center={w['center'].pk}",
        f"{PTS}rewards/?center={w['center'].pk}",
        f"{PTS}rewards/{w['drink'].pk}/",
        f"{PTS}reconciliation/?center={w['center'].pk}",
    ]:
        assert other.get(path).status_code == 404, path
    # Lists show none of 固戍's objects.
    assert w["activity"].title not in text(other.get(VOL))
    assert "V20" not in text(other.get(f"{VOL}volunteers/"))
    assert "我来了" not in text(other.get(f"{VOL}corrections/"))
    # Posts to 固戍's objects are 404 and change nothing.
    assert other.post(f"{VOL}{w['draft'].pk}/", {"action": "publish"}).status_code == 404
    response = other.post(
        f"{VOL}corrections/", {"correction": correction.pk, "action": "reject", "note": "不行"}
    )
    assert response.status_code == 404
    volunteer = w["volunteers"][0]
    response = other.post(
        f"{VOL}volunteers/", {"volunteer": volunteer.pk, "action": "suspend", "reason": "测试"}
    )
    assert response.status_code == 404
    response = other.post(f"{VOL}shifts/{w['draft'].shifts.get().pk}/", {"action": "scan", "scan-token": "x"})
    assert response.status_code == 404
    assert (
        other.post(f"{PTS}rewards/{w['drink'].pk}/", {"action": "restock", "restock-quantity": 5}).status_code
        == 404
    )
    w["draft"].refresh_from_db()
    correction.refresh_from_db()
    volunteer.refresh_from_db()
    w["drink"].refresh_from_db()
    assert w["draft"].status == Activity.Status.DRAFT
    assert correction.status == Correction.Status.OPEN
    assert volunteer.status == Volunteer.Status.ACTIVE
    assert w["drink"].stock == 10
    assert ServiceRecord.objects.count() == 1  # the one confirmed by 固戍's desk


def test_officials_read_without_acting(held, roles):
    street = console(roles["street"])
    page = text(street.get(f"{VOL}{held['activity'].pk}/"))
    assert "Read only" in page and "Cancel the activity" not in page
    assert "Confirm the hours" not in text(street.get(f"{VOL}shifts/{held['shift'].pk}/"))
    ledger = street.get(f"{PTS}?center={held['center'].pk}")
    assert ledger.status_code == 200
    desk = text(street.get(f"{PTS}desk/"))
    assert "Only the desk staff of a center redeem" in desk
    response = street.post(f"{VOL}{held['draft'].pk}/", {"action": "publish"})
    assert response.status_code == 403
    assert "You cannot organise volunteer activities at this center." in text(response)
    held["draft"].refresh_from_db()
    assert held["draft"].status == Activity.Status.DRAFT


# --- the activities -------------------------------------------------------------------------------


def test_the_list_counts_places_and_filters_by_status(held):
    desk = console(held["desk"])
    listing = desk.get(VOL)
    assert [a.pk for a in listing.context["rows"]] == [held["draft"].pk, held["activity"].pk]
    assert {t["key"]: t["count"] for t in listing.context["tabs"]} == {
        "": 2,
        "draft": 1,
        "published": 1,
        "cancelled": 0,
    }
    page = text(listing)
    assert "敬老院探访" in page and "2 / 3" in page and "0 / 3" in page
    drafts = desk.get(f"{VOL}?status=draft")
    assert [a.pk for a in drafts.context["rows"]] == [held["draft"].pk]
    rows = sheet_rows(desk.get(f"{VOL}?format=xlsx&status=published"))
    assert rows[0][:4] == ("Title", "Center", "Organiser", "Status")
    assert len(rows) == 2
    assert rows[1][0] == "敬老院探访" and rows[1][3] == "Published"
    assert rows[1][6:10] == (1, 2, 3, 1)


def _new_activity_post(center_id, **extra):
    day = (timezone.localdate() + dt.timedelta(days=5)).isoformat()
    data = {
        "center": center_id,
        "title": "河道巡查",
        "description": "沿固戍河巡查。",
        "requirements": "自备水杯",
        "audience": "community",
        "min_age": "18",
        "points_per_hour": "2",
        "bonus_points": "5",
        "publish": "1",
        "role_0": "巡查员",
        "place_0": "固戍河入口",
        "date_0": day,
        "start_0": "09:00",
        "end_0": "11:30",
        "needed_0": "4",
        "role_2": "记录员",
        "place_2": "固戍客厅",
        "date_2": day,
        "start_2": "14:00",
        "end_2": "16:00",
        "needed_2": "1",
    }
    data.update(extra)
    return data


def test_a_new_activity_is_created_with_its_shifts(named):
    desk = console(named["desk"])
    response = desk.post(f"{VOL}new/", _new_activity_post(named["center"].pk))
    activity = Activity.objects.get(title="河道巡查")
    assert response.status_code == 302 and response["Location"] == f"{VOL}{activity.pk}/"
    assert (
        activity.center_id,
        activity.organization_id,
        activity.description,
        activity.requirements,
        activity.audience,
        activity.min_age,
        activity.points_per_hour,
        activity.bonus_points,
        activity.status,
        activity.created_by_id,
    ) == (
        named["center"].pk,
        None,
        "沿固戍河巡查。",
        "自备水杯",
        "community",
        18,
        2,
        5,
        "published",
        named["desk"].pk,
    )
    day = timezone.localdate() + dt.timedelta(days=5)
    tz = timezone.get_default_timezone()
    shifts = [
        (s.role, s.place, s.starts_at, s.ends_at, s.needed) for s in activity.shifts.order_by("starts_at")
    ]
    assert shifts == [
        (
            "巡查员",
            "固戍河入口",
            dt.datetime.combine(day, dt.time(9), tz),
            dt.datetime.combine(day, dt.time(11, 30), tz),
            4,
        ),
        (
            "记录员",
            "固戍客厅",
            dt.datetime.combine(day, dt.time(14), tz),
            dt.datetime.combine(day, dt.time(16), tz),
            1,
        ),
    ]
    page = desk.get(response["Location"])
    assert "“河道巡查” is published; volunteers can sign up now." in flashes(page)
    # A draft, then published from its page.
    desk.post(f"{VOL}new/", _new_activity_post(named["center"].pk, title="草稿活动", publish="0"))
    draft = Activity.objects.get(title="草稿活动")
    assert draft.status == Activity.Status.DRAFT and draft.published_at is None
    response = desk.post(f"{VOL}{draft.pk}/", {"action": "publish"}, follow=True)
    draft.refresh_from_db()
    assert draft.status == Activity.Status.PUBLISHED
    assert "The activity is published; volunteers can sign up now." in flashes(response)


def test_a_new_activity_refused_shows_why_and_creates_nothing(named):
    desk = console(named["desk"])
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = desk.post(f"{VOL}new/", _new_activity_post(named["center"].pk, date_2=yesterday))
    assert response.status_code == 400
    assert "This shift is not valid: it must start in the future." in text(response)
    assert response.context["form"].errors["start_2"] == [
        "This shift is not valid: it must start in the future."
    ]
    # A row begun and not finished; no shift at all.
    response = desk.post(f"{VOL}new/", _new_activity_post(named["center"].pk, needed_2=""))
    assert response.status_code == 400
    assert response.context["form"].errors["needed_2"] == ["Fill in the whole row, or leave it blank."]
    blank = {k: "" for k in _new_activity_post(0) if re.search(r"_\d$", k)}
    response = desk.post(f"{VOL}new/", _new_activity_post(named["center"].pk, **blank))
    assert response.status_code == 400 and "Add at least one shift." in text(response)
    # Ends before it starts.
    response = desk.post(f"{VOL}new/", _new_activity_post(named["center"].pk, end_0="08:00"))
    assert response.status_code == 400 and "it must end after it starts" in text(response)
    assert not Activity.objects.exists()
    assert not Shift.objects.exists()


def test_partner_staff_organise_for_their_organisation(vworld, roles):
    org = StaffRole.objects.get(user=roles["partner"]).organization
    org.centers.add(vworld["center"])
    partner = console(roles["partner"])
    form = partner.get(f"{VOL}new/").context["form"]
    assert form.fields["organization"].required
    response = partner.post(f"{VOL}new/", _new_activity_post(vworld["center"].pk, organization=org.pk))
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert activity.organization_id == org.pk and activity.organizer_name == org.name


def test_cancelling_needs_a_reason_and_tells_the_volunteers(held):
    desk = console(held["desk"])
    future = create_activity(held, title="周末义诊")
    services.signup_create(user=held["volunteers"][1].resident.user, shift_id=future.shifts.get().pk)
    response = desk.post(f"{VOL}{future.pk}/", {"action": "cancel", "cancel-reason": ""})
    assert response.status_code == 400
    future.refresh_from_db()
    assert future.status == Activity.Status.PUBLISHED
    response = desk.post(f"{VOL}{future.pk}/", {"action": "cancel", "cancel-reason": "暴雨预警"}, follow=True)
    future.refresh_from_db()
    assert future.status == Activity.Status.CANCELLED and future.cancel_reason == "暴雨预警"
    assert future.shifts.get().status == Shift.Status.CANCELLED
    assert not Signup.objects.filter(shift__activity=future, status=Signup.Status.SIGNED_UP).exists()
    assert "The activity is cancelled; the volunteers signed up are told the reason." in flashes(response)
    # Cancelling twice is refused with the service's words.
    response = desk.post(f"{VOL}{future.pk}/", {"action": "cancel", "cancel-reason": "再次"})
    assert response.status_code == 409 and "This activity is already cancelled." in text(response)


# --- a shift --------------------------------------------------------------------------------------


def test_the_roster_masks_names_and_prefills_measured_minutes(held):
    desk = console(held["desk"])
    response = desk.get(f"{VOL}shifts/{held['shift'].pk}/")
    page = text(response)
    assert MASKED[0] in page and MASKED[1] in page
    assert not any(name in response.content.decode() for name in NAMES)
    first, second = held["signups"]
    form = response.context["hours_form"]
    assert form[f"minutes_{first.pk}"].value() == 150
    assert form[f"minutes_{second.pk}"].value() is None
    assert response.context["can_confirm"] and not response.context["can_scan"]
    rows = sheet_rows(desk.get(f"{VOL}shifts/{held['shift'].pk}/?format=xlsx"))
    assert rows[0][:3] == ("#", "Volunteer number", "Name")
    assert [(r[1], r[2], r[5]) for r in rows[1:]] == [
        (held["volunteers"][0].number, MASKED[0], 150),
        (held["volunteers"][1].number, MASKED[1], None),
    ]
    assert rows[1][3] == at(-1, 8, 50).strftime("%Y-%m-%d %H:%M")


def test_confirming_hours_as_measured_records_and_awards_once(held):
    desk = console(held["desk"])
    first, second = held["signups"]
    url = f"{VOL}shifts/{held['shift'].pk}/"
    response = desk.post(
        url,
        {
            "action": "confirm",
            f"hours-minutes_{first.pk}": "150",
            f"hours-reason_{first.pk}": "",
            f"hours-minutes_{second.pk}": "",
            f"hours-reason_{second.pk}": "",
        },
        follow=True,
    )
    assert "Hours confirmed: 1 service record, 2.5 hours, 4 points awarded." in flashes(response)
    record = ServiceRecord.objects.get()
    assert (record.signup_id, record.minutes, record.points_awarded, record.adjustment_reason) == (
        first.pk,
        150,
        150 * 1 // 60 + 2,
        "",
    )
    assert Account.objects.get(resident=held["volunteers"][0].resident).balance == 4
    held["shift"].refresh_from_db()
    assert held["shift"].status == Shift.Status.CONFIRMED
    page = text(response)
    assert "no record" in page and response.context["record_points"] == 4
    # Confirming again is refused: nothing more is recorded or awarded.
    again = desk.post(url, {"action": "confirm", f"hours-minutes_{first.pk}": "150"})
    assert again.status_code == 409 and "The hours of this shift are already confirmed." in text(again)
    assert ServiceRecord.objects.count() == 1 and Entry.objects.filter(kind=Entry.Kind.AWARD).count() == 1


def test_confirming_with_changes_needs_a_reason(held):
    desk = console(held["desk"])
    first, second = held["signups"]
    url = f"{VOL}shifts/{held['shift'].pk}/"
    refused = desk.post(
        url,
        {"action": "confirm", f"hours-minutes_{first.pk}": "120", f"hours-minutes_{second.pk}": ""},
    )
    assert refused.status_code == 400
    assert refused.context["hours_form"].errors[f"reason_{first.pk}"] == ["Please give a reason."]
    too_long = desk.post(url, {"action": "confirm", f"hours-minutes_{first.pk}": "999"})
    assert too_long.status_code == 400
    held["shift"].refresh_from_db()
    assert held["shift"].status == Shift.Status.SCHEDULED and not ServiceRecord.objects.exists()
    assert not Entry.objects.exists() or not Entry.objects.filter(kind=Entry.Kind.AWARD).exists()
    desk.post(
        url,
        {
            "action": "confirm",
            f"hours-minutes_{first.pk}": "120",
            f"hours-reason_{first.pk}": "提前离开",
            f"hours-minutes_{second.pk}": "180",
            f"hours-reason_{second.pk}": "忘记带通行码，现场核实",
        },
    )
    records = {r.signup_id: r for r in ServiceRecord.objects.all()}
    assert (
        records[first.pk].minutes,
        records[first.pk].adjustment_reason,
        records[first.pk].points_awarded,
    ) == (
        120,
        "提前离开",
        4,
    )
    assert (records[second.pk].minutes, records[second.pk].points_awarded) == (180, 5)
    assert Volunteer.objects.get(pk=held["volunteers"][1].pk).minutes_total == 180


def test_scanning_a_pass_checks_in_and_out(now_shift):
    desk = console(now_shift["desk"])
    url = f"{VOL}shifts/{now_shift['shift'].pk}/"
    page = desk.get(url)
    assert page.context["can_scan"] and not page.context["can_confirm"]
    volunteer = now_shift["volunteers"][0]
    response = desk.post(
        url,
        {"action": "scan", "scan-token": pass_of(volunteer.resident), "scan-direction": "in"},
        follow=True,
    )
    signup = Signup.objects.get(pk=now_shift["signup"].pk)
    assert signup.checked_in_at is not None and signup.check_in_by == f"staff:{now_shift['desk'].pk}"
    when = timezone.localtime(signup.checked_in_at)
    assert flashes(response) == [f"{MASKED[0]} ({volunteer.number}) checked in at {when:%Y-%m-%d %H:%M}."]
    desk.post(url, {"action": "scan", "scan-token": pass_of(volunteer.resident), "scan-direction": "out"})
    signup.refresh_from_db()
    assert signup.checked_out_at is not None


def test_scanning_someone_not_signed_up_is_refused(now_shift):
    desk = console(now_shift["desk"])
    url = f"{VOL}shifts/{now_shift['shift'].pk}/"
    other = now_shift["volunteers"][1]
    response = desk.post(
        url, {"action": "scan", "scan-token": pass_of(other.resident), "scan-direction": "in"}
    )
    assert response.status_code == 409
    assert "This volunteer has not signed up for this shift." in text(response)
    response = desk.post(url, {"action": "scan", "scan-token": "forged", "scan-direction": "in"})
    assert response.status_code == 400
    assert response.context["scan_form"].errors["token"]
    assert not Signup.objects.filter(checked_in_at__isnull=False).exists()


# --- corrections ----------------------------------------------------------------------------------


def test_a_correction_is_accepted_and_the_points_follow(confirmed):
    w = confirmed
    correction = services.correction_request(
        user=w["volunteers"][0].resident.user, signup_id=w["signups"][0].pk, minutes=180, reason="忘记签退"
    )
    desk = console(w["desk"])
    listing = desk.get(f"{VOL}corrections/")
    assert [r["c"].pk for r in listing.context["rows"]] == [correction.pk]
    assert "150 → to 180" in text(listing)
    rows = sheet_rows(desk.get(f"{VOL}corrections/?format=xlsx"))
    assert rows[1][1:3] == (w["volunteers"][0].number, MASKED[0]) and rows[1][6:9] == (150, 180, "忘记签退")
    response = desk.post(
        f"{VOL}corrections/", {"correction": correction.pk, "action": "accept", "note": ""}, follow=True
    )
    correction.refresh_from_db()
    record = ServiceRecord.objects.get(signup=w["signups"][0])
    assert correction.status == Correction.Status.ACCEPTED
    assert (record.minutes, record.points_awarded) == (180, 5)
    assert Account.objects.get(resident=w["volunteers"][0].resident).balance == 5
    assert flashes(response) == [
        f"Accepted: the record of {MASKED[0]} is now 180 minutes; the points follow."
    ]
    assert response.context["rows"] == []


def test_rejecting_a_correction_needs_an_answer(confirmed):
    w = confirmed
    correction = services.correction_request(
        user=w["volunteers"][1].resident.user, signup_id=w["signups"][1].pk, minutes=180, reason="我来了"
    )
    desk = console(w["desk"])
    response = desk.post(f"{VOL}corrections/", {"correction": correction.pk, "action": "reject", "note": ""})
    assert response.status_code == 400 and "Please give a reason." in text(response)
    correction.refresh_from_db()
    assert correction.status == Correction.Status.OPEN
    desk.post(
        f"{VOL}corrections/", {"correction": correction.pk, "action": "reject", "note": "签到记录中没有你"}
    )
    correction.refresh_from_db()
    assert (correction.status, correction.decision_note) == (Correction.Status.REJECTED, "签到记录中没有你")
    assert not ServiceRecord.objects.filter(signup=w["signups"][1]).exists()
    assert "签到记录中没有你" in text(desk.get(f"{VOL}corrections/?status=rejected"))


# --- volunteers and the hours report --------------------------------------------------------------


def test_the_volunteer_roster_searches_exports_and_suspends(confirmed):
    w = confirmed
    first, second = w["volunteers"]
    desk = console(w["desk"])
    listing = desk.get(f"{VOL}volunteers/")
    assert [r["v"].pk for r in listing.context["rows"]] == [first.pk, second.pk]
    assert not any(name in listing.content.decode() for name in NAMES)
    found = desk.get(f"{VOL}volunteers/?q={second.number}")
    assert [r["v"].pk for r in found.context["rows"]] == [second.pk]
    assert [r["v"].pk for r in desk.get(f"{VOL}volunteers/?q={NAMES[0]}").context["rows"]] == [first.pk]
    rows = sheet_rows(desk.get(f"{VOL}volunteers/?format=xlsx"))
    assert rows[0] == ("Volunteer number", "Name", "Community", "Hours", "Stars", "Status", "Registered")
    assert [r[:6] for r in rows[1:]] == [
        (first.number, MASKED[0], "固戍社区", 2.5, 0, "Active"),
        (second.number, MASKED[1], "固戍社区", 0, 0, "Active"),
    ]
    refused = desk.post(f"{VOL}volunteers/", {"volunteer": second.pk, "action": "suspend", "reason": ""})
    assert refused.status_code == 400 and "This field is required." in text(refused)
    second.refresh_from_db()
    assert second.status == Volunteer.Status.ACTIVE
    response = desk.post(
        f"{VOL}volunteers/", {"volunteer": second.pk, "action": "suspend", "reason": "多次爽约"}, follow=True
    )
    second.refresh_from_db()
    assert second.status == Volunteer.Status.SUSPENDED
    assert flashes(response) == [f"{MASKED[1]} ({second.number}) is suspended and cannot sign up for shifts."]
    desk.post(f"{VOL}volunteers/", {"volunteer": second.pk, "action": "reactivate", "reason": "已沟通"})
    second.refresh_from_db()
    assert second.status == Volunteer.Status.ACTIVE


def test_the_hours_report_sums_the_period(confirmed):
    w = confirmed
    desk = console(w["desk"])
    day = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = desk.get(f"{VOL}hours/?from={day}&to={day}")
    assert [(r["r"].volunteer.pk, r["r"].minutes, r["r"].points) for r in response.context["rows"]] == [
        (w["volunteers"][0].pk, 150, 4)
    ]
    rows = sheet_rows(desk.get(f"{VOL}hours/?from={day}&to={day}&format=xlsx"))
    assert rows == [
        ("Volunteer number", "Name", "Community", "Records", "Hours", "Points"),
        (w["volunteers"][0].number, MASKED[0], "固戍社区", 1, 2.5, 4),
    ]
    before = (timezone.localdate() - dt.timedelta(days=30)).isoformat()
    assert desk.get(f"{VOL}hours/?from={before}&to={before}").context["rows"] == []
    bad = desk.get(f"{VOL}hours/?from={day}&to={before}")
    assert bad.status_code == 400 and "The end date is before the start date." in text(bad)


# --- points: the ledger -----------------------------------------------------------------------------


@pytest.fixture
def spent(named):
    """The first resident earned 30 points and swapped 20 for a haircut voucher at the desk; the
    second earned 5."""
    first, second = named["residents"][:2]
    give_points(named, first, 30, key="t:1")
    give_points(named, second, 5, key="t:2")
    redemption = points.redemption_at_desk(
        staff=named["desk"],
        scope=named["scope"],
        token=pass_of(first),
        reward_id=named["voucher"].pk,
        quantity=1,
    )
    return {**named, "redemption": redemption}


def test_the_ledger_sums_and_lists_entries(spent):
    desk = console(spent["desk"])
    response = desk.get(PTS)
    s = response.context["summary"]
    assert (s.issued, s.spent, s.refunded, s.adjusted, s.expired, s.outstanding, s.accounts) == (
        35,
        20,
        0,
        0,
        0,
        15,
        2,
    )
    page = text(response)
    assert MASKED[0] in page and MASKED[1] in page and "理发券 × 1" in page
    assert not any(name in response.content.decode() for name in NAMES)
    rows = sheet_rows(desk.get(f"{PTS}?format=xlsx"))
    assert rows[0] == ("Time", "Resident No.", "Resident", "Kind", "Points", "Balance after", "Reason", "By")
    first_id = spent["residents"][0].pk
    assert sorted((r[1], r[3], r[4], r[5]) for r in rows[1:]) == sorted(
        [
            (first_id, "Award", 30, 30),
            (spent["residents"][1].pk, "Award", 5, 5),
            (first_id, "Redemption", -20, 10),
        ]
    )
    # An earlier period holds nothing; the summary follows the period.
    old = desk.get(f"{PTS}?from=2020-01-01&to=2020-01-31")
    assert old.context["summary"].issued == 0 and list(old.context["page"]) == []


def test_the_ledger_pages_by_fifty(named):
    for n in range(55):
        give_points(named, named["residents"][0], 1, key=f"page:{n}")
    desk = console(named["desk"])
    first = desk.get(PTS)
    assert len(first.context["page"]) == 50 and first.context["page"].has_next()
    second = desk.get(f"{PTS}?center={named['center'].pk}&page=2")
    assert len(second.context["page"]) == 5


# --- points: the catalogue ----------------------------------------------------------------------------


def test_a_reward_is_created_and_a_duplicate_refused(named):
    desk = console(named["desk"])
    data = {
        "kind": "goods",
        "name": "环保袋",
        "price_points": "8",
        "stock": "40",
        "description": "帆布材质",
        "at_desk": "on",
    }
    response = desk.post(f"{PTS}rewards/", data)
    reward = Reward.objects.get(name="环保袋")
    assert response.status_code == 302 and response["Location"] == f"{PTS}rewards/{reward.pk}/"
    assert (
        reward.center_id,
        reward.kind,
        reward.price_points,
        reward.stock,
        reward.at_desk,
        reward.at_vending,
    ) == (
        named["center"].pk,
        "goods",
        8,
        40,
        True,
        False,
    )
    assert list(reward.moves.values_list("kind", "delta")) == [("restock", 40)]
    again = desk.post(f"{PTS}rewards/", data)
    assert again.status_code == 409 and "This center already has a reward with that name." in text(again)
    vending = desk.post(f"{PTS}rewards/", {**data, "name": "雨伞", "at_vending": "on"})
    assert vending.status_code == 400 and "Only drinks are sold in the vending machines." in text(vending)
    assert Reward.objects.filter(center=named["center"]).count() == 3
    rows = sheet_rows(desk.get(f"{PTS}rewards/?format=xlsx"))
    assert rows[0] == ("Kind", "Name", "Price in points", "Stock", "Offered", "On offer")
    assert sorted(r[1] for r in rows[1:]) == sorted(["理发券", "环保袋", "矿泉水"])


def test_restock_count_and_edit_a_reward(named):
    desk = console(named["desk"])
    drink = named["drink"]
    url = f"{PTS}rewards/{drink.pk}/"
    response = desk.post(
        url, {"action": "restock", "restock-quantity": "5", "restock-reason": "送货单 A12"}, follow=True
    )
    drink.refresh_from_db()
    assert drink.stock == 15 and "Restocked: 5 added, 15 in stock." in flashes(response)
    desk.post(url, {"action": "count", "count-counted": "12", "count-reason": "盘点少 3 瓶"})
    drink.refresh_from_db()
    assert drink.stock == 12
    assert list(drink.moves.order_by("id").values_list("kind", "delta", "stock_after")) == [
        ("restock", 10, 10),
        ("restock", 5, 15),
        ("count", -3, 12),
    ]
    same = desk.post(url, {"action": "count", "count-counted": "12", "count-reason": "再盘"})
    assert same.status_code == 400 and "The count matches the books; nothing to correct." in text(same)
    no_reason = desk.post(url, {"action": "count", "count-counted": "11", "count-reason": ""})
    assert no_reason.status_code == 400
    assert drink.moves.count() == 3
    desk.post(url, {"action": "edit", "edit-price_points": "4", "edit-description": "500 毫升"})
    drink.refresh_from_db()
    assert (drink.price_points, drink.is_active, drink.description) == (4, False, "500 毫升")
    rows = sheet_rows(desk.get(f"{url}?format=xlsx"))
    assert [(r[1], r[2], r[3]) for r in rows[1:]] == [
        ("Stock count correction", -3, 12),
        ("Restocked", 5, 15),
        ("Restocked", 10, 10),
    ]


# --- points: the desk -----------------------------------------------------------------------------------


def test_redeeming_at_the_desk_shows_the_result(named):
    first = named["residents"][0]
    give_points(named, first, 50, key="desk:1")
    desk = console(named["desk"])
    url = f"{PTS}desk/"
    response = desk.post(
        url,
        {"action": "redeem", "token": pass_of(first), "reward": named["voucher"].pk, "quantity": "2"},
        follow=True,
    )
    redemption = Redemption.objects.get()
    assert (redemption.account.resident_id, redemption.quantity, redemption.points, redemption.channel) == (
        first.pk,
        2,
        40,
        "desk",
    )
    assert response.context["result"] == redemption and response.context["balance"] == 10
    assert f"{MASKED[0]} · 理发券 × 2" in text(response)
    named["voucher"].refresh_from_db()
    assert named["voucher"].stock == 3
    rows = sheet_rows(desk.get(f"{url}?format=xlsx"))
    assert rows[1][1:8] == (first.pk, MASKED[0], "理发券", 2, 40, "At the desk", "Completed")


def test_redeeming_without_enough_points_changes_nothing(named):
    first = named["residents"][0]
    give_points(named, first, 5, key="desk:2")
    desk = console(named["desk"])
    response = desk.post(
        f"{PTS}desk/",
        {"action": "redeem", "token": pass_of(first), "reward": named["voucher"].pk, "quantity": "1"},
    )
    assert response.status_code == 409
    assert "Not enough points: 5 available, 20 needed." in text(response)
    named["voucher"].refresh_from_db()
    assert named["voucher"].stock == 5 and not Redemption.objects.exists()
    assert Account.objects.get(resident=first).balance == 5


def test_a_refund_needs_a_reason_and_returns_points_and_stock(spent):
    desk = console(spent["desk"])
    redemption = spent["redemption"]
    refused = desk.post(f"{PTS}desk/", {"action": "refund", "redemption": redemption.pk, "reason": ""})
    assert refused.status_code == 400
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.COMPLETED
    response = desk.post(
        f"{PTS}desk/", {"action": "refund", "redemption": redemption.pk, "reason": "券未使用"}, follow=True
    )
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.REFUNDED
    assert Account.objects.get(resident=spent["residents"][0]).balance == 30
    spent["voucher"].refresh_from_db()
    assert spent["voucher"].stock == 5
    assert flashes(response) == [f"Refunded: 20 points back to {MASKED[0]}; the goods are back in stock."]
    again = desk.post(f"{PTS}desk/", {"action": "refund", "redemption": redemption.pk, "reason": "再退"})
    assert again.status_code == 409 and "This redemption was already refunded." in text(again)
    assert Entry.objects.filter(kind=Entry.Kind.REFUND).count() == 1


# --- points: reconciliation and adjustments --------------------------------------------------------------


def test_the_reconciliation_balances(spent):
    desk = console(spent["desk"])
    response = desk.get(f"{PTS}reconciliation/")
    lines = {line.reward.name: line for line in response.context["lines"]}
    voucher = lines["理发券"]
    assert (voucher.restocked, voucher.redeemed, voucher.stock, voucher.units_sold) == (5, 1, 4, 1)
    assert (voucher.points_expected, voucher.points_in_ledger, voucher.balanced) == (20, 20, True)
    assert "Stock and points agree for every reward." in text(response)
    rows = sheet_rows(desk.get(f"{PTS}reconciliation/?format=xlsx"))
    assert rows[0][0] == "Reward" and rows[0][-1] == "Balanced"
    assert sorted(rows[1:]) == sorted(
        [
            ("理发券", "Service voucher", 5, 1, 0, 0, 4, 1, 20, 20, "✓"),
            ("矿泉水", "Drink (vending machine)", 10, 0, 0, 0, 10, 0, 0, 0, "✓"),
        ]
    )


def test_an_adjustment_moves_the_balance_with_a_reason(spent):
    desk = console(spent["desk"])
    first = spent["residents"][0]
    data = {"resident": first.pk, "center": spent["center"].pk, "amount": "-4", "reason": "重复发放更正"}
    response = desk.post(f"{PTS}adjust/", data, follow=True)
    entry = Entry.objects.get(kind=Entry.Kind.ADJUST)
    assert (entry.amount, entry.balance_after, entry.reason, entry.actor_id) == (
        -4,
        6,
        "重复发放更正",
        spent["desk"].pk,
    )
    assert flashes(response) == [f"Resident No. {first.pk} ({MASKED[0]}): -4 points, balance 6."]
    assert [e.pk for e in response.context["recent"]] == [entry.pk]
    too_much = desk.post(f"{PTS}adjust/", {**data, "amount": "-100"})
    assert too_much.status_code == 409 and "Not enough points: 6 available, 100 needed." in text(too_much)
    nobody = desk.post(f"{PTS}adjust/", {**data, "resident": "999999"})
    assert nobody.status_code == 400 and nobody.context["form"].errors["resident"]
    zero = desk.post(f"{PTS}adjust/", {**data, "amount": "0"})
    assert zero.status_code == 400
    assert Entry.objects.filter(kind=Entry.Kind.ADJUST).count() == 1
    assert Account.objects.get(resident=first).balance == 6
    assert StockMove.objects.count() == 3  # two opening stocks and the redemption: untouched
