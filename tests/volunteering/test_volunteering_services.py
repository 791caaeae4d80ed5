"""The volunteering services, each rule with its exact values and the side effect that must not
happen: a refused registration leaves no volunteer, a refused sign-up takes no place, a refused
check-in consumes no pass, hours confirmed twice award nothing more, a correction moves points by
the rule (never below a zero balance), a certificate says what the records say."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.utils import timezone

from livingroom.core.models import AuditEvent
from livingroom.notices.models import Notice
from livingroom.people import errors as people_errors
from livingroom.people.models import PassUse
from livingroom.people.scopes import staff_scope
from livingroom.places.models import Device
from livingroom.points import services as points
from livingroom.points.models import Account, Entry
from livingroom.volunteering import errors, selectors, services
from livingroom.volunteering.models import (
    MAX_NEEDED,
    Activity,
    Certificate,
    ServiceRecord,
    Shift,
    Signup,
    Volunteer,
    star_level,
)
from tests import factories as f
from tests.invariants import nothing_changes
from tests.volunteering.conftest import activity, at, pass_of

pytestmark = pytest.mark.django_db

ShiftDraft = services.ShiftDraft


# --- helpers --------------------------------------------------------------------------------------


def sign(volunteer: Volunteer, shift: Shift, now: dt.datetime | None = None) -> Signup:
    return services.signup_create(user=volunteer.resident.user, shift_id=shift.pk, now=now or at(0, 10))


def kiosk(
    world, volunteer: Volunteer, shift: Shift, direction: str, now: dt.datetime, token: str | None = None
):
    return services.check_at_device(
        device=world["kiosk"][0],
        shift_id=shift.pk,
        token=token or pass_of(volunteer.resident),
        direction=direction,
        now=now,
    )


def confirm(world, shift: Shift, lines=None, now: dt.datetime | None = None, staff=None):
    staff = staff or world["desk"]
    return services.hours_confirm(
        staff=staff, scope=staff_scope(staff), shift_id=shift.pk, lines=lines, now=now or at(1, 13)
    )


def served(world, volunteer: Volunteer, shift: Shift, check_in=(8, 50), check_out=(11, 30)) -> Signup:
    """Signed up today, checked in and out tomorrow at the kiosk."""
    signup = sign(volunteer, shift)
    kiosk(world, volunteer, shift, "in", at(1, *check_in))
    if check_out is not None:
        kiosk(world, volunteer, shift, "out", at(1, *check_out))
    return signup


def neighbours(world, n: int, **kw) -> list[Volunteer]:
    return [
        services.volunteer_register(
            user=f.ResidentFactory(home_community=world["community"], **kw).user, consent=True
        )
        for _ in range(n)
    ]


def balance(resident) -> int:
    account = Account.objects.filter(resident=resident).first()
    return 0 if account is None else account.balance


def new_activity(world, **overrides) -> tuple[Activity, Shift]:
    made = activity(world, **overrides)
    return made, made.shifts.get()


# --- registration ---------------------------------------------------------------------------------


@pytest.mark.parametrize("consent", [False, None, "yes", 1])
def test_registration_needs_consent_and_leaves_no_row_without(vworld, consent):
    resident = vworld["residents"][2]
    with nothing_changes(), pytest.raises(errors.ConsentRequired) as caught:
        services.volunteer_register(user=resident.user, consent=consent)
    assert (caught.value.code, caught.value.field, caught.value.status) == (
        "consent_required",
        "consent",
        400,
    )
    assert not Volunteer.objects.filter(resident=resident).exists()


def test_registration_records_consent_and_numbers_volunteers(vworld):
    resident = vworld["residents"][2]
    when = at(0, 8)
    volunteer = services.volunteer_register(
        user=resident.user, consent=True, skills="  急救   摄影 ", now=when
    )
    volunteer.refresh_from_db()
    assert volunteer.number == f"V{timezone.localdate(when).year}{volunteer.pk:06d}"
    assert re.fullmatch(r"V\d{4}\d{6}", volunteer.number)
    assert (volunteer.consent_version, volunteer.consent_at, volunteer.registered_at) == (
        settings.LIVINGROOM_VOLUNTEER_CONSENT_VERSION,
        when,
        when,
    )
    assert (volunteer.skills, volunteer.status, volunteer.minutes_total) == ("急救 摄影", "active", 0)
    # Numbers are distinct and follow the row order.
    numbers = [v.number for v in Volunteer.objects.order_by("pk")]
    assert len(set(numbers)) == 3 and numbers == sorted(numbers)
    assert (
        AuditEvent.objects.filter(
            action="volunteering.volunteer.registered", object_id=str(volunteer.pk)
        ).count()
        == 1
    )
    # Twice: refused, nothing written.
    with nothing_changes(), pytest.raises(errors.AlreadyVolunteer):
        services.volunteer_register(user=resident.user, consent=True)


def test_registration_needs_a_resident_profile(vworld):
    staff_user = vworld["desk"]
    with nothing_changes(), pytest.raises(people_errors.ProfileIncomplete):
        services.volunteer_register(user=staff_user, consent=True)


def test_suspending_a_volunteer_needs_a_reason_and_a_desk_of_their_community(vworld, roles):
    volunteer = vworld["volunteers"][0]
    with nothing_changes(), pytest.raises(errors.ReasonRequired):
        services.volunteer_set_status(
            staff=vworld["desk"], scope=vworld["scope"], volunteer_id=volunteer.pk, active=False, reason="  "
        )
    other = roles["other_community"]
    with nothing_changes(), pytest.raises(errors.NotVolunteer) as caught:
        services.volunteer_set_status(
            staff=other, scope=staff_scope(other), volunteer_id=volunteer.pk, active=False, reason="违规"
        )
    assert (caught.value.code, caught.value.status) == ("volunteer_not_found", 404)
    services.volunteer_set_status(
        staff=vworld["desk"],
        scope=vworld["scope"],
        volunteer_id=volunteer.pk,
        active=False,
        reason="多次缺席",
    )
    volunteer.refresh_from_db()
    assert volunteer.status == Volunteer.Status.SUSPENDED


# --- activities -----------------------------------------------------------------------------------


def test_an_activity_is_published_with_its_shifts_and_rule(vworld):
    made, shift = new_activity(vworld, points_per_hour=3, bonus_points=5, min_age=16)
    made.refresh_from_db()
    assert (made.status, made.center, made.organization, made.created_by) == (
        "published",
        vworld["center"],
        None,
        vworld["desk"],
    )
    assert (made.points_per_hour, made.bonus_points, made.min_age, made.organizer_name) == (
        3,
        5,
        16,
        vworld["center"].name,
    )
    assert (
        shift.role,
        shift.place,
        shift.starts_at,
        shift.ends_at,
        shift.needed,
        shift.taken,
        shift.status,
    ) == (
        "清洁员",
        "固戍客厅门口",
        at(1, 9),
        at(1, 12),
        2,
        0,
        "scheduled",
    )
    assert shift.minutes == 180 and shift.places_left == 2
    draft, _ = new_activity(vworld, title="草稿活动", publish=False)
    assert (draft.status, draft.published_at) == ("draft", None)


def test_staff_of_another_community_get_404_and_nothing_is_written(vworld, roles):
    for who in ("other_community", "center"):
        staff = roles[who]
        with nothing_changes(), pytest.raises(errors.ActivityNotFound) as caught:
            services.activity_create(
                staff=staff,
                scope=staff_scope(staff),
                draft=services.ActivityDraft(
                    center_id=vworld["center"].pk,
                    title="越界活动",
                    shifts=[ShiftDraft("清洁员", "门口", at(1, 9), at(1, 12), 2)],
                ),
            )
        assert (caught.value.code, caught.value.status) == ("center_not_found", 404)


def test_a_street_official_sees_the_center_but_does_not_organise_there(vworld, roles):
    staff = roles["street"]
    with nothing_changes(), pytest.raises(errors.NotOrganizerHere) as caught:
        services.activity_create(
            staff=staff,
            scope=staff_scope(staff),
            draft=services.ActivityDraft(
                center_id=vworld["center"].pk,
                title="街道活动",
                shifts=[ShiftDraft("清洁员", "门口", at(1, 9), at(1, 12), 2)],
            ),
        )
    assert caught.value.status == 403


def test_a_partner_organises_only_at_its_own_centers_in_its_own_name(vworld, place, roles):
    partner = roles["partner"]
    scope = staff_scope(partner)
    org = partner.staff_roles.get().organization
    own_center, other_center = place["centers"][2], vworld["center"]

    def draft(center_id, organization_id):
        return services.ActivityDraft(
            center_id=center_id,
            organization_id=organization_id,
            title="青少年陪读",
            shifts=[ShiftDraft("陪读", "阅览室", at(1, 14), at(1, 16), 3)],
        )

    made = services.activity_create(staff=partner, scope=scope, draft=draft(own_center.pk, org.pk))
    assert (made.center, made.organization, made.organizer_name) == (own_center, org, org.name)
    with nothing_changes(), pytest.raises(errors.ActivityNotFound) as caught:
        services.activity_create(staff=partner, scope=scope, draft=draft(other_center.pk, org.pk))
    assert caught.value.code == "center_not_found"
    stranger = f.OrganizationFactory()
    stranger.centers.set([own_center])
    with nothing_changes(), pytest.raises(errors.ActivityNotFound) as caught:
        services.activity_create(staff=partner, scope=scope, draft=draft(own_center.pk, stranger.pk))
    assert caught.value.code == "organization_not_found"
    with nothing_changes(), pytest.raises(errors.NotOrganizerHere):
        services.activity_create(staff=partner, scope=scope, draft=draft(own_center.pk, None))
    # An organisation not working at that center cannot be named there, even by its desk.
    with nothing_changes(), pytest.raises(errors.ActivityNotFound) as caught:
        services.activity_create(
            staff=vworld["desk"], scope=vworld["scope"], draft=draft(other_center.pk, org.pk)
        )
    assert caught.value.code == "organization_not_found"


def _shift(**kw) -> ShiftDraft:
    values = dict(role="清洁员", place="门口", starts_at=at(1, 9), ends_at=at(1, 12), needed=2)
    values.update(kw)
    return ShiftDraft(**values)


NAIVE = dt.datetime.combine(timezone.localdate() + dt.timedelta(days=1), dt.time(9))


@pytest.mark.parametrize(
    ("shift", "field"),
    [
        (_shift(role="  "), "shifts.0.role"),
        (_shift(place=""), "shifts.0.place"),
        (_shift(starts_at=NAIVE, ends_at=NAIVE + dt.timedelta(hours=2)), "shifts.0.starts_at"),
        (_shift(ends_at=at(1, 9)), "shifts.0.ends_at"),
        (_shift(ends_at=at(1, 8)), "shifts.0.ends_at"),
        (_shift(starts_at=at(1, 8), ends_at=at(1, 20, 1)), "shifts.0.ends_at"),
        (_shift(starts_at=at(-1, 9), ends_at=at(-1, 12)), "shifts.0.starts_at"),
        (_shift(starts_at=at(367, 9), ends_at=at(367, 12)), "shifts.0.starts_at"),
        (_shift(needed=0), "shifts.0.needed"),
        (_shift(needed=MAX_NEEDED + 1), "shifts.0.needed"),
        (_shift(needed=-3), "shifts.0.needed"),
    ],
)
def test_shift_limits(vworld, shift, field):
    with nothing_changes(), pytest.raises(errors.ShiftInvalid) as caught:
        activity(vworld, shifts=[_shift(starts_at=at(2, 9), ends_at=at(2, 10)), shift])
    assert (caught.value.code, caught.value.status) == ("shift_invalid", 400)
    assert caught.value.field == field.replace("shifts.0", "shifts.1")


def test_a_twelve_hour_shift_of_five_hundred_is_the_most(vworld):
    _, shift = new_activity(vworld, shifts=[_shift(starts_at=at(1, 8), ends_at=at(1, 20), needed=MAX_NEEDED)])
    assert (shift.minutes, shift.needed) == (720, 500)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "   "}, "title"),
        ({"audience": "everyone"}, "audience"),
        ({"min_age": 101}, "min_age"),
        ({"min_age": -1}, "min_age"),
        ({"points_per_hour": 101}, "points_per_hour"),
        ({"points_per_hour": -1}, "points_per_hour"),
        ({"bonus_points": 1001}, "bonus_points"),
        ({"bonus_points": -5}, "bonus_points"),
        ({"shifts": []}, "shifts"),
    ],
)
def test_activity_limits(vworld, overrides, field):
    if overrides.get("shifts") == []:
        draft = services.ActivityDraft(center_id=vworld["center"].pk, title="空", shifts=[])
        call = lambda: services.activity_create(staff=vworld["desk"], scope=vworld["scope"], draft=draft)  # noqa: E731
    else:
        call = lambda: activity(vworld, **overrides)  # noqa: E731
    with nothing_changes(), pytest.raises(errors.ActivityInvalid) as caught:
        call()
    assert (caught.value.code, caught.value.field) == ("activity_invalid", field)


def test_sixty_one_shifts_are_too_many(vworld):
    shifts = [_shift(starts_at=at(1 + i, 9), ends_at=at(1 + i, 10)) for i in range(services.MAX_SHIFTS + 1)]
    with nothing_changes(), pytest.raises(errors.ActivityInvalid) as caught:
        activity(vworld, shifts=shifts)
    assert caught.value.field == "shifts"
    made = activity(vworld, shifts=shifts[:-1])
    assert made.shifts.count() == services.MAX_SHIFTS


def test_the_points_rule_is_bounded(vworld):
    made, _ = new_activity(vworld, points_per_hour=100, bonus_points=1000)
    assert made.points_for(720) == 1200 + 1000
    assert made.points_for(59) == 98 + 1000


# --- sign-ups -------------------------------------------------------------------------------------


def test_signing_up_takes_a_place_until_the_shift_is_full(vworld):
    _, shift = new_activity(vworld)
    a, b = vworld["volunteers"]
    (c,) = neighbours(vworld, 1)
    first = sign(a, shift)
    assert (first.status, first.volunteer, first.created_at) == ("signed_up", a, at(0, 10))
    sign(b, shift)
    shift.refresh_from_db()
    assert (shift.taken, shift.places_left) == (2, 0)
    assert Notice.objects.filter(kind="volunteering.signed_up").count() == 2
    with nothing_changes(), pytest.raises(errors.ShiftFull) as caught:
        sign(c, shift)
    assert (caught.value.code, caught.value.status) == ("shift_full", 409)


def test_signing_up_twice(vworld):
    _, shift = new_activity(vworld)
    volunteer = vworld["volunteers"][0]
    sign(volunteer, shift)
    with nothing_changes(), pytest.raises(errors.AlreadySignedUp) as caught:
        sign(volunteer, shift)
    assert caught.value.code == "already_signed_up"
    # Still "already signed up" (not "full") once the shift is full.
    sign(vworld["volunteers"][1], shift)
    with nothing_changes(), pytest.raises(errors.AlreadySignedUp) as caught:
        sign(volunteer, shift)
    assert caught.value.code == "already_signed_up"


def test_overlapping_shifts_are_refused_adjacent_ones_are_not(vworld):
    _, morning = new_activity(vworld)
    _, overlapping = new_activity(
        vworld, title="敬老院陪伴", shifts=[_shift(starts_at=at(1, 11), ends_at=at(1, 13))]
    )
    _, after = new_activity(vworld, title="图书整理", shifts=[_shift(starts_at=at(1, 12), ends_at=at(1, 14))])
    volunteer = vworld["volunteers"][0]
    sign(volunteer, morning)
    with nothing_changes(), pytest.raises(errors.AlreadySignedUp) as caught:
        sign(volunteer, overlapping)
    assert caught.value.code == "shift_overlaps"
    assert "社区环境清洁" in caught.value.message
    assert sign(volunteer, after).status == "signed_up"


def test_a_started_shift_takes_no_sign_up(vworld):
    _, shift = new_activity(vworld)
    with nothing_changes(), pytest.raises(errors.ShiftStarted) as caught:
        sign(vworld["volunteers"][0], shift, now=at(1, 9))
    assert (caught.value.code, caught.value.status) == ("shift_started", 409)
    assert sign(vworld["volunteers"][0], shift, now=at(1, 8, 59)).status == "signed_up"


def test_a_cancelled_activity_or_a_draft(vworld):
    made, shift = new_activity(vworld)
    services.activity_cancel(staff=vworld["desk"], scope=vworld["scope"], activity_id=made.pk, reason="台风")
    with nothing_changes(), pytest.raises(errors.ShiftCancelled) as caught:
        sign(vworld["volunteers"][0], shift)
    assert caught.value.code == "shift_cancelled"
    _, drafted = new_activity(vworld, title="草稿", publish=False)
    with nothing_changes(), pytest.raises(errors.ShiftNotFound) as caught:
        sign(vworld["volunteers"][0], drafted)
    assert (caught.value.code, caught.value.status) == ("shift_not_found", 404)
    with nothing_changes(), pytest.raises(errors.ShiftNotFound):
        services.signup_create(user=vworld["volunteers"][0].resident.user, shift_id=10**9, now=at(0, 10))


def test_cancelling_an_activity_frees_its_places_and_tells_the_volunteers(vworld):
    made, shift = new_activity(vworld)
    signups = [sign(v, shift) for v in vworld["volunteers"]]
    services.activity_cancel(
        staff=vworld["desk"], scope=vworld["scope"], activity_id=made.pk, reason="台风", now=at(0, 12)
    )
    shift.refresh_from_db()
    assert (shift.status, shift.taken) == ("cancelled", 0)
    assert {s.status for s in Signup.objects.filter(pk__in=[s.pk for s in signups])} == {"cancelled"}
    assert Notice.objects.filter(kind="volunteering.shift_cancelled").count() == 2
    with nothing_changes(), pytest.raises(errors.ActivityNotOpen):
        services.activity_cancel(
            staff=vworld["desk"], scope=vworld["scope"], activity_id=made.pk, reason="又一次"
        )


def test_the_audience_community_and_minimum_age(vworld):
    _, local = new_activity(vworld, audience=Activity.Audience.COMMUNITY)
    outsider = services.volunteer_register(user=vworld["outsider"].user, consent=True)
    with nothing_changes(), pytest.raises(errors.NotInAudience) as caught:
        sign(outsider, local)
    assert (caught.value.code, caught.value.status) == ("not_in_audience", 403)
    assert vworld["community"].name in caught.value.message
    assert sign(vworld["volunteers"][0], local).status == "signed_up"
    # Age is judged on the day of the shift.
    shift_day = timezone.localdate(at(1, 9))
    eighteen_tomorrow = shift_day.replace(year=shift_day.year - 18)
    (young,) = neighbours(
        vworld, 1, id_number=f.make_id_number(birth=eighteen_tomorrow + dt.timedelta(days=1))
    )
    (just,) = neighbours(vworld, 1, id_number=f.make_id_number(birth=eighteen_tomorrow))
    _, adults = new_activity(vworld, title="献血引导", min_age=18, shifts=[_shift(needed=5)])
    with nothing_changes(), pytest.raises(errors.NotInAudience) as caught:
        sign(young, adults)
    assert "18" in caught.value.message
    assert sign(just, adults).status == "signed_up"


def test_a_suspended_volunteer_or_a_resident_who_is_not_one(vworld):
    _, shift = new_activity(vworld)
    volunteer = vworld["volunteers"][0]
    services.volunteer_set_status(
        staff=vworld["desk"],
        scope=vworld["scope"],
        volunteer_id=volunteer.pk,
        active=False,
        reason="多次缺席",
    )
    with nothing_changes(), pytest.raises(errors.VolunteerSuspended) as caught:
        sign(volunteer, shift)
    assert (caught.value.code, caught.value.status) == ("volunteer_suspended", 403)
    with nothing_changes(), pytest.raises(errors.NotVolunteer) as caught:
        services.signup_create(user=vworld["residents"][2].user, shift_id=shift.pk, now=at(0, 10))
    assert caught.value.code == "not_a_volunteer"


def test_cancelling_frees_the_place(vworld):
    _, shift = new_activity(vworld)
    a, b = vworld["volunteers"]
    (c,) = neighbours(vworld, 1)
    mine = sign(a, shift)
    sign(b, shift)
    cancelled = services.signup_cancel(user=a.resident.user, signup_id=mine.pk, now=at(0, 11))
    assert (cancelled.status, cancelled.cancelled_at) == ("cancelled", at(0, 11))
    shift.refresh_from_db()
    assert shift.taken == 1
    assert sign(c, shift).status == "signed_up"
    shift.refresh_from_db()
    assert shift.taken == 2
    with nothing_changes(), pytest.raises(errors.NotSignedUp) as caught:
        services.signup_cancel(user=a.resident.user, signup_id=mine.pk, now=at(0, 12))
    assert caught.value.code == "signup_cancelled"
    # Someone else's sign-up is not found; after the start nobody withdraws.
    theirs = Signup.objects.get(shift=shift, volunteer=b)
    with nothing_changes(), pytest.raises(errors.SignupNotFound):
        services.signup_cancel(user=a.resident.user, signup_id=theirs.pk, now=at(0, 12))
    with nothing_changes(), pytest.raises(errors.ShiftStarted):
        services.signup_cancel(user=b.resident.user, signup_id=theirs.pk, now=at(1, 9))


def test_signing_up_again_after_cancelling(vworld):
    _, shift = new_activity(vworld)
    volunteer = vworld["volunteers"][0]
    first = sign(volunteer, shift)
    services.signup_cancel(user=volunteer.resident.user, signup_id=first.pk, now=at(0, 11))
    again = sign(volunteer, shift, now=at(0, 12))
    assert again.pk != first.pk and again.status == "signed_up"
    shift.refresh_from_db()
    assert shift.taken == 1


# --- check-in and out -----------------------------------------------------------------------------


def test_check_in_and_out_at_the_kiosk(vworld):
    _, shift = new_activity(vworld)
    volunteer = vworld["volunteers"][0]
    signup = sign(volunteer, shift)
    checked = kiosk(vworld, volunteer, shift, "in", at(1, 8, 30))
    assert (checked.pk, checked.checked_in_at, checked.check_in_by) == (
        signup.pk,
        at(1, 8, 30),
        f"device:{vworld['kiosk'][0].key_id}",
    )
    # Checking in again keeps the first time.
    assert kiosk(vworld, volunteer, shift, "in", at(1, 9, 5)).checked_in_at == at(1, 8, 30)
    out = kiosk(vworld, volunteer, shift, "out", at(1, 11, 40))
    assert out.checked_out_at == at(1, 11, 40)
    out.refresh_from_db()
    out.shift = shift
    assert out.default_minutes == 160  # 09:00 (not 08:30) to 11:40
    with nothing_changes(), pytest.raises(errors.AlreadyCheckedOut) as caught:
        kiosk(vworld, volunteer, shift, "out", at(1, 11, 50))
    assert caught.value.code == "already_checked_out"
    assert PassUse.objects.filter(purpose="volunteer:in").count() == 2


@pytest.mark.parametrize("when", [at(1, 8, 29), at(1, 12, 1), at(0, 10)])
def test_check_in_is_open_from_half_an_hour_before_until_the_end(vworld, when):
    _, shift = new_activity(vworld)
    volunteer = vworld["volunteers"][0]
    sign(volunteer, shift)
    with nothing_changes(), pytest.raises(errors.CheckInClosed) as caught:
        kiosk(vworld, volunteer, shift, "in", when)
    assert (caught.value.code, caught.value.status) == ("check_in_closed", 409)


def test_check_out_rules(vworld):
    _, shift = new_activity(vworld)
    volunteer = vworld["volunteers"][0]
    sign(volunteer, shift)
    with nothing_changes(), pytest.raises(errors.NotCheckedIn):
        kiosk(vworld, volunteer, shift, "out", at(1, 10))
    kiosk(vworld, volunteer, shift, "in", at(1, 9))
    with nothing_changes(), pytest.raises(errors.CheckInClosed):
        kiosk(vworld, volunteer, shift, "out", at(1, 18, 1))
    assert kiosk(vworld, volunteer, shift, "out", at(1, 18)).checked_out_at == at(1, 18)


def test_a_device_of_another_center_or_of_the_wrong_kind(vworld, place):
    _, shift = new_activity(vworld)
    volunteer = vworld["volunteers"][0]
    sign(volunteer, shift)
    elsewhere, _ = f.device_for(place["centers"][1], Device.Kind.KIOSK)
    token = pass_of(volunteer.resident)
    with nothing_changes(), pytest.raises(errors.ShiftNotFound) as caught:
        services.check_at_device(
            device=elsewhere, shift_id=shift.pk, token=token, direction="in", now=at(1, 9)
        )
    assert (caught.value.code, caught.value.status) == ("shift_not_found", 404)
    with nothing_changes(), pytest.raises(errors.NotOrganizerHere) as caught:
        services.check_at_device(
            device=vworld["vending"][0], shift_id=shift.pk, token=token, direction="in", now=at(1, 9)
        )
    assert (caught.value.code, caught.value.status) == ("device_not_allowed", 403)
    with nothing_changes(), pytest.raises(errors.ShiftInvalid):
        kiosk(vworld, volunteer, shift, "sideways", at(1, 9), token=token)
    # A staff scanner of the center may check in; the pass still works once.
    scanner, _ = f.device_for(vworld["center"], Device.Kind.SCANNER)
    done = services.check_at_device(
        device=scanner, shift_id=shift.pk, token=token, direction="in", now=at(1, 9)
    )
    assert done.check_in_by == f"device:{scanner.key_id}"


def test_a_pass_works_once_and_must_be_genuine(vworld):
    _, shift = new_activity(vworld)
    volunteer = vworld["volunteers"][0]
    sign(volunteer, shift)
    token = pass_of(volunteer.resident)
    kiosk(vworld, volunteer, shift, "in", at(1, 9), token=token)
    with nothing_changes(), pytest.raises(people_errors.PassReplayed) as caught:
        kiosk(vworld, volunteer, shift, "out", at(1, 11), token=token)
    assert caught.value.code == "pass_replayed"
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with nothing_changes(), pytest.raises(people_errors.PassInvalid):
        kiosk(vworld, volunteer, shift, "out", at(1, 11), token=forged)


def test_a_volunteer_not_signed_up_consumes_no_pass(vworld):
    _, shift = new_activity(vworld)
    stranger = vworld["volunteers"][1]
    sign(vworld["volunteers"][0], shift)
    token = pass_of(stranger.resident)
    with nothing_changes(), pytest.raises(errors.NotSignedUp) as caught:
        kiosk(vworld, stranger, shift, "in", at(1, 9), token=token)
    assert caught.value.code == "not_signed_up"
    # The pass was not used up by the refusal: after signing up, it still works.
    Shift.objects.filter(pk=shift.pk).update(needed=3)
    sign(stranger, shift, now=at(1, 8, 40))
    assert kiosk(vworld, stranger, shift, "in", at(1, 9), token=token).checked_in_at == at(1, 9)


def test_check_in_by_the_organiser(vworld, roles):
    _, shift = new_activity(vworld)
    volunteer = vworld["volunteers"][0]
    sign(volunteer, shift)
    other = roles["other_community"]
    with nothing_changes(), pytest.raises(errors.ShiftNotFound) as caught:
        services.check_by_staff(
            staff=other,
            scope=staff_scope(other),
            shift_id=shift.pk,
            token=pass_of(volunteer.resident),
            direction="in",
            now=at(1, 9),
        )
    assert caught.value.status == 404
    done = services.check_by_staff(
        staff=vworld["desk"],
        scope=vworld["scope"],
        shift_id=shift.pk,
        token=pass_of(volunteer.resident),
        direction="in",
        now=at(1, 9, 10),
    )
    assert (done.checked_in_at, done.check_in_by) == (at(1, 9, 10), f"staff:{vworld['desk'].pk}")
    assert PassUse.objects.filter(staff=vworld["desk"], purpose="volunteer:in").count() == 1


def test_no_check_in_or_out_once_the_hours_are_confirmed(vworld):
    _, shift = new_activity(vworld)
    volunteer = vworld["volunteers"][0]
    served(vworld, volunteer, shift, check_out=None)
    confirm(vworld, shift, now=at(1, 12, 30))
    with nothing_changes(), pytest.raises(errors.HoursAlreadyConfirmed):
        kiosk(vworld, volunteer, shift, "out", at(1, 13))


# --- confirming hours -----------------------------------------------------------------------------


def test_hours_as_measured_award_points_by_the_rule_once(vworld):
    _, shift = new_activity(vworld)
    a, b = vworld["volunteers"]
    served(vworld, a, shift)  # 09:00–11:30: 150 min
    served(vworld, b, shift, check_in=(9, 20), check_out=None)  # 09:20 to the end: 160 min
    records = confirm(vworld, shift)
    assert sorted((r.volunteer_id, r.minutes, r.points_awarded) for r in records) == sorted(
        [(a.pk, 150, 150 // 60 + 2), (b.pk, 160, 160 // 60 + 2)]
    )
    shift.refresh_from_db()
    assert (shift.status, shift.confirmed_by, shift.confirmed_at) == ("confirmed", vworld["desk"], at(1, 13))
    record = ServiceRecord.objects.get(volunteer=a)
    assert (record.content, record.organizer, record.adjustment_reason, record.served_on) == (
        "社区环境清洁 · 清洁员",
        vworld["center"].name,
        "",
        timezone.localdate(at(1, 9)),
    )
    entry = Entry.objects.get(key=f"volunteering.record:{record.pk}")
    assert (entry.kind, entry.amount, entry.balance_after, entry.center, entry.actor) == (
        "award",
        4,
        4,
        vworld["center"],
        vworld["desk"],
    )
    assert (balance(a.resident), balance(b.resident)) == (4, 4)
    a.refresh_from_db()
    assert a.minutes_total == 150
    assert Notice.objects.filter(kind="volunteering.hours_confirmed").count() == 2
    # Confirming twice: refused, no record, no point more.
    with nothing_changes(), pytest.raises(errors.HoursAlreadyConfirmed) as caught:
        confirm(vworld, shift, now=at(1, 14))
    assert (caught.value.code, caught.value.status) == ("hours_already_confirmed", 409)
    # The award is keyed by the record: awarding it again credits nothing.
    with nothing_changes(ignore=("AuditEvent",)):
        again = points.points_award(
            resident=a.resident,
            community=vworld["community"],
            amount=4,
            reason="again",
            key=f"volunteering.record:{record.pk}",
        )
    assert again.pk == entry.pk
    assert points.ledger_check() == []


@pytest.mark.parametrize(
    ("per_hour", "bonus", "minutes", "expected"),
    [(1, 2, 150, 4), (3, 5, 100, 10), (2, 0, 59, 1), (0, 0, 180, 0), (0, 7, 30, 7), (100, 1000, 720, 2200)],
)
def test_the_points_rule(vworld, per_hour, bonus, minutes, expected):
    _, shift = new_activity(
        vworld,
        points_per_hour=per_hour,
        bonus_points=bonus,
        shifts=[_shift(starts_at=at(1, 7), ends_at=at(1, 19))],
    )
    volunteer = vworld["volunteers"][0]
    signup = sign(volunteer, shift)
    (record,) = confirm(
        vworld,
        shift,
        lines=[services.HoursLine(signup.pk, minutes, "按实际")],
        now=shift.ends_at,
    )
    assert (record.minutes, record.points_awarded) == (minutes, expected)
    assert balance(volunteer.resident) == expected
    assert Entry.objects.filter(account__resident=volunteer.resident).count() == (1 if expected else 0)


def test_adjustments_need_a_reason_and_vouching_covers_a_missed_check_in(vworld):
    _, shift = new_activity(vworld, shifts=[_shift(needed=3)])
    a, b = vworld["volunteers"]
    (c,) = neighbours(vworld, 1)
    sa = served(vworld, a, shift)
    sb = sign(b, shift)  # never checked in
    sc = served(vworld, c, shift)
    with nothing_changes(), pytest.raises(errors.ReasonRequired) as caught:
        confirm(vworld, shift, lines=[services.HoursLine(sa.pk, 170)])
    assert caught.value.field == "lines.0.reason"
    with nothing_changes(), pytest.raises(errors.ReasonRequired) as caught:
        confirm(vworld, shift, lines=[services.HoursLine(sa.pk, 150), services.HoursLine(sb.pk, 120)])
    assert caught.value.field == "lines.1.reason"
    with nothing_changes(), pytest.raises(errors.HoursInvalid):
        confirm(vworld, shift, lines=[services.HoursLine(sb.pk)])  # nothing measured, nothing given
    records = confirm(
        vworld,
        shift,
        lines=[
            services.HoursLine(sa.pk, 170, "  提前到场  布置 "),
            services.HoursLine(sb.pk, 120, "手机没电，组织者见证"),
            services.HoursLine(sc.pk, 0, "中途离开，不计"),
        ],
    )
    by_volunteer = {r.volunteer_id: r for r in records}
    assert set(by_volunteer) == {a.pk, b.pk}
    assert (by_volunteer[a.pk].minutes, by_volunteer[a.pk].adjustment_reason) == (170, "提前到场 布置")
    assert (by_volunteer[b.pk].minutes, by_volunteer[b.pk].adjustment_reason) == (120, "手机没电，组织者见证")
    assert not ServiceRecord.objects.filter(signup=sc).exists()
    assert balance(c.resident) == 0


def test_no_check_in_and_no_vouching_means_no_record(vworld):
    _, shift = new_activity(vworld)
    a, b = vworld["volunteers"]
    served(vworld, a, shift)
    sign(b, shift)
    records = confirm(vworld, shift)
    assert [r.volunteer_id for r in records] == [a.pk]
    assert not Entry.objects.filter(account__resident=b.resident).exists()


@pytest.mark.parametrize(
    ("minutes", "error", "code"),
    [
        (181, errors.HoursTooLong, "hours_too_long"),
        (10**6, errors.HoursTooLong, "hours_too_long"),
        (-1, errors.HoursInvalid, "hours_invalid"),
        (True, errors.HoursInvalid, "hours_invalid"),
    ],
)
def test_hours_longer_than_the_shift_or_not_a_number(vworld, minutes, error, code):
    _, shift = new_activity(vworld)
    signup = served(vworld, vworld["volunteers"][0], shift)
    with nothing_changes(), pytest.raises(error) as caught:
        confirm(vworld, shift, lines=[services.HoursLine(signup.pk, minutes, "多算")])
    assert (caught.value.code, caught.value.field, caught.value.status) == (code, "lines.0.minutes", 400)
    (record,) = confirm(vworld, shift, lines=[services.HoursLine(signup.pk, 180, "全程")])
    assert record.minutes == 180


def test_confirming_before_the_end_elsewhere_or_a_stranger(vworld, roles):
    _made, shift = new_activity(vworld)
    signup = served(vworld, vworld["volunteers"][0], shift)
    with nothing_changes(), pytest.raises(errors.ShiftNotEnded) as caught:
        confirm(vworld, shift, now=at(1, 11, 59))
    assert (caught.value.code, caught.value.status) == ("shift_not_ended", 409)
    with nothing_changes(), pytest.raises(errors.ShiftNotFound):
        confirm(vworld, shift, staff=roles["other_community"])
    with nothing_changes(), pytest.raises(errors.NotOrganizerHere):
        confirm(vworld, shift, staff=roles["street"])
    _, other_shift = new_activity(
        vworld, title="另一活动", shifts=[_shift(starts_at=at(1, 13), ends_at=at(1, 14))]
    )
    other = sign(vworld["volunteers"][1], other_shift)
    with nothing_changes(), pytest.raises(errors.SignupNotFound) as caught:
        confirm(vworld, shift, lines=[services.HoursLine(other.pk, 30, "x")])
    assert caught.value.field == "lines.0.signup_id"
    with nothing_changes(), pytest.raises(errors.ShiftNotFound):
        services.hours_confirm(staff=vworld["desk"], scope=vworld["scope"], shift_id=10**9, now=at(1, 13))
    assert signup.pk


def test_a_cancelled_shift_has_no_hours(vworld):
    made, shift = new_activity(vworld)
    services.activity_cancel(staff=vworld["desk"], scope=vworld["scope"], activity_id=made.pk, reason="台风")
    with nothing_changes(), pytest.raises(errors.ShiftCancelled):
        confirm(vworld, shift)


def test_minutes_total_and_stars(vworld, settings):
    settings.LIVINGROOM_VOLUNTEER_STAR_HOURS = [5, 8]
    volunteer = vworld["volunteers"][0]
    for day in (1, 2, 3):
        _, shift = new_activity(
            vworld, title=f"第{day}天", shifts=[_shift(starts_at=at(day, 8), ends_at=at(day, 11))]
        )
        signup = sign(volunteer, shift)
        confirm(vworld, shift, lines=[services.HoursLine(signup.pk, 180, "全程")], now=at(day, 12))
        volunteer.refresh_from_db()
        assert volunteer.minutes_total == 180 * day
    assert (volunteer.hours_total, volunteer.stars) == (9.0, 2)
    assert [star_level(m) for m in (299, 300, 479, 480)] == [0, 1, 1, 2]


# --- corrections ----------------------------------------------------------------------------------


def _confirmed(world, volunteer=None, **overrides):
    """One volunteer served 09:00–11:30 of a 09:00–12:00 shift, confirmed: 150 min, 4 points."""
    volunteer = volunteer or world["volunteers"][0]
    _, shift = new_activity(world, **overrides)
    signup = served(world, volunteer, shift)
    confirm(world, shift)
    return volunteer, shift, signup


def request(volunteer, signup, minutes, reason="签退忘了", now=None):
    return services.correction_request(
        user=volunteer.resident.user,
        signup_id=signup.pk,
        minutes=minutes,
        reason=reason,
        now=now or at(1, 15),
    )


def decide(world, correction, accept, note="", staff=None, now=None):
    staff = staff or world["desk"]
    return services.correction_decide(
        staff=staff,
        scope=staff_scope(staff),
        correction_id=correction.pk,
        accept=accept,
        note=note,
        now=now or at(1, 16),
    )


def test_correction_request_rules(vworld):
    volunteer, _shift, signup = _confirmed(vworld)
    with nothing_changes(), pytest.raises(errors.ReasonRequired):
        request(volunteer, signup, 180, reason="   ")
    with nothing_changes(), pytest.raises(errors.HoursInvalid) as caught:
        request(volunteer, signup, 0)
    assert caught.value.code == "hours_invalid"
    with nothing_changes(), pytest.raises(errors.HoursTooLong):
        request(volunteer, signup, 181)
    with nothing_changes(), pytest.raises(errors.HoursInvalid) as caught:
        request(volunteer, signup, 150)
    assert caught.value.code == "correction_no_change"
    with nothing_changes(), pytest.raises(errors.SignupNotFound):
        request(vworld["volunteers"][1], signup, 180)
    correction = request(volunteer, signup, 180)
    assert (correction.minutes_before, correction.minutes_requested, correction.status) == (150, 180, "open")
    with nothing_changes(), pytest.raises(errors.CorrectionOpen) as caught:
        request(volunteer, signup, 170)
    assert caught.value.code == "correction_already_open"


def test_no_correction_before_the_shift_ends_or_its_hours_are_confirmed(vworld):
    _, shift = new_activity(vworld)
    volunteer = vworld["volunteers"][0]
    signup = served(vworld, volunteer, shift)
    with nothing_changes(), pytest.raises(errors.ShiftNotEnded):
        request(volunteer, signup, 180, now=at(1, 11, 59))
    with nothing_changes(), pytest.raises(errors.ShiftNotEnded) as caught:
        request(volunteer, signup, 180, now=at(1, 13))
    assert caught.value.code == "hours_not_confirmed"
    # So that the organiser's confirmation never meets a record a correction already wrote.
    (record,) = confirm(vworld, shift)
    assert record.minutes == 150


def test_accepting_raises_hours_and_points(vworld):
    volunteer, _shift, signup = _confirmed(vworld)
    assert balance(volunteer.resident) == 4
    correction = request(volunteer, signup, 180)
    decided = decide(vworld, correction, True, note="核实属实")
    assert (decided.status, decided.decided_by, decided.decided_at, decided.decision_note) == (
        "accepted",
        vworld["desk"],
        at(1, 16),
        "核实属实",
    )
    record = ServiceRecord.objects.get(signup=signup)
    assert (record.minutes, record.points_awarded) == (180, 5)
    assert f"#{correction.pk}: 签退忘了" in record.adjustment_reason
    entry = Entry.objects.get(key=f"volunteering.correction:{correction.pk}")
    assert (entry.kind, entry.amount, entry.balance_after) == ("adjust", 1, 5)
    assert balance(volunteer.resident) == 5
    volunteer.refresh_from_db()
    assert volunteer.minutes_total == 180
    assert Notice.objects.filter(kind="volunteering.correction_accepted").count() == 1
    with nothing_changes(), pytest.raises(errors.CorrectionDecided) as caught:
        decide(vworld, correction, False, note="再议")
    assert caught.value.code == "correction_already_decided"
    assert points.ledger_check() == []


def test_accepting_lowers_hours_and_points_never_below_a_zero_balance(vworld):
    volunteer, _shift, signup = _confirmed(vworld, points_per_hour=6, bonus_points=0)  # 150 min: 15 points
    assert balance(volunteer.resident) == 15
    # Spends 9 of the 15 on three drinks at the desk.
    points.redemption_at_desk(
        staff=vworld["desk"],
        scope=vworld["scope"],
        token=pass_of(volunteer.resident),
        reward_id=vworld["drink"].pk,
        quantity=3,
    )
    assert balance(volunteer.resident) == 6
    # Lowered to 60 min: the rule says 6 points, 9 would come back; only 6 are there.
    lowered = request(volunteer, signup, 60, reason="实际只服务了一小时")
    decide(vworld, lowered, True)
    record = ServiceRecord.objects.get(signup=signup)
    assert (record.minutes, record.points_awarded) == (60, 15 - 6)
    entry = Entry.objects.get(key=f"volunteering.correction:{lowered.pk}")
    assert (entry.kind, entry.amount, entry.balance_after) == ("adjust", -6, 0)
    assert balance(volunteer.resident) == 0
    volunteer.refresh_from_db()
    assert volunteer.minutes_total == 60
    # Lowered again with nothing left: the record changes, no entry, the balance stays at zero.
    again = request(volunteer, signup, 30, reason="再核实")
    decide(vworld, again, True)
    record.refresh_from_db()
    assert (record.minutes, record.points_awarded) == (30, 9)
    assert not Entry.objects.filter(key=f"volunteering.correction:{again.pk}").exists()
    assert balance(volunteer.resident) == 0
    assert points.ledger_check() == []


def test_accepting_a_correction_for_a_missing_record(vworld):
    _, shift = new_activity(vworld)
    a, b = vworld["volunteers"]
    served(vworld, a, shift)
    missed = sign(b, shift)  # forgot to check in
    confirm(vworld, shift)
    assert not ServiceRecord.objects.filter(signup=missed).exists()
    correction = request(b, missed, 120, reason="忘记签到，有照片为证")
    assert correction.minutes_before == 0
    decide(vworld, correction, True)
    record = ServiceRecord.objects.get(signup=missed)
    assert (record.minutes, record.points_awarded, record.confirmed_by) == (120, 2 + 2, vworld["desk"])
    assert Entry.objects.get(key=f"volunteering.record:{record.pk}").amount == 4
    assert balance(b.resident) == 4
    b.refresh_from_db()
    assert b.minutes_total == 120


def test_rejecting_needs_a_note_and_changes_nothing_else(vworld, roles):
    volunteer, _shift, signup = _confirmed(vworld)
    correction = request(volunteer, signup, 180)
    with nothing_changes(), pytest.raises(errors.ReasonRequired) as caught:
        decide(vworld, correction, False, note="  ")
    assert caught.value.field == "note"
    with nothing_changes(), pytest.raises(errors.CorrectionNotFound):
        decide(vworld, correction, True, staff=roles["other_community"])
    with nothing_changes(), pytest.raises(errors.CorrectionNotFound):
        services.correction_decide(
            staff=vworld["desk"], scope=vworld["scope"], correction_id=10**9, accept=True, now=at(1, 16)
        )
    entries = Entry.objects.count()
    decided = decide(vworld, correction, False, note="签到记录显示 09:00 到场")
    assert (decided.status, decided.decision_note) == ("rejected", "签到记录显示 09:00 到场")
    assert ServiceRecord.objects.get(signup=signup).minutes == 150
    assert (Entry.objects.count(), balance(volunteer.resident)) == (entries, 4)
    assert Notice.objects.filter(kind="volunteering.correction_rejected").count() == 1
    # Once answered, a new request may be made.
    assert request(volunteer, signup, 170).status == "open"


# --- certificates ---------------------------------------------------------------------------------


def test_a_certificate_says_what_the_records_say(vworld):
    volunteer = vworld["volunteers"][0]
    _confirmed(vworld, volunteer)  # 150 min tomorrow
    _, later = new_activity(
        vworld, title="敬老院陪伴", shifts=[_shift(starts_at=at(3, 14), ends_at=at(3, 16))]
    )
    signup = sign(volunteer, later)
    confirm(vworld, later, lines=[services.HoursLine(signup.pk, 120, "全程")], now=at(3, 17))
    certificate = services.certificate_issue(user=volunteer.resident.user, now=at(4, 10))
    resident = volunteer.resident
    assert certificate.name == resident.real_name
    assert certificate.id_type == str(services.ID_TYPE)
    assert certificate.id_number_masked == resident.id_number[:4] + "*" * 10 + resident.id_number[-4:]
    assert resident.id_number not in str(vars(certificate))
    assert (certificate.volunteer_number, certificate.minutes, certificate.records, certificate.hours) == (
        volunteer.number,
        270,
        2,
        4.5,
    )
    assert (certificate.period_start, certificate.period_end) == (
        timezone.localdate(at(1, 9)),
        timezone.localdate(at(3, 9)),
    )
    assert certificate.content == "社区环境清洁、敬老院陪伴"
    assert (certificate.issuer, certificate.person_in_charge, certificate.issued_at) == (
        settings.LIVINGROOM_CERTIFICATE_ISSUER,
        settings.LIVINGROOM_CERTIFICATE_SIGNER,
        at(4, 10),
    )
    assert re.fullmatch(rf"LRVC{timezone.localdate(at(4, 10)):%Y%m%d}\d{{6}}", certificate.number)
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{12}", certificate.code)
    # Anyone can check it by its code (case and spaces do not matter).
    spaced = " ".join([certificate.code[:4].lower(), certificate.code[4:8], certificate.code[8:]])
    assert selectors.certificate_by_code(spaced) == certificate
    with pytest.raises(errors.CertificateNotFound):
        selectors.certificate_by_code(
            "ABCDEFGHJKLM" if certificate.code != "ABCDEFGHJKLM" else "MLKJHGFEDCBA"
        )
    # What it says stays fixed when a record is corrected later.
    correction = request(volunteer, signup, 60, reason="核实", now=at(4, 11))
    decide(vworld, correction, True, now=at(4, 12))
    certificate.refresh_from_db()
    assert certificate.minutes == 270


def test_a_certificate_for_a_period(vworld):
    volunteer = vworld["volunteers"][0]
    _confirmed(vworld, volunteer)
    _, later = new_activity(
        vworld, title="敬老院陪伴", shifts=[_shift(starts_at=at(3, 14), ends_at=at(3, 16))]
    )
    signup = sign(volunteer, later)
    confirm(vworld, later, lines=[services.HoursLine(signup.pk, 120, "全程")], now=at(3, 17))
    day3 = timezone.localdate(at(3, 9))
    certificate = services.certificate_issue(
        user=volunteer.resident.user,
        period_start=day3,
        period_end=day3 + dt.timedelta(days=30),
        now=at(4, 10),
    )
    assert (certificate.minutes, certificate.records, certificate.content) == (120, 1, "敬老院陪伴")
    assert (certificate.period_start, certificate.period_end) == (day3, day3 + dt.timedelta(days=30))
    with nothing_changes(), pytest.raises(errors.NothingToCertify) as caught:
        services.certificate_issue(
            user=volunteer.resident.user, period_start=day3 + dt.timedelta(days=1), now=at(4, 10)
        )
    assert (caught.value.code, caught.value.status) == ("nothing_to_certify", 409)
    with nothing_changes(), pytest.raises(errors.HoursInvalid) as caught:
        services.certificate_issue(
            user=volunteer.resident.user, period_start=day3, period_end=day3 - dt.timedelta(days=1)
        )
    assert caught.value.code == "period_invalid"


def test_nothing_to_certify_without_confirmed_hours(vworld):
    volunteer = vworld["volunteers"][1]
    _, shift = new_activity(vworld)
    served(vworld, volunteer, shift)  # served, but not confirmed yet
    with nothing_changes(), pytest.raises(errors.NothingToCertify):
        services.certificate_issue(user=volunteer.resident.user)
    with nothing_changes(), pytest.raises(errors.NotVolunteer):
        services.certificate_issue(user=vworld["residents"][2].user)
    assert not Certificate.objects.exists()


def test_a_suspended_volunteer_still_gets_their_certificate(vworld):
    volunteer, _, _ = _confirmed(vworld)
    services.volunteer_set_status(
        staff=vworld["desk"], scope=vworld["scope"], volunteer_id=volunteer.pk, active=False, reason="暂停"
    )
    assert services.certificate_issue(user=volunteer.resident.user).minutes == 150


def test_the_whole_round_with_a_vending_machine(vworld):
    """What the first smoke test covered: serve, confirm, spend at the machine, retry, refund."""
    volunteer, _, _ = _confirmed(vworld)
    token = pass_of(volunteer.resident)
    machine = vworld["vending"][0]
    first = points.redemption_at_vending(
        device=machine, key="k1", token=token, reward_id=vworld["drink"].pk, quantity=1
    )
    assert first[0] == 201 and first[2] is False
    assert points.redemption_at_vending(
        device=machine, key="k1", token=token, reward_id=vworld["drink"].pk, quantity=1
    ) == (first[0], first[1], True)
    refused = points.redemption_at_vending(
        device=machine, key="k2", token=pass_of(volunteer.resident), reward_id=vworld["drink"].pk, quantity=1
    )
    assert (refused[0], refused[1]["code"]) == (409, "insufficient_points")
    _, entry, replayed = points.vending_failure_report(device=machine, key="k1", reason="卡货")
    assert (entry.amount, replayed, balance(volunteer.resident)) == (3, False, 4)
    assert points.ledger_check() == []
