"""A resident's personal data: the download (``GET /api/v1/me/data`` and the page), the erasure
request (ask, cancel, cooling-off, carried out by the clock) and what erasure leaves behind.

``build_life`` gives a resident a little of everything, through the real services: a profile, a
family member, a verified disability with its certificate and a photo, a rehab session with the
therapist's note, a study-room seat tomorrow, a course place (self and child, the course full with
a neighbour waiting), a volunteer shift, points, a meal ordered for tomorrow, a request with a
photo, and the notices all that sent. ``tests/test_pii_at_rest.py`` uses it too.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone
from PIL import Image

from livingroom.booking import services as booking
from livingroom.booking.models import Booking, RehabNote
from livingroom.core.models import AuditEvent
from livingroom.meals import services as meals
from livingroom.meals.models import Meal, MenuItem
from livingroom.notices.models import Notice
from livingroom.people import services
from livingroom.people.models import (
    ERASED_LABEL,
    ERASED_NAME,
    ApiToken,
    Dependant,
    EligibilityVerification,
    ErasureRequest,
    Resident,
    StaffRole,
    User,
)
from livingroom.people.scopes import staff_scope
from livingroom.people.sms import latest_outbox_message
from livingroom.places.models import OpeningHours, Space
from livingroom.points import services as points
from livingroom.points.models import Account, Entry
from livingroom.programs import services as programs
from livingroom.programs.models import Enrollment, Program
from livingroom.voice import services as voice
from livingroom.voice.models import Photo, Suggestion
from livingroom.volunteering import services as volunteering
from livingroom.volunteering.models import Shift, Signup
from tests import factories as f
from tests.conftest import Api, console_client, resident_api, staff_api

# --- a resident's life, through the services -------------------------------------------------------


def jpeg(color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), color).save(out, format="JPEG")
    return out.getvalue()


def local(days: int, hour: int, minute: int = 0) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_default_timezone())


def sms_login(phone: str) -> User:
    services.sms_code_request(phone=phone, ip="10.1.2.3")
    code = re.search(r"\d{6}", latest_outbox_message(phone).body).group(0)
    return services.resident_login_with_sms(phone=phone, code=code)


@dataclass
class Life:
    resident: Resident
    phone: str
    id_number: str
    name: str
    child: str
    certificate: str
    evidence: str
    rehab_note: str
    suggestion_text: str
    photo: bytes
    seat: Booking
    program: Program
    neighbour: Resident
    shift: Shift
    item: MenuItem
    extra: dict = field(default_factory=dict)

    @property
    def user(self) -> User:
        return self.resident.user

    def clear_values(self) -> dict[str, str]:
        """What must never be stored in clear."""
        return {
            "phone": self.phone,
            "id_number": self.id_number,
            "certificate": self.certificate,
            "evidence_note": self.evidence,
            "rehab_note": self.rehab_note,
        }


@dataclass
class Stage:
    """The center, its desk, its spaces, a course, a volunteer activity and a canteen menu."""

    place: dict
    roles: dict
    center: object
    desk: User
    therapist: User
    study: Space
    rehab: Space
    program: Program
    shift: Shift
    item: MenuItem
    neighbour: Resident

    @property
    def scope(self):
        return staff_scope(self.desk)


def build_stage(place, roles) -> Stage:
    center, community = place["centers"][0], place["communities"][0]
    desk = roles["community"]
    scope = staff_scope(desk)
    for weekday in range(7):
        OpeningHours.objects.create(center=center, weekday=weekday, opens=dt.time(8), closes=dt.time(22))
    study = f.SpaceFactory(center=center, name="自习室", kind=Space.Kind.STUDY, capacity=2, bookable=True)
    booking.booking_rules_set(scope=scope, staff=desk, space_id=study.pk, max_minutes=240)
    booking.space_units_set(scope=scope, staff=desk, space_id=study.pk, seats=2)
    rehab = f.SpaceFactory(center=center, name="康复室", kind=Space.Kind.REHAB, bookable=True)
    booking.booking_rules_set(
        scope=scope, staff=desk, space_id=rehab.pk, audience="disabled", slot_minutes=30, min_minutes=30
    )
    therapist = f.staff_with_role(StaffRole.Role.CENTER_STAFF, center=center)
    booking.space_units_set(scope=scope, staff=desk, space_id=rehab.pk, therapists=[("王治疗师", therapist)])
    classroom = f.SpaceFactory(center=center, name="书画室", kind=Space.Kind.ACTIVITY, capacity=20)
    proposed = programs.program_propose(
        actor=desk,
        scope=scope,
        draft=programs.ProgramDraft(
            center_id=center.pk,
            title="亲子阅读",
            category=Program.Category.CHILDCARE,
            capacity=2,
            waitlist_size=3,
            enroll_opens_at=timezone.now() - dt.timedelta(minutes=5),
            fair_seconds=0,
            sessions=programs.weekly_sessions(
                space_id=classroom.pk, first_starts_at=local(3, 19), minutes=60, weeks=2
            ),
        ),
    )
    program = programs.program_approve(scope=scope, staff=desk, program_id=proposed.pk)
    activity = volunteering.activity_create(
        staff=desk,
        scope=scope,
        draft=volunteering.ActivityDraft(
            center_id=center.pk,
            title="社区环境清洁",
            shifts=[
                volunteering.ShiftDraft(
                    role="清洁员", place="客厅门口", starts_at=local(2, 9), ends_at=local(2, 11), needed=3
                )
            ],
        ),
    )
    canteen_space = f.SpaceFactory(center=center, name="长者饭堂", kind=Space.Kind.CANTEEN)
    canteen = meals.canteen_create(scope=scope, actor=desk, space_id=canteen_space.pk, name="固戍社区饭堂")
    set_meal = meals.set_meal_create(
        scope=scope,
        actor=desk,
        canteen_id=canteen.pk,
        draft=meals.SetMealDraft(name="吃得饱套餐", cost_fen=1200, list_price_fen=1800),
    )
    menu = meals.menu_publish(
        scope=scope,
        actor=desk,
        canteen_id=canteen.pk,
        day=timezone.localdate() + dt.timedelta(days=1),
        period="lunch",
        serves_from=dt.time(11),
        serves_until=dt.time(13, 30),
        items=[meals.MenuLine(set_meal_id=set_meal.pk, portions=10)],
    )
    neighbour = f.ResidentFactory(home_community=community, real_name="赵邻居")
    return Stage(
        place=place,
        roles=roles,
        center=center,
        desk=desk,
        therapist=therapist,
        study=study,
        rehab=rehab,
        program=program,
        shift=activity.shifts.get(),
        item=menu.items.get(),
        neighbour=neighbour,
    )


_lives = iter(range(10, 99))


def build_life(stage: Stage, *, name: str = "李晓梅", child: str = "王小明") -> Life:
    n = next(_lives)
    phone = f"139{n:02d}87{n:02d}65{n % 10}"[:11]
    id_number = f.make_id_number(birth=dt.date(1958, 3, n % 28 + 1), seq=n)
    certificate = f"4403061958{n:02d}D2023"
    evidence = f"肢体二级残疾，残疾证原件已核验（{n}）"
    rehab_note = f"左膝术后第{n}周，屈曲九十度，继续股四头肌训练"
    suggestion_text = f"希望在康复室加一个扶手，我腿脚不便（{n}）"
    photo = jpeg("blue")
    user = sms_login(phone)
    services.resident_profile_update(
        user=user,
        real_name=name,
        id_number=id_number,
        home_community_id=stage.place["communities"][0].pk,
        consent=True,
    )
    resident = Resident.objects.get(user=user)
    dependant = services.dependant_add(
        user=user, name=child, birth_date=dt.date(2019, 5, 1), relation="child"
    )
    services.eligibility_verify(
        scope=stage.scope,
        actor=stage.desk,
        resident=resident,
        kind="disabled",
        credential_number=certificate,
        evidence_note=evidence,
        credential_photo=photo,
    )
    rehab_unit = stage.rehab.resources.get(kind="therapist")
    rehab_booking = booking.booking_create(
        user=user, resource_id=rehab_unit.pk, starts_at=local(1, 9 + n % 8), ends_at=local(1, 9 + n % 8, 30)
    )
    booking.rehab_note_add(actor=stage.therapist, booking_id=rehab_booking.pk, text=rehab_note)
    seat = booking.booking_create(
        user=user, space_id=stage.study.pk, starts_at=local(1, 14), ends_at=local(1, 15), purpose="复习考试"
    )
    programs.enrollment_create(user=user, program_id=stage.program.pk, dependant_ids=[dependant.pk])
    volunteering.volunteer_register(user=user, consent=True, skills="会手语")
    volunteering.signup_create(user=user, shift_id=stage.shift.pk)
    points.points_award(
        resident=resident,
        community=stage.place["communities"][0],
        center=stage.center,
        amount=15,
        reason="志愿服务",
        key=f"test:{resident.pk}",
    )
    meals.meal_order(resident=resident, menu_item_id=stage.item.pk)
    voice.suggestion_submit(
        user=user,
        draft=voice.SuggestionDraft(
            center_id=stage.center.pk,
            kind="suggestion",
            category="facilities",
            text=suggestion_text,
            photos=[jpeg("red")],
        ),
    )
    resident.refresh_from_db()
    return Life(
        resident=resident,
        phone=phone,
        id_number=id_number,
        name=name,
        child=child,
        certificate=certificate,
        evidence=evidence,
        rehab_note=rehab_note,
        suggestion_text=suggestion_text,
        photo=photo,
        seat=seat,
        program=stage.program,
        neighbour=stage.neighbour,
        shift=stage.shift,
        item=stage.item,
    )


def raw_dump() -> tuple[str, int]:
    """Every row of every table, as the database holds it (a raw cursor, no model field decodes
    anything), in one text; and the number of rows."""
    parts: list[str] = []
    rows = 0
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - the database's own names
            for row in cursor.fetchall():
                rows += 1
                for value in row:
                    if isinstance(value, memoryview | bytes | bytearray):
                        parts.append(bytes(value).decode("latin-1"))
                    else:
                        parts.append(str(value))
    return "\n".join(parts), rows


@pytest.fixture
def stage(place, roles) -> Stage:
    return build_stage(place, roles)


@pytest.fixture
def life(stage) -> Life:
    return build_life(stage)


def session_of(life: Life) -> Client:
    """A browser signed in by SMS (the one-code-a-minute limit forgotten first)."""
    cache.clear()
    client = Client()
    assert client.post("/login/", {"phone": life.phone}).status_code == 302
    code = re.search(r"\d{6}", latest_outbox_message(life.phone).body).group(0)
    assert client.post("/login/code/", {"code": code}).status_code == 302
    return client


# --- the download ----------------------------------------------------------------------------------

SECTIONS = {
    "account",
    "profile",
    "people",
    "booking",
    "programs",
    "volunteering",
    "points",
    "meals",
    "voice",
    "notices",
}


@pytest.mark.django_db
def test_download_holds_every_section_and_nothing_of_another_resident(stage, life):
    other = build_life(stage, name="周建华", child="周小宝")
    response = resident_api(life.user).get("/me/data")
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= SECTIONS
    assert body["account"]["phone"] == life.phone
    assert body["profile"]["real_name"] == life.name
    assert body["profile"]["id_number"] == life.id_number
    assert [d["name"] for d in body["people"]["dependants"]] == [life.child]
    [verification] = body["people"]["verifications"]
    assert (verification["credential_number"], verification["evidence_note"]) == (
        life.certificate,
        life.evidence,
    )
    assert verification["has_photo"] is True
    assert body["people"]["consents"][0]["purpose"] == services.CONSENT_PURPOSE
    assert {b["space"] for b in body["booking"]["bookings"]} == {"自习室", "康复室"}
    assert [n["text"] for n in body["booking"]["rehab_notes"]] == [life.rehab_note]
    assert sorted(e["participant"] for e in body["programs"]["enrollments"]) == ["self", life.child]
    assert body["volunteering"]["volunteer"]["skills"] == "会手语"
    assert [s["status"] for s in body["volunteering"]["signups"]] == ["signed_up"]
    assert [e["amount"] for e in body["points"]["entries"]] == [15]
    assert [m["status"] for m in body["meals"]["meals"]] == ["ordered"]
    assert [s["text"] for s in body["voice"]["suggestions"]] == [life.suggestion_text]
    assert body["notices"]["notices"], "the booking and course notices"
    text = json.dumps(body, ensure_ascii=False)
    for value in (*other.clear_values().values(), other.name, other.child, other.suggestion_text):
        assert value not in text
    event = AuditEvent.objects.get(action="people.personal_data.exported")
    assert (event.actor, event.object_id) == (life.user, str(life.resident.pk))
    assert set(event.data["sections"]) == SECTIONS


@pytest.mark.django_db
def test_download_page_serves_the_same_document_as_a_file(life):
    client = session_of(life)
    profile = client.get("/me/profile/")
    assert 'href="/me/data/"' in profile.content.decode()
    assert 'href="/me/erasure/"' in profile.content.decode()
    response = client.get("/me/data/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="livingroom-my-data-')
    assert response["Cache-Control"] == "private, no-store"
    body = json.loads(response.content)
    assert set(body) >= SECTIONS and body["profile"]["id_number"] == life.id_number
    assert AuditEvent.objects.filter(action="people.personal_data.exported", actor=life.user).count() == 1


@pytest.mark.django_db
def test_a_user_without_a_profile_downloads_the_account_only():
    user = sms_login("13955550001")
    body = resident_api(user).get("/me/data").json()
    assert body["profile"] is None and body["account"]["phone"] == "13955550001"
    assert "booking" not in body


# --- asking, cancelling, the cooling-off ----------------------------------------------------------


@pytest.mark.django_db
def test_erasure_is_asked_refused_twice_and_cancelled(life):
    api = resident_api(life.user)
    before = timezone.now()
    asked = api.post("/me/erasure")
    assert asked.status_code == 201
    body = asked.json()
    assert body["status"] == "pending" and body["done_at"] is None
    request = ErasureRequest.objects.get()
    assert request.due_at - request.requested_at == dt.timedelta(days=7)
    assert before <= request.requested_at <= timezone.now()
    again = api.post("/me/erasure")
    assert (again.status_code, again.json()["code"]) == (409, "erasure_pending")
    assert ErasureRequest.objects.count() == 1
    assert api.get("/me/erasure").json()["id"] == request.pk
    cancelled = api.send("DELETE", "/me/erasure")
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert (api.send("DELETE", "/me/erasure").json()["code"]) == "erasure_not_found"
    assert api.get("/me/erasure").status_code == 404
    assert [
        e.action for e in AuditEvent.objects.filter(action__startswith="people.erasure.").order_by("id")
    ] == [
        "people.erasure.requested",
        "people.erasure.cancelled",
    ]
    # A cancelled request is never carried out; a new one may be asked.
    assert services.erasure_tick(now=timezone.now() + dt.timedelta(days=8)).erased == 0
    assert api.post("/me/erasure").status_code == 201
    Resident.objects.get(pk=life.resident.pk, erased_at__isnull=True)


@pytest.mark.django_db
def test_nothing_happens_before_the_cooling_off_ends_and_then_it_cannot_be_cancelled(life):
    request = services.erasure_request(user=life.user)
    assert services.erasure_tick(now=request.due_at - dt.timedelta(seconds=1)).erased == 0
    assert Resident.objects.get(pk=life.resident.pk).real_name == life.name
    with pytest.raises(Exception) as refused:
        services.erasure_cancel(user=life.user, now=request.due_at)
    assert refused.value.code == "erasure_in_progress"
    assert services.erasure_tick(now=request.due_at).erased == 1
    assert services.erasure_tick(now=request.due_at + dt.timedelta(minutes=1)).erased == 0


@pytest.mark.django_db
def test_the_erasure_page_asks_for_a_confirmation_then_offers_to_cancel(life):
    client = session_of(life)
    page = client.get("/me/erasure/").content.decode()
    assert "7" in page and 'name="confirm"' in page
    unconfirmed = client.post("/me/erasure/", {"action": "request"})
    assert unconfirmed.status_code == 200 and not ErasureRequest.objects.exists()
    assert client.post("/me/erasure/", {"action": "request", "confirm": "on"}).status_code == 302
    request = ErasureRequest.objects.get(status="pending")
    page = client.get("/me/erasure/").content.decode()
    assert 'value="cancel"' in page
    assert client.post("/me/erasure/", {"action": "cancel"}).status_code == 302
    request.refresh_from_db()
    assert request.status == "cancelled"


@pytest.mark.django_db
def test_staff_accounts_are_not_erased_here(roles):
    worker = roles["community"]
    worker.set_phone("13955550002")
    worker.save()
    raw, _ = services.api_token_issue(user=worker, kind=ApiToken.Kind.RESIDENT)
    refused = Api(raw).post("/me/erasure")
    assert (refused.status_code, refused.json()["code"]) == (409, "erasure_staff_account")
    assert not ErasureRequest.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/me/data"), ("GET", "/me/erasure"), ("POST", "/me/erasure"), ("DELETE", "/me/erasure")],
)
def test_anonymous_and_staff_tokens_are_refused(roles, method, path):
    for api in (Api(), staff_api(roles["district"]), staff_api(roles["community"])):
        response = api.get(path) if method == "GET" else api.send(method, path)
        assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
    assert not ErasureRequest.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="people.personal_data").exists()


# --- carried out ------------------------------------------------------------------------------------


def ledger_sums() -> list[tuple[int, int, int]]:
    return [
        (a.pk, a.balance, sum(e.amount for e in Entry.objects.filter(account=a)))
        for a in Account.objects.order_by("pk")
    ]


@pytest.mark.django_db
def test_erasure_carried_out(stage, life):
    other = build_life(stage, name="周建华", child="周小宝")
    staff_before = console_client(stage.desk)
    client = session_of(life)
    token = resident_api(life.user)
    entries = Entry.objects.count()
    sums_before = ledger_sums()
    program = Program.objects.get(pk=life.program.pk)
    # The course is full (李晓梅 and her son); 周建华 and his son wait.
    assert (program.seats_taken, program.waitlist_count) == (2, 2)
    request = services.erasure_request(user=life.user)
    assert services.erasure_tick(now=request.due_at + dt.timedelta(seconds=1)).erased == 1

    request.refresh_from_db()
    assert request.status == "done" and request.done_at is not None
    resident = Resident.objects.get(pk=life.resident.pk)
    assert resident.erased_at is not None
    assert (resident.real_name, resident.id_number, resident.name_pinyin) == (ERASED_NAME, "", "")
    assert resident.birth_date == dt.date(1958, 1, 1)
    assert resident.masked_name == str(ERASED_LABEL)
    user = User.objects.get(pk=life.user.pk)
    assert (user.is_active, user.phone, user.phone_hash, user.phone_tail) == (False, "", None, "")
    assert not user.has_usable_password()
    assert not EligibilityVerification.objects.filter(resident=resident).exists()
    # The son is named by an enrolment (kept for the course's record): anonymised, not deleted.
    assert list(Dependant.objects.filter(resident=resident).values_list("name", flat=True)) == [ERASED_NAME]
    assert ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() == 0

    # Seats released: the study-room seat, the two course places (周建华's family moves up), the
    # volunteer shift, the meal portion.
    assert Booking.objects.get(pk=life.seat.pk).status == "cancelled"
    assert Booking.objects.filter(resident=resident, status__in=Booking.ACTIVE).count() == 0
    assert Booking.objects.filter(resident=resident).exclude(purpose="").count() == 0
    program.refresh_from_db()
    assert (program.seats_taken, program.waitlist_count) == (2, 0)
    assert sorted(
        Enrollment.objects.filter(program=program, status="confirmed").values_list("resident", flat=True)
    ) == [
        other.resident.pk,
        other.resident.pk,
    ]
    assert set(Enrollment.objects.filter(resident=resident).values_list("status", flat=True)) == {"cancelled"}
    shift = Shift.objects.get(pk=life.shift.pk)
    assert shift.taken == 1
    assert Signup.objects.get(volunteer__resident=resident).status == "cancelled"
    assert Meal.objects.get(resident=resident).status == "cancelled"
    assert MenuItem.objects.get(pk=life.item.pk).sold == 1  # 周建华's
    # The request stays (the center's rates count it), without the resident's words or photo.
    suggestion = Suggestion.objects.get(resident=resident)
    assert suggestion.text != life.suggestion_text
    assert not Photo.objects.filter(suggestion=suggestion).exists()
    assert Photo.objects.filter(suggestion__resident=other.resident).count() == 1
    assert not Notice.objects.filter(user=user).exists()
    # Health data the therapist keeps, encrypted (docs/personal-data.md).
    assert RehabNote.objects.filter(booking__resident=resident).count() == 1

    # Ledgers keep every entry, pointing at the anonymised person, and still add up.
    assert Entry.objects.count() == entries
    assert Entry.objects.filter(account__resident=resident).count() == 1
    assert ledger_sums() == sums_before
    assert all(balance == total for _, balance, total in ledger_sums())

    # Nothing of the person is left in clear in the database; the other resident is untouched.
    dump, _rows = raw_dump()
    for label, value in {**life.clear_values(), "name": life.name, "child": life.child}.items():
        assert value not in dump, label
    assert life.suggestion_text not in dump
    assert other.name in dump and other.suggestion_text in dump
    assert Resident.objects.get(pk=other.resident.pk).id_number == other.id_number

    # The account cannot be used: the token and the browser session are dead, and the phone signs
    # in as a new, empty account.
    assert token.get("/me").status_code == 401
    assert client.get("/me/profile/").status_code == 302
    cache.clear()
    again = sms_login(life.phone)
    assert again.pk != user.pk and not Resident.objects.filter(user=again).exists()

    # Staff see the anonymised person and nothing else changes for them.
    page = staff_before.get(f"/console/residents/{resident.pk}/").content.decode()
    assert str(ERASED_LABEL) in page and life.name not in page
    found = staff_api(stage.desk).get(f"/staff/residents/{resident.pk}").json()
    assert (found["name_masked"], found["id_number_masked"], found["phone_masked"]) == (
        str(ERASED_LABEL),
        "",
        "",
    )
    done = AuditEvent.objects.get(action="people.erasure.done")
    assert done.data["booking"]["bookings_cancelled"] == 2
    assert done.data["programs"]["enrollments_ended"] == 2
    assert done.data["people"]["dependants_anonymised"] == 1


@pytest.mark.django_db
def test_erasure_runs_again_after_a_failed_pass(stage, life, monkeypatch):
    """A hook that fails leaves the request pending; the next pass finishes it."""
    from livingroom.people import personal_data

    request = services.erasure_request(user=life.user)
    section = next(s for s in personal_data.sections() if s.name == "voice")

    def broken(resident):
        raise RuntimeError("the database went away")

    monkeypatch.setitem(
        personal_data._sections, "voice", personal_data.Section("voice", section.export, broken, 50)
    )
    with pytest.raises(RuntimeError):
        services.erasure_tick(now=request.due_at)
    request.refresh_from_db()
    assert request.status == "pending"
    assert Booking.objects.get(pk=life.seat.pk).status == "cancelled"  # the booking hook ran
    monkeypatch.setitem(personal_data._sections, "voice", section)
    assert services.erasure_tick(now=request.due_at).erased == 1
    assert Resident.objects.get(pk=life.resident.pk).real_name == ERASED_NAME
