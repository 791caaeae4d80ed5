"""Who may call which volunteering and points endpoint, for every role, across communities.

The world: sub-district 1 holds communities c1 and c2, sub-district 2 holds c3; each community's
center ``i`` has
* ``up[i]``: a published activity with a shift starting in ten minutes (``soon[i]``, check-in is
  open) and one tomorrow (``later[i]``); the resident signed up for both;
* ``draft[i]``: a draft activity;
* ``past[i]``: an activity with a shift that ended two hours ago, hours not yet confirmed
  (``ended[i]``: the resident checked in and out) and a shift served two days ago whose hours
  are confirmed (``served[i]``: the resident's record of 60 minutes, points awarded; a neighbour
  of community ``i`` served without checking in and asks for a correction, ``corrections[i]``);
* a drink in the vending machines (``drinks[i]``, 3 points, stock 10), a voucher at the desk
  (``vouchers[i]``, 5 points, stock 5), a vending machine there that sold the resident a drink
  with the key ``vend-i``, and a desk redemption of a voucher (``desk[i]``); the resident holds
  points in every community.
The resident lives in c1 and holds three certificates (``certs``); ``other_resident`` lives in
c3 and is a volunteer with nothing on record. The kiosk and the vending machine of the table
stand in c1's center. ``other_device`` is a device of c3's center (another sub-district) of the
kind the row wants (c3's vending machine for the vending rows, a kiosk of c3's center otherwise):
it plays every device row and two rows it has no business with.

Staff see (404 otherwise): district all; the street official c1 and c2; the community worker c1;
the other community's worker c3; the center staff c2. Partner staff see only their own
organisation's activities (with their rosters, corrections and hours; the table's activities are
the centers' own, so nothing here) and no points: those are the community's books. Only desk
staff (community worker, center staff) organise and keep the books; the others who see an
object get 403 with a stable code (``not_an_organizer_here``, ``not_desk_staff``). Partner staff
organise in their organisation's name (tested below the table).

Every refusal runs inside ``unchanged()``: no row written, no row changed (points, stock,
sign-ups, records, corrections included). A guard test fails when the OpenAPI schema gains a
volunteering or points operation this table does not cover.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from livingroom.core import signing
from livingroom.core.models import IdempotencyRecord
from livingroom.core.scopes import StaffScope
from livingroom.people import passes
from livingroom.people.models import Resident
from livingroom.people.scopes import staff_scope
from livingroom.places.models import Center, Device, Organization
from livingroom.points import services as points
from livingroom.points.models import Account, Entry, Redemption, Reward, StockMove
from livingroom.volunteering import services
from livingroom.volunteering.models import (
    Activity,
    Certificate,
    Correction,
    ServiceRecord,
    Shift,
    Signup,
    Volunteer,
)
from tests import factories as f
from tests.booking.conftest import DeviceApi
from tests.conftest import Api, resident_api, staff_api
from tests.invariants import snapshot
from tests.openapi import (
    OTHER_DEVICE,
    Matrix,
    Moved,
    Page,
    assert_table_covers,
    cells,
    console,
    open_page,
    page_browser,
    page_key,
    page_row,
    param_cells,
    play_cell,
    play_pages,
    resident_page,
    seen,
    tagged,
)
from tests.volunteering.conftest import at, pass_of

STAFF = ("district", "street", "community", "other_community", "center", "partner")
RESIDENTS = ("resident", "other_resident")
DEVICES = ("kiosk", "vending")
ROLES = ("anonymous", *RESIDENTS, *DEVICES, *STAFF)
# A device of another center than c1's (tests/test_matrix_coverage.py wants it on every device
# operation): played on the device rows and two others only, to keep the table fast.
SIGNED = (*DEVICES, OTHER_DEVICE)
OTHER_DEVICE_ROWS = {
    ("POST", "/devices/volunteering/shifts/{shift_id}/check"),
    ("GET", "/devices/vending/rewards"),
    ("POST", "/devices/vending/redemptions"),
    ("POST", "/devices/vending/redemptions/queue"),
    ("POST", "/devices/vending/failures"),
    ("GET", "/me/points"),
    ("POST", "/staff/volunteer/shifts/{shift_id}/check"),
}
SEEN = {
    "district": {0, 1, 2},
    "street": {0, 1},
    "community": {0},
    "other_community": {2},
    "center": {1},
    # The world's activities are the centers' own, and points are the community's: partner staff
    # see activities of their own organisation only (tested below the table) and no ledger.
    "partner": set(),
}
RESIDENTS_SEEN = SEEN
DESK = {"community": {0}, "other_community": {2}, "center": {1}}
TARGETS = (0, 1, 2, None)  # None: an id that does not exist
MISSING_PK = 987654
TAGS = {
    "volunteering",
    "staff: volunteering",
    "devices: volunteering",
    "points",
    "staff: points",
    "devices: vending",
}


# --- what a refusal must leave as it was ---------------------------------------------------------


def ledger_facts() -> dict[str, Any]:
    """What a refused request could change in place or add (``nothing_changes`` counts the
    foundation's rows): volunteering and points, row by row."""
    return {
        "volunteers": list(Volunteer.objects.order_by("pk").values_list("pk", "status", "minutes_total")),
        "activities": list(Activity.objects.order_by("pk").values_list("pk", "status", "cancel_reason")),
        "shifts": list(Shift.objects.order_by("pk").values_list("pk", "status", "taken", "needed")),
        "signups": list(
            Signup.objects.order_by("pk").values_list("pk", "status", "checked_in_at", "checked_out_at")
        ),
        "records": list(ServiceRecord.objects.order_by("pk").values_list("pk", "minutes", "points_awarded")),
        "corrections": list(Correction.objects.order_by("pk").values_list("pk", "status", "decided_at")),
        "certificates": Certificate.objects.count(),
        "accounts": list(Account.objects.order_by("pk").values_list("pk", "balance")),
        "entries": Entry.objects.count(),
        "rewards": list(
            Reward.objects.order_by("pk").values_list(
                "pk", "stock", "price_points", "is_active", "description"
            )
        ),
        "redemptions": list(Redemption.objects.order_by("pk").values_list("pk", "status")),
        "stock moves": StockMove.objects.count(),
        "idempotency records": IdempotencyRecord.objects.count(),
    }


@contextlib.contextmanager
def unchanged(ignore: tuple[str, ...] = ()) -> Iterator[None]:
    """``nothing_changes()`` plus every volunteering and points fact. ``ignore`` may name
    foundation models (``RequestNonce``: a signed request spends its nonce) and the key
    ``idempotency records`` (a vending machine's refusal is kept for its retries)."""

    def state() -> dict[str, Any]:
        facts = {k: v for k, v in ledger_facts().items() if k not in ignore}
        return {**snapshot(ignore), **facts}

    before = state()
    yield
    after = state()
    assert {k: v for k, v in after.items() if v != before[k]} == {}, {
        k: before[k] for k in after if after[k] != before[k]
    }


# --- clients ---------------------------------------------------------------------------------------


class SignedDevice(DeviceApi):
    """``DeviceApi`` that signs GETs too, query string included (the canonical path is the full
    path the server sees)."""

    def get(self, path: str, headers: dict | None = None, **params):
        full = path + (f"?{urlencode(params)}" if params else "")
        signed = signing.signed_headers(self.secret, self.key_id, "GET", "/api/v1" + full)
        return self.client.get("/api/v1" + full, headers={**signed, **(headers or {})})


def device_api(device: Device, secret: str) -> SignedDevice:
    return SignedDevice(device.key_id, secret)


def new_resident(community, name: str = "张三") -> Resident:
    """``ResidentFactory`` typed as what it makes."""
    return cast(Resident, f.ResidentFactory(home_community=community, real_name=name))


def new_organization(*centers: Center) -> Organization:
    org = cast(Organization, f.OrganizationFactory())
    org.centers.set(centers)
    return org


def old_pass(resident: Resident, seconds_ago: int) -> str:
    """A genuine pass issued ``seconds_ago`` (what an offline machine scanned earlier)."""
    return passes.encode(resident.pk, int(time.time()) - seconds_ago)


# --- the world ---------------------------------------------------------------------------------------


@dataclass
class Vx:
    roles: dict
    centers: list[Center]
    resident: Resident
    other_resident: Resident
    neighbours: list[Resident]
    volunteer: Volunteer
    up: list[Activity]
    soon: list[Shift]
    later: list[Shift]
    soon_signups: list[Signup]
    later_signups: list[Signup]
    drafts: list[Activity]
    past: list[Activity]
    ended: list[Shift]
    ended_signups: list[Signup]
    corrections: list[Correction]
    served: list[Shift]
    served_signups: list[Signup]
    certs: list[Certificate]
    drinks: list[Reward]
    vouchers: list[Reward]
    desk: list[Redemption]
    vends: list[Redemption]
    kiosk: SignedDevice
    vending: SignedDevice
    other_kiosk: SignedDevice  # c3's center
    other_vending: SignedDevice  # c3's machine, which sold the resident a drink with the key vend-2

    def user(self, role: str):
        if role == "resident":
            return self.resident.user
        if role == "other_resident":
            return self.other_resident.user
        return self.roles[role]


def scope_of(user) -> StaffScope:
    scope = staff_scope(user)
    assert scope is not None
    return scope


def _activity(center: Center, creator, title: str, status: str = "published") -> Activity:
    now = timezone.now()
    return Activity.objects.create(
        center=center,
        title=title,
        description="清理公共区域。",
        points_per_hour=2,
        bonus_points=1,
        status=status,
        created_by=creator,
        created_at=now - dt.timedelta(days=3),
        published_at=None if status == "draft" else now - dt.timedelta(days=3),
    )


def _shift(activity: Activity, starts_at: dt.datetime, minutes: int, taken: int = 0, **extra) -> Shift:
    return Shift.objects.create(
        activity=activity,
        role="清洁员",
        place="客厅门口",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=minutes),
        needed=5,
        taken=taken,
        **extra,
    )


def _signup(shift: Shift, volunteer: Volunteer, **extra) -> Signup:
    return Signup.objects.create(
        shift=shift, volunteer=volunteer, created_at=shift.starts_at - dt.timedelta(days=1), **extra
    )


def _reward(center: Center, kind: str, name: str, price: int, stock: int, vending: bool) -> Reward:
    reward = Reward.objects.create(
        center=center,
        kind=kind,
        name=name,
        price_points=price,
        stock=stock,
        at_vending=vending,
        at_desk=not vending,
    )
    StockMove.objects.create(
        reward=reward, kind=StockMove.Kind.RESTOCK, delta=stock, stock_after=stock, created_at=timezone.now()
    )
    return reward


@pytest.fixture
def vx(place, roles) -> Vx:
    """Built with the ORM where a service would refuse to (shifts in the past), with the services
    for points, so that the books add up; the services' own writes are covered elsewhere."""
    now = timezone.now()
    creator = roles["district"]
    centers = list(place["centers"])
    desks = [roles["community"], roles["center"], roles["other_community"]]
    resident = new_resident(place["communities"][0], "王小红")
    other_resident = new_resident(place["communities"][2], "李大明")
    neighbours = [new_resident(c, "赵六") for c in place["communities"]]
    volunteer = services.volunteer_register(user=resident.user, consent=True)
    services.volunteer_register(user=other_resident.user, consent=True)
    helpers = [services.volunteer_register(user=n.user, consent=True) for n in neighbours]
    machines: list[tuple[Device, str]] = []
    lists: dict[str, list] = {
        k: []
        for k in (
            *("up", "soon", "later", "soon_signups", "later_signups", "drafts", "past", "ended"),
            *(
                "ended_signups",
                "corrections",
                "served",
                "served_signups",
                "drinks",
                "vouchers",
                "desk",
                "vends",
            ),
        )
    }
    for i, center in enumerate(centers):
        community = center.community
        up = _activity(center, creator, f"社区清洁{i + 1}")
        soon = _shift(up, now + dt.timedelta(minutes=10), 120, taken=1)
        later = _shift(up, at(1, 8 + 3 * i), 120, taken=1)
        lists["up"].append(up)
        lists["soon"].append(soon)
        lists["later"].append(later)
        lists["soon_signups"].append(_signup(soon, volunteer))
        lists["later_signups"].append(_signup(later, volunteer))
        draft = _activity(center, creator, f"敬老院陪伴{i + 1}", status="draft")
        _shift(draft, at(3, 9), 120)
        lists["drafts"].append(draft)

        past = _activity(center, creator, f"义务理发{i + 1}")
        ended = _shift(past, now - dt.timedelta(hours=4), 120, taken=2)
        lists["past"].append(past)
        lists["ended"].append(ended)
        lists["ended_signups"].append(
            _signup(
                ended,
                volunteer,
                checked_in_at=ended.starts_at,
                checked_out_at=ended.ends_at,
                check_in_by="staff:0",
            )
        )
        served = _shift(
            past, now - dt.timedelta(days=2), 60, taken=2, status=Shift.Status.CONFIRMED, confirmed_at=now
        )
        lists["served"].append(served)
        served_signup = _signup(
            served, volunteer, checked_in_at=served.starts_at, checked_out_at=served.ends_at
        )
        lists["served_signups"].append(served_signup)
        # A neighbour who served without checking in asks for the hours to be recorded.
        lists["corrections"].append(
            Correction.objects.create(
                volunteer=helpers[i],
                signup=_signup(served, helpers[i]),
                minutes_requested=50,
                reason="忘了签到",
                created_at=now - dt.timedelta(hours=1),
            )
        )
        record = ServiceRecord.objects.create(
            signup=served_signup,
            volunteer=volunteer,
            shift=served,
            minutes=60,
            content=f"{past.title} · 清洁员",
            organizer=center.name,
            confirmed_by=desks[i],
            confirmed_at=now,
            served_on=timezone.localdate(served.starts_at),
            points_awarded=past.points_for(60),
        )
        points.points_award(
            resident=resident,
            community=community,
            center=center,
            amount=past.points_for(60),
            reason="服务时长",
            key=f"volunteering.record:{record.pk}",
        )
        points.points_award(
            resident=resident,
            community=community,
            center=center,
            amount=100,
            reason="开户奖励",
            key=f"open:{i}",
        )
        drink = _reward(center, Reward.Kind.DRINK, f"矿泉水{i + 1}", 3, 10, vending=True)
        voucher = _reward(center, Reward.Kind.VOUCHER, f"理发券{i + 1}", 5, 5, vending=False)
        lists["drinks"].append(drink)
        lists["vouchers"].append(voucher)
        machine, secret = f.device_for(center, Device.Kind.VENDING_MACHINE)
        machines.append((machine, secret))
        status, body, _replayed = points.redemption_at_vending(
            device=machine, key=f"vend-{i}", token=pass_of(resident), reward_id=drink.pk, quantity=1
        )
        assert status == 201, body
        lists["vends"].append(Redemption.objects.get(pk=body["redemption_id"]))
        lists["desk"].append(
            points.redemption_at_desk(
                staff=desks[i],
                scope=scope_of(desks[i]),
                token=pass_of(resident),
                reward_id=voucher.pk,
                quantity=1,
            )
        )
    Volunteer.objects.filter(pk=volunteer.pk).update(minutes_total=180)
    certs = [services.certificate_issue(user=resident.user) for _ in centers]
    kiosk, kiosk_secret = f.device_for(centers[0], Device.Kind.KIOSK)
    other_kiosk, other_kiosk_secret = f.device_for(centers[2], Device.Kind.KIOSK)
    return Vx(
        roles=roles,
        centers=centers,
        resident=resident,
        other_resident=other_resident,
        neighbours=neighbours,
        volunteer=volunteer,
        certs=certs,
        kiosk=device_api(kiosk, kiosk_secret),
        vending=device_api(*machines[0]),  # the machine that sold c1's drink with the key vend-0
        other_kiosk=device_api(other_kiosk, other_kiosk_secret),
        other_vending=device_api(*machines[2]),
        **lists,
    )


# --- expected answers ----------------------------------------------------------------------------

Expect = tuple[int, str | None]  # (status, code); code None for a success


def signed_in(role: str) -> Expect | None:
    """Refusals before any rule of the endpoint: who has no bearer token at all."""
    return (401, "not_authenticated") if role == "anonymous" or role in SIGNED else None


def everyone(ok: int) -> Callable[[str, int | None], Expect]:
    return lambda role, t: (ok, None)


def public(ok: int, missing: str) -> Callable[[str, int | None], Expect]:
    return lambda role, t: (ok, None) if t is not None else (404, missing)


def any_signed_in(ok: int) -> Callable[[str, int | None], Expect]:
    return lambda role, t: signed_in(role) or (ok, None)


def volunteer_only(
    resident: Expect, other: Expect, missing: str | None = None
) -> Callable[[str, int | None], Expect]:
    """Volunteers' own endpoints: staff have no volunteer registration (403); an id that does not
    exist is ``missing``; otherwise what the resident and the other resident get."""

    def expect(role: str, t: int | None) -> Expect:
        if (early := signed_in(role)) is not None:
            return early
        if role in STAFF:
            return 403, "not_a_volunteer"
        if t is None and missing:
            return 404, missing
        return resident if role == "resident" else other

    return expect


def mine_only(ok: int, missing: str) -> Callable[[str, int | None], Expect]:
    """The resident's own objects: anyone else (staff included) finds nothing."""

    def expect(role: str, t: int | None) -> Expect:
        if (early := signed_in(role)) is not None:
            return early
        return (ok, None) if role == "resident" and t is not None else (404, missing)

    return expect


def register(role: str, t: int | None) -> Expect:
    if (early := signed_in(role)) is not None:
        return early
    return (409, "profile_incomplete") if role in STAFF else (409, "already_a_volunteer")


def device(
    kiosk: Callable[[int | None], Expect],
    vending: Callable[[int | None], Expect],
    other: Callable[[int | None], Expect],
) -> Callable[[str, int | None], Expect]:
    """Device endpoints: anyone without a signature is 401; the kiosk and the vending machine (both
    at c1's center) and ``other_device`` (of c3's center) get what the endpoint says for them."""

    def expect(role: str, t: int | None) -> Expect:
        if role == "kiosk":
            return kiosk(t)
        if role == "vending":
            return vending(t)
        if role == OTHER_DEVICE:
            return other(t)
        return 401, "signature_missing"

    return expect


NOT_VENDING: Expect = (403, "device_not_allowed")


def here(ok: int, elsewhere: Expect, center: int = 0) -> Callable[[int | None], Expect]:
    """A device of center ``center`` (c1's unless said): ``ok`` for that center's object,
    ``elsewhere`` for others' and a missing id."""
    return lambda t: (ok, None) if t == center else elsewhere


def device_center(role: str) -> int:
    """Where the device playing ``role`` stands: c3's center for ``other_device``, else c1's."""
    return 2 if role == OTHER_DEVICE else 0


def staff_only(ok: int) -> Callable[[str, int | None], Expect]:
    return lambda role, t: (ok, None) if role in STAFF else (401, "not_authenticated")


def staff_read(ok: int, missing: str) -> Callable[[str, int | None], Expect]:
    def expect(role: str, t: int | None) -> Expect:
        if role not in STAFF:
            return 401, "not_authenticated"
        return (ok, None) if t in SEEN[role] else (404, missing)

    return expect


def staff_act(
    ok: int, missing: str, refusal: str, seen: dict[str, set[int]] = SEEN
) -> Callable[[str, int | None], Expect]:
    """404 outside the scope, 403 ``refusal`` where the role may only look, else ``ok``."""

    def expect(role: str, t: int | None) -> Expect:
        if role not in STAFF:
            return 401, "not_authenticated"
        if t is None or t not in seen[role]:
            return 404, missing
        return (ok, None) if t in DESK.get(role, set()) else (403, refusal)

    return expect


ORGANISE = "not_an_organizer_here"
BOOKS = "not_desk_staff"


# --- checks of what a success did ------------------------------------------------------------------


def _pk(objs: list, t: int | None) -> int:
    return MISSING_PK if t is None else objs[t].pk


def _ids(response) -> set[int]:
    return {row["id"] for row in response.json()}


def _open_listed(m: Vx, role: str, t: int | None, response) -> None:
    assert _ids(response) == {a.pk for a in m.up}
    for row in response.json():
        assert [s["places_left"] for s in row["shifts"]] == [4, 4]


def _activity_shown(m: Vx, role: str, t: int, response) -> None:
    body = response.json()
    assert (body["id"], body["title"]) == (m.up[t].pk, f"社区清洁{t + 1}")
    assert [s["id"] for s in body["shifts"]] == [m.soon[t].pk, m.later[t].pk]


def _verified(m: Vx, role: str, t: int, response) -> None:
    body = response.json()
    assert (body["valid"], body["number"], body["name"]) == (True, m.certs[t].number, m.resident.masked_name)
    assert m.resident.id_number not in response.content.decode()


def _mine(m: Vx, role: str, t: int | None, response) -> None:
    body = response.json()
    if role == "resident":
        assert body["volunteer"]["number"] == m.volunteer.number and body["volunteer"]["hours"] == 3.0
        assert body["points_total"] == sum(
            Account.objects.filter(resident=m.resident).values_list("balance", flat=True)
        )
        assert len(body["signups"]) == 12 and len(body["records"]) == 3 and len(body["certificates"]) == 3
    else:
        assert (body["points_total"], body["signups"], body["records"], body["certificates"]) == (
            0,
            [],
            [],
            [],
        )
        assert (body["volunteer"] is None) == (role in STAFF)


def _signed_up(m: Vx, role: str, t: int, response) -> None:
    signup = Signup.objects.get(pk=response.json()["id"])
    assert (signup.shift, signup.volunteer.resident, signup.status) == (
        m.later[t],
        m.other_resident,
        "signed_up",
    )
    assert Shift.objects.get(pk=m.later[t].pk).taken == 2


def _withdrawn(m: Vx, role: str, t: int, response) -> None:
    signup = Signup.objects.get(pk=m.later_signups[t].pk)
    assert signup.status == response.json()["status"] == "cancelled"
    assert Shift.objects.get(pk=m.later[t].pk).taken == 0


def _correction_asked(m: Vx, role: str, t: int, response) -> None:
    c = Correction.objects.get(pk=response.json()["id"])
    assert (c.signup, c.volunteer, c.minutes_before, c.minutes_requested, c.status) == (
        m.served_signups[t],
        m.volunteer,
        60,
        45,
        "open",
    )


def _certificate_issued(m: Vx, role: str, t: int | None, response) -> None:
    c = Certificate.objects.get(pk=response.json()["id"])
    assert (c.volunteer, c.minutes, c.records) == (m.volunteer, 180, 3)


def _pdf(m: Vx, role: str, t: int, response) -> None:
    assert response["Content-Type"] == "application/pdf" and response.content[:5] == b"%PDF-"
    assert m.certs[t].number in response["Content-Disposition"]


def _kiosk_checked(m: Vx, role: str, t: int, response) -> None:
    signup = Signup.objects.get(pk=m.soon_signups[t].pk)
    assert signup.checked_in_at is not None and signup.check_in_by.startswith("device:")
    assert response.json()["id"] == signup.pk


def _staff_activities(m: Vx, role: str, t: int | None, response) -> None:
    assert _ids(response) == {a.pk for i in SEEN[role] for a in (m.up[i], m.drafts[i], m.past[i])}


def _activity_made(m: Vx, role: str, t: int, response) -> None:
    a = Activity.objects.get(pk=response.json()["id"])
    assert (a.center, a.created_by, a.status, a.organization) == (
        m.centers[t],
        m.user(role),
        "published",
        None,
    )
    assert a.shifts.count() == 1


def _staff_activity(m: Vx, role: str, t: int, response) -> None:
    assert response.json()["id"] == m.up[t].pk and len(response.json()["shifts"]) == 2


def _published(m: Vx, role: str, t: int, response) -> None:
    assert Activity.objects.get(pk=m.drafts[t].pk).status == response.json()["status"] == "published"


def _activity_cancelled(m: Vx, role: str, t: int, response) -> None:
    assert Activity.objects.get(pk=m.up[t].pk).status == "cancelled"
    assert Signup.objects.get(pk=m.later_signups[t].pk).status == "cancelled"
    assert Shift.objects.get(pk=m.later[t].pk).status == "cancelled"


def _roster(m: Vx, role: str, t: int, response) -> None:
    body = response.json()
    assert body["shift"]["id"] == m.ended[t].pk
    lines = {line["signup_id"]: line for line in body["lines"]}
    assert set(lines) == {m.ended_signups[t].pk}
    assert lines[m.ended_signups[t].pk]["measured_minutes"] == 120
    assert lines[m.ended_signups[t].pk]["name"] == m.resident.masked_name


def _staff_checked(m: Vx, role: str, t: int, response) -> None:
    signup = Signup.objects.get(pk=m.soon_signups[t].pk)
    assert signup.checked_in_at is not None and signup.check_in_by == f"staff:{m.user(role).pk}"


def _confirmed(m: Vx, role: str, t: int, response) -> None:
    [record] = response.json()
    assert (record["signup_id"], record["minutes"], record["points_awarded"]) == (
        m.ended_signups[t].pk,
        120,
        m.past[t].points_for(120),
    )
    assert Shift.objects.get(pk=m.ended[t].pk).status == "confirmed"
    assert Entry.objects.get(key=f"volunteering.record:{record['id']}").amount == m.past[t].points_for(120)


def _staff_corrections(m: Vx, role: str, t: int | None, response) -> None:
    assert _ids(response) == {m.corrections[i].pk for i in SEEN[role]}


def _decided(m: Vx, role: str, t: int, response) -> None:
    c = Correction.objects.get(pk=m.corrections[t].pk)
    assert (c.status, c.decided_by) == ("accepted", m.user(role))
    record = ServiceRecord.objects.get(signup_id=c.signup_id)
    assert (record.minutes, record.points_awarded) == (50, m.past[t].points_for(50))


def _volunteers(m: Vx, role: str, t: int | None, response) -> None:
    expected = {Volunteer.objects.get(resident=m.neighbours[i]).pk for i in RESIDENTS_SEEN[role]}
    if 0 in RESIDENTS_SEEN[role]:
        expected.add(m.volunteer.pk)
    if 2 in RESIDENTS_SEEN[role]:
        expected.add(Volunteer.objects.get(resident=m.other_resident).pk)
    assert _ids(response) == expected


def _hours(m: Vx, role: str, t: int | None, response) -> None:
    rows = response.json()
    if not SEEN[role]:
        assert rows == []
        return
    [row] = rows
    n = len(SEEN[role])
    assert (row["volunteer_number"], row["records"], row["minutes"]) == (m.volunteer.number, n, 60 * n)
    assert row["name"] == m.resident.masked_name


def _rewards(m: Vx, role: str, t: int | None, response) -> None:
    assert _ids(response) == {r.pk for r in (*m.drinks, *m.vouchers)}
    assert "stock" not in response.json()[0]


def _my_points(m: Vx, role: str, t: int | None, response) -> None:
    body = response.json()
    if role == "resident":
        # 3 points a confirmed hour, 100 on opening; a drink (3) and a voucher (5) spent, per community
        assert body["total"] == 3 * (3 + 100 - 3 - 5)
        assert [b["balance"] for b in body["balances"]] == [95, 95, 95]
    else:
        assert body == {"total": 0, "balances": [], "entries": []}


def _vending_rewards(m: Vx, role: str, t: int | None, response) -> None:
    assert _ids(response) == {m.drinks[device_center(role)].pk}


def _vended(m: Vx, role: str, t: int, response) -> None:
    body = response.json()
    assert response["Idempotent-Replayed"] == "false"
    assert (body["status"], body["vend"]["reward_id"], body["points"], body["balance"]) == (
        "approved",
        m.drinks[t].pk,
        3,
        92,
    )
    assert Reward.objects.get(pk=m.drinks[t].pk).stock == 8


def _queued(m: Vx, role: str, t: int | None, response) -> None:
    [answer] = response.json()
    if t == device_center(role):
        assert (answer["status"], answer["answer"]["points"]) == (201, 3)
        assert Reward.objects.get(pk=m.drinks[t].pk).stock == 8
    else:  # answered one by one: a reward of another center is not found, nothing moved
        assert (answer["status"], answer["answer"]["code"]) == (404, "reward_not_found")
        assert not Redemption.objects.filter(request_key=f"offline-{t}").exists()
        if t is not None:
            assert Reward.objects.get(pk=m.drinks[t].pk).stock == 9


def _refunded_vend(m: Vx, role: str, t: int, response) -> None:
    body = response.json()
    assert (body["redemption_id"], body["refunded_points"], body["balance"], body["replayed"]) == (
        m.vends[t].pk,
        3,
        98,
        False,
    )
    assert Redemption.objects.get(pk=m.vends[t].pk).status == "refunded"


def _staff_rewards(m: Vx, role: str, t: int | None, response) -> None:
    assert _ids(response) == {r.pk for i in SEEN[role] for r in (m.drinks[i], m.vouchers[i])}


def _reward_made(m: Vx, role: str, t: int, response) -> None:
    reward = Reward.objects.get(pk=response.json()["id"])
    assert (reward.center, reward.name, reward.stock) == (m.centers[t], "毛巾", 4)
    assert StockMove.objects.get(reward=reward).actor == m.user(role)


def _repriced(m: Vx, role: str, t: int, response) -> None:
    assert Reward.objects.get(pk=m.drinks[t].pk).price_points == response.json()["price_points"] == 4


def _restocked(m: Vx, role: str, t: int, response) -> None:
    move = StockMove.objects.get(pk=response.json()["id"])
    assert (move.reward_id, move.kind, move.delta, move.stock_after, move.actor) == (
        m.drinks[t].pk,
        "restock",
        5,
        14,
        m.user(role),
    )


def _counted(m: Vx, role: str, t: int, response) -> None:
    move = StockMove.objects.get(pk=response.json()["id"])
    assert (move.kind, move.delta, move.stock_after) == ("count", -2, 7)
    assert Reward.objects.get(pk=m.drinks[t].pk).stock == 7


def _moves(m: Vx, role: str, t: int, response) -> None:
    assert _ids(response) == set(StockMove.objects.filter(reward=m.drinks[t]).values_list("pk", flat=True))
    assert len(response.json()) == 2  # the opening stock and the drink sold


def _desk_redeemed(m: Vx, role: str, t: int, response) -> None:
    r = Redemption.objects.get(pk=response.json()["id"])
    assert (r.reward, r.channel, r.staff, r.points) == (m.vouchers[t], "desk", m.user(role), 5)
    assert response.json()["resident"] == m.resident.masked_name


def _redemptions(m: Vx, role: str, t: int, response) -> None:
    assert _ids(response) == {m.vends[t].pk, m.desk[t].pk}


def _refunded(m: Vx, role: str, t: int, response) -> None:
    assert Redemption.objects.get(pk=m.desk[t].pk).status == "refunded"
    assert (response.json()["refunded_points"], response.json()["balance"]) == (5, 100)


def _adjusted(m: Vx, role: str, t: int, response) -> None:
    e = Entry.objects.get(pk=response.json()["id"])
    assert (e.kind, e.amount, e.balance_after, e.actor, e.account.community) == (
        "adjust",
        5,
        100,
        m.user(role),
        m.centers[t].community,
    )


def _ledger(m: Vx, role: str, t: int, response) -> None:
    body = response.json()
    assert (body["center_id"], body["issued"], body["spent"], body["outstanding"]) == (
        m.centers[t].pk,
        103,
        8,
        95,
    )
    assert len(body["entries"]) == 4


def _reconciled(m: Vx, role: str, t: int, response) -> None:
    lines = {line["reward_id"]: line for line in response.json()}
    assert set(lines) == {m.drinks[t].pk, m.vouchers[t].pk}
    assert all(line["balanced"] for line in lines.values())


# --- the table ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    method: str
    template: str  # as in the OpenAPI schema, without /api/v1
    expect: Callable[[str, int | None], Expect]
    path: Callable[[Vx, int | None], str]
    body: Callable[[Vx, int | None], dict] | None = None
    query: Callable[[Vx, int | None], dict] | None = None
    check: Callable[[Vx, str, Any, Any], None] | None = None
    targeted: bool = True
    keyed: bool = False  # sends an Idempotency-Key

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


def _new_activity(m: Vx, t: int | None) -> dict:
    start = at(5, 9)
    return {
        "center_id": _pk(m.centers, t),
        "title": "图书整理",
        "points_per_hour": 1,
        "shifts": [
            {
                "role": "整理员",
                "place": "图书角",
                "starts_at": start.isoformat(),
                "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
                "needed": 3,
            }
        ],
    }


def _week(m: Vx, t: int | None) -> dict:
    today = timezone.localdate()
    return {"from": str(today - dt.timedelta(days=7)), "to": str(today)}


def _center(m: Vx, t: int | None) -> dict:
    return {"center": _pk(m.centers, t)}


OPS: list[Op] = [
    # --- volunteering: the public ---
    Op(
        "GET",
        "/volunteer/activities",
        everyone(200),
        lambda m, t: "/volunteer/activities",
        check=_open_listed,
        targeted=False,
    ),
    Op(
        "GET",
        "/volunteer/activities/{activity_id}",
        public(200, "activity_not_found"),
        lambda m, t: f"/volunteer/activities/{_pk(m.up, t)}",
        check=_activity_shown,
    ),
    Op(
        "GET",
        "/certificates/verify/{code}",
        public(200, "certificate_not_found"),
        lambda m, t: f"/certificates/verify/{'ZZZZZZZZZZZZ' if t is None else m.certs[t].code}",
        check=_verified,
    ),
    # --- volunteering: volunteers ---
    Op(
        "POST",
        "/me/volunteer",
        register,
        lambda m, t: "/me/volunteer",
        body=lambda m, t: {"consent": True},
        targeted=False,
    ),
    Op(
        "GET",
        "/me/volunteering",
        any_signed_in(200),
        lambda m, t: "/me/volunteering",
        check=_mine,
        targeted=False,
    ),
    Op(
        "POST",
        "/shifts/{shift_id}/signups",
        volunteer_only((409, "already_signed_up"), (201, None), missing="shift_not_found"),
        lambda m, t: f"/shifts/{_pk(m.later, t)}/signups",
        check=_signed_up,
    ),
    Op(
        "POST",
        "/me/signups/{signup_id}/cancel",
        volunteer_only((200, None), (404, "signup_not_found"), missing="signup_not_found"),
        lambda m, t: f"/me/signups/{_pk(m.later_signups, t)}/cancel",
        check=_withdrawn,
    ),
    Op(
        "POST",
        "/me/corrections",
        volunteer_only((201, None), (404, "signup_not_found"), missing="signup_not_found"),
        lambda m, t: "/me/corrections",
        body=lambda m, t: {"signup_id": _pk(m.served_signups, t), "minutes": 45, "reason": "提前离开了"},
        check=_correction_asked,
    ),
    Op(
        "POST",
        "/me/certificates",
        volunteer_only((201, None), (409, "nothing_to_certify")),
        lambda m, t: "/me/certificates",
        check=_certificate_issued,
        targeted=False,
    ),
    Op(
        "GET",
        "/me/certificates/{certificate_id}.pdf",
        mine_only(200, "certificate_not_found"),
        lambda m, t: f"/me/certificates/{_pk(m.certs, t)}.pdf",
        check=_pdf,
    ),
    # --- volunteering: devices ---
    Op(
        "POST",
        "/devices/volunteering/shifts/{shift_id}/check",
        device(
            here(200, (404, "shift_not_found")),
            lambda t: NOT_VENDING if t == 0 else (404, "shift_not_found"),
            here(200, (404, "shift_not_found"), center=2),
        ),
        lambda m, t: f"/devices/volunteering/shifts/{_pk(m.soon, t)}/check",
        body=lambda m, t: {"token": pass_of(m.resident), "direction": "in"},
        check=_kiosk_checked,
    ),
    # --- volunteering: staff ---
    Op(
        "GET",
        "/staff/volunteer/activities",
        staff_only(200),
        lambda m, t: "/staff/volunteer/activities",
        check=_staff_activities,
        targeted=False,
    ),
    Op(
        "POST",
        "/staff/volunteer/activities",
        # Partner staff see the center their organisation works at; they must name it.
        staff_act(201, "center_not_found", ORGANISE, seen={**SEEN, "partner": {2}}),
        lambda m, t: "/staff/volunteer/activities",
        body=_new_activity,
        check=_activity_made,
    ),
    Op(
        "GET",
        "/staff/volunteer/activities/{activity_id}",
        staff_read(200, "activity_not_found"),
        lambda m, t: f"/staff/volunteer/activities/{_pk(m.up, t)}",
        check=_staff_activity,
    ),
    Op(
        "POST",
        "/staff/volunteer/activities/{activity_id}/publish",
        staff_act(200, "activity_not_found", ORGANISE),
        lambda m, t: f"/staff/volunteer/activities/{_pk(m.drafts, t)}/publish",
        check=_published,
    ),
    Op(
        "POST",
        "/staff/volunteer/activities/{activity_id}/cancel",
        staff_act(200, "activity_not_found", ORGANISE),
        lambda m, t: f"/staff/volunteer/activities/{_pk(m.up, t)}/cancel",
        body=lambda m, t: {"reason": "暴雨预警"},
        check=_activity_cancelled,
    ),
    Op(
        "GET",
        "/staff/volunteer/shifts/{shift_id}/roster",
        staff_read(200, "shift_not_found"),
        lambda m, t: f"/staff/volunteer/shifts/{_pk(m.ended, t)}/roster",
        check=_roster,
    ),
    Op(
        "POST",
        "/staff/volunteer/shifts/{shift_id}/check",
        staff_act(200, "shift_not_found", ORGANISE),
        lambda m, t: f"/staff/volunteer/shifts/{_pk(m.soon, t)}/check",
        body=lambda m, t: {"token": pass_of(m.resident), "direction": "in"},
        check=_staff_checked,
    ),
    Op(
        "POST",
        "/staff/volunteer/shifts/{shift_id}/confirm",
        staff_act(200, "shift_not_found", ORGANISE),
        lambda m, t: f"/staff/volunteer/shifts/{_pk(m.ended, t)}/confirm",
        body=lambda m, t: {"lines": []},
        check=_confirmed,
    ),
    Op(
        "GET",
        "/staff/volunteer/corrections",
        staff_only(200),
        lambda m, t: "/staff/volunteer/corrections",
        check=_staff_corrections,
        targeted=False,
    ),
    Op(
        "POST",
        "/staff/volunteer/corrections/{correction_id}/decide",
        staff_act(200, "correction_not_found", ORGANISE),
        lambda m, t: f"/staff/volunteer/corrections/{_pk(m.corrections, t)}/decide",
        body=lambda m, t: {"accept": True},
        check=_decided,
    ),
    Op(
        "GET",
        "/staff/volunteers",
        staff_only(200),
        lambda m, t: "/staff/volunteers",
        check=_volunteers,
        targeted=False,
    ),
    Op(
        "GET",
        "/staff/volunteer/hours",
        staff_only(200),
        lambda m, t: "/staff/volunteer/hours",
        query=_week,
        check=_hours,
        targeted=False,
    ),
    # --- points: the public and residents ---
    Op("GET", "/rewards", everyone(200), lambda m, t: "/rewards", check=_rewards, targeted=False),
    Op("GET", "/me/points", any_signed_in(200), lambda m, t: "/me/points", check=_my_points, targeted=False),
    # --- points: vending machines ---
    Op(
        "GET",
        "/devices/vending/rewards",
        # The catalogue is public anyway: any signed device of the center may show it.
        device(lambda t: (200, None), lambda t: (200, None), lambda t: (200, None)),
        lambda m, t: "/devices/vending/rewards",
        check=_vending_rewards,
        targeted=False,
    ),
    Op(
        "POST",
        "/devices/vending/redemptions",
        device(
            lambda t: NOT_VENDING,
            here(201, (404, "reward_not_found")),
            here(201, (404, "reward_not_found"), center=2),
        ),
        lambda m, t: "/devices/vending/redemptions",
        body=lambda m, t: {"token": pass_of(m.resident), "reward_id": _pk(m.drinks, t), "quantity": 1},
        check=_vended,
        keyed=True,
    ),
    Op(
        "POST",
        "/devices/vending/redemptions/queue",
        device(lambda t: NOT_VENDING, lambda t: (200, None), lambda t: (200, None)),
        lambda m, t: "/devices/vending/redemptions/queue",
        body=lambda m, t: {
            "requests": [
                {
                    "idempotency_key": f"offline-{t}",
                    "token": old_pass(m.resident, 90),
                    "reward_id": _pk(m.drinks, t),
                    "quantity": 1,
                    "shown_at": (timezone.now() - dt.timedelta(seconds=60)).isoformat(),
                }
            ]
        },
        check=_queued,
    ),
    Op(
        "POST",
        "/devices/vending/failures",
        # Another machine's sale is not found, even with its key: c3's machine cannot refund vend-0.
        device(
            lambda t: NOT_VENDING,
            here(200, (404, "redemption_not_found")),
            here(200, (404, "redemption_not_found"), center=2),
        ),
        lambda m, t: "/devices/vending/failures",
        body=lambda m, t: {"idempotency_key": "vend-none" if t is None else f"vend-{t}", "reason": "卡货"},
        check=_refunded_vend,
    ),
    # --- points: staff ---
    Op(
        "GET",
        "/staff/rewards",
        staff_only(200),
        lambda m, t: "/staff/rewards",
        check=_staff_rewards,
        targeted=False,
    ),
    Op(
        "POST",
        "/staff/rewards",
        staff_act(201, "center_not_found", BOOKS, seen=RESIDENTS_SEEN),
        lambda m, t: "/staff/rewards",
        body=lambda m, t: {
            "center_id": _pk(m.centers, t),
            "kind": "goods",
            "name": "毛巾",
            "price_points": 8,
            "stock": 4,
        },
        check=_reward_made,
    ),
    Op(
        "PATCH",
        "/staff/rewards/{reward_id}",
        staff_act(200, "reward_not_found", BOOKS),
        lambda m, t: f"/staff/rewards/{_pk(m.drinks, t)}",
        body=lambda m, t: {"price_points": 4},
        check=_repriced,
    ),
    Op(
        "POST",
        "/staff/rewards/{reward_id}/restock",
        staff_act(200, "reward_not_found", BOOKS),
        lambda m, t: f"/staff/rewards/{_pk(m.drinks, t)}/restock",
        body=lambda m, t: {"quantity": 5, "reason": "补货"},
        check=_restocked,
    ),
    Op(
        "POST",
        "/staff/rewards/{reward_id}/count",
        staff_act(200, "reward_not_found", BOOKS),
        lambda m, t: f"/staff/rewards/{_pk(m.drinks, t)}/count",
        body=lambda m, t: {"counted": 7, "reason": "盘点短少"},
        check=_counted,
    ),
    Op(
        "GET",
        "/staff/rewards/{reward_id}/moves",
        staff_read(200, "reward_not_found"),
        lambda m, t: f"/staff/rewards/{_pk(m.drinks, t)}/moves",
        check=_moves,
    ),
    Op(
        "POST",
        "/staff/points/redemptions",
        staff_act(201, "reward_not_found", BOOKS),
        lambda m, t: "/staff/points/redemptions",
        body=lambda m, t: {"token": pass_of(m.resident), "reward_id": _pk(m.vouchers, t), "quantity": 1},
        check=_desk_redeemed,
    ),
    Op(
        "GET",
        "/staff/points/redemptions",
        staff_read(200, "center_not_found"),
        lambda m, t: "/staff/points/redemptions",
        query=_center,
        check=_redemptions,
    ),
    Op(
        "POST",
        "/staff/points/redemptions/{redemption_id}/refund",
        staff_act(200, "redemption_not_found", BOOKS),
        lambda m, t: f"/staff/points/redemptions/{_pk(m.desk, t)}/refund",
        body=lambda m, t: {"reason": "退货"},
        check=_refunded,
    ),
    Op(
        "POST",
        "/staff/points/adjustments",
        staff_act(201, "center_not_found", BOOKS, seen=RESIDENTS_SEEN),
        lambda m, t: "/staff/points/adjustments",
        body=lambda m, t: {
            "resident_id": m.resident.pk,
            "center_id": _pk(m.centers, t),
            "amount": 5,
            "reason": "补录",
        },
        check=_adjusted,
    ),
    Op(
        "GET",
        "/staff/points/ledger",
        staff_read(200, "center_not_found"),
        lambda m, t: "/staff/points/ledger",
        query=_center,
        check=_ledger,
    ),
    Op(
        "GET",
        "/staff/points/reconciliation",
        staff_read(200, "center_not_found"),
        lambda m, t: "/staff/points/reconciliation",
        query=_center,
        check=_reconciled,
    ),
]

CASES = [pytest.param(role, op, id=f"{role}:{op}") for op in OPS for role in ROLES] + [
    pytest.param(OTHER_DEVICE, op, id=f"{OTHER_DEVICE}:{op}")
    for op in OPS
    if (op.method, op.template) in OTHER_DEVICE_ROWS
]


def client_for(role: str, m: Vx, template: str = "") -> Api:
    if role == "anonymous":
        return Api()
    if role == "kiosk":
        return m.kiosk
    if role == "vending":
        return m.vending
    if role == OTHER_DEVICE:  # of the kind the row wants
        return m.other_vending if template.startswith("/devices/vending/") else m.other_kiosk
    return resident_api(m.user(role)) if role in RESIDENTS else staff_api(m.user(role))


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "op"), CASES)
def test_volunteering_and_points_api_permissions(vx, role, op):
    client = client_for(role, vx, op.template)
    targets = TARGETS if op.targeted else (0,)
    if op.expect(role, 0)[0] == 401:
        targets = (0,)  # refused before any object is looked up: one target says it all
    for n, target in enumerate(targets):
        status, code = op.expect(role, target)
        path = op.path(vx, target)
        body = op.body(vx, target) if op.body else None
        headers = {"Idempotency-Key": f"perm-{n}"} if op.keyed else None

        def call(path=path, body=body, headers=headers, target=target):
            if op.method == "GET":
                return client.get(path, **(op.query(vx, target) if op.query else {}))
            return client.send(op.method, path, body, headers=headers)

        # A signed request spends its nonce; a vending machine's refusal is kept for its retries.
        ignore = ("RequestNonce", "idempotency records") if role in SIGNED else ()
        play_cell(
            call,
            status,
            code,
            where=target,
            guard=lambda ignore=ignore: unchanged(ignore=ignore),
            check=(lambda response, t=target: op.check(vx, role, t, response)) if op.check else None,
        )
    assert points.ledger_check() == []


@pytest.mark.django_db
def test_the_table_covers_every_volunteering_and_points_operation(api):
    assert_table_covers(
        api, tagged(*TAGS), [(op.method, op.template) for op in OPS], "volunteering or points"
    )
    assert OTHER_DEVICE_ROWS - {(op.method, op.template) for op in OPS} == set(), (
        "other_device rows that are gone"
    )


# --- beyond the table ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_partner_staff_organise_in_their_organisations_name_only(vx, roles):
    partner = staff_api(roles["partner"])
    org = roles["partner"].staff_roles.get().organization
    body = {**_new_activity(vx, 2), "organization_id": org.pk, "publish": False}
    made = partner.post("/staff/volunteer/activities", body)
    assert made.status_code == 201, made.content
    activity = Activity.objects.get(pk=made.json()["id"])
    assert (activity.organization, activity.center, activity.status) == (org, vx.centers[2], "draft")
    assert made.json()["organizer"] == org.name
    # Their own activity: they publish it and cancel it.
    assert partner.post(f"/staff/volunteer/activities/{activity.pk}/publish").json()["status"] == "published"
    cancelled = partner.post(f"/staff/volunteer/activities/{activity.pk}/cancel", {"reason": "场地冲突"})
    assert cancelled.json()["status"] == "cancelled"
    # Another organisation working at the same center, or their own at a center it does not work at.
    rival = new_organization(vx.centers[2])
    for center, organization, code in (
        (2, rival, "organization_not_found"),
        (0, org, "center_not_found"),
        (2, new_organization(), "organization_not_found"),
    ):
        with unchanged():
            response = partner.post(
                "/staff/volunteer/activities",
                {**_new_activity(vx, center), "organization_id": organization.pk},
            )
        assert (response.status_code, response.json()["code"]) == (404, code), response.content
    # The center's own desk may name the organisation that runs an activity there.
    desk = staff_api(roles["other_community"])
    named = desk.post("/staff/volunteer/activities", {**_new_activity(vx, 2), "organization_id": rival.pk})
    assert named.status_code == 201 and named.json()["organizer"] == rival.name


@pytest.mark.django_db
def test_partner_staff_confirm_the_hours_of_their_own_activity_only(vx, roles):
    org = roles["partner"].staff_roles.get().organization
    Activity.objects.filter(pk=vx.past[2].pk).update(organization=org)
    partner = staff_api(roles["partner"])
    confirmed = partner.post(f"/staff/volunteer/shifts/{vx.ended[2].pk}/confirm", {"lines": []})
    assert confirmed.status_code == 200, confirmed.content
    assert [r["minutes"] for r in confirmed.json()] == [120]
    decided = partner.post(
        f"/staff/volunteer/corrections/{vx.corrections[2].pk}/decide", {"accept": False, "note": "无记录"}
    )
    assert decided.json()["status"] == "rejected"
    # Not the desk's activity next to it (they do not see it), nor anything at another center.
    with unchanged():
        response = partner.post(f"/staff/volunteer/activities/{vx.up[2].pk}/cancel", {"reason": "x"})
    assert (response.status_code, response.json()["code"]) == (404, "activity_not_found")
    with unchanged():
        response = partner.post(f"/staff/volunteer/activities/{vx.up[0].pk}/cancel", {"reason": "x"})
    assert (response.status_code, response.json()["code"]) == (404, "activity_not_found")


@pytest.mark.django_db
def test_staff_filters_cannot_widen_the_scope(vx, roles):
    worker = staff_api(roles["community"])
    for center in (vx.centers[1].pk, vx.centers[2].pk):
        assert worker.get("/staff/volunteer/activities", center=center).json() == []
        assert worker.get("/staff/rewards", center=center).json() == []
        assert worker.get("/staff/volunteer/hours", center=center, **_week(vx, 0)).json() == []
    drafts = worker.get("/staff/volunteer/activities", center=vx.centers[0].pk, status="draft").json()
    assert [a["id"] for a in drafts] == [vx.drafts[0].pk]


@pytest.mark.django_db
def test_a_draft_is_not_public(vx, api):
    with unchanged():
        assert api.get(f"/volunteer/activities/{vx.drafts[0].pk}").json()["code"] == "activity_not_found"
    shift = vx.drafts[0].shifts.get()
    me = resident_api(vx.other_resident.user)
    with unchanged():
        response = me.post(f"/shifts/{shift.pk}/signups")
    assert (response.status_code, response.json()["code"]) == (404, "shift_not_found")


@pytest.mark.django_db
def test_registering_as_a_volunteer(vx, place):
    newcomer = new_resident(place["communities"][1])
    me = resident_api(newcomer.user)
    with unchanged():
        refused = me.post("/me/volunteer", {"consent": False})
    assert (refused.status_code, refused.json()["code"]) == (400, "consent_required")
    made = me.post("/me/volunteer", {"consent": True, "skills": "摄影"})
    assert made.status_code == 201, made.content
    assert Volunteer.objects.get(resident=newcomer).number == made.json()["number"]


@pytest.mark.django_db
def test_devices_need_a_valid_signature(vx):
    check = f"/devices/volunteering/shifts/{vx.soon[0].pk}/check"
    body = {"token": pass_of(vx.resident), "direction": "in"}
    for client, code in (
        (SignedDevice(vx.kiosk.key_id, "not-the-secret"), "signature_invalid"),
        (SignedDevice("dk_unknown", vx.kiosk.secret), "device_unknown"),
    ):
        with unchanged():
            response = client.post(check, body)
            sale = client.post(
                "/devices/vending/redemptions",
                {"token": pass_of(vx.resident), "reward_id": vx.drinks[0].pk},
                headers={"Idempotency-Key": "x"},
            )
            listed = client.get("/devices/vending/rewards")
        for r in (response, sale, listed):
            assert (r.status_code, r.json()["code"]) == (401, code)
    assert Signup.objects.get(pk=vx.soon_signups[0].pk).checked_in_at is None


# --- pages ---------------------------------------------------------------------------------------------

PAGE_ROLES = ("anonymous", *RESIDENTS, *STAFF)


PAGES: list[Page] = [
    page_row("GET", "volunteer/", open_page(200), lambda m, t: "/volunteer/"),
    page_row(
        "GET",
        "volunteer/activities/<id:activity_id>/",
        open_page(200),
        lambda m, t: f"/volunteer/activities/{m.up[t].pk}/",
        True,
    ),
    page_row(
        "GET",
        "volunteer/activities/<id:activity_id>/",
        open_page(404),  # a draft: nobody finds it among the residents' pages
        lambda m, t: f"/volunteer/activities/{m.drafts[t].pk}/",
        True,
    ),
    page_row(
        "POST",
        "volunteer/shifts/<id:shift_id>/signup/",
        resident_page(
            Moved("/volunteer/", refused=True),
            other=Moved("/volunteer/"),
            staff=Moved("/volunteer/", refused=True),
        ),
        lambda m, t: f"/volunteer/shifts/{m.soon[t].pk}/signup/",
        True,
    ),
    page_row("GET", "me/volunteering/", resident_page(200), lambda m, t: "/me/volunteering/"),
    page_row(
        "POST",
        "me/volunteering/register/",
        resident_page(400, staff=Moved("/me/profile/", refused=True)),
        lambda m, t: "/me/volunteering/register/",
    ),
    page_row(
        "POST",
        "me/volunteering/signups/<id:signup_id>/cancel/",
        resident_page(Moved("/me/volunteering/"), other=404, staff=Moved("/me/volunteering/", refused=True)),
        lambda m, t: f"/me/volunteering/signups/{m.later_signups[t].pk}/cancel/",
        True,
    ),
    page_row(
        "POST",
        "me/volunteering/corrections/",
        resident_page(400, staff=403),
        lambda m, t: "/me/volunteering/corrections/",
    ),
    page_row(
        "POST",
        "me/volunteering/certificates/",
        resident_page(Moved("/me/volunteering/"), other=400, staff=403),
        lambda m, t: "/me/volunteering/certificates/",
    ),
    page_row(
        "GET",
        "me/certificates/<id:certificate_id>.pdf",
        resident_page(200, other=404, staff=404),
        lambda m, t: f"/me/certificates/{m.certs[0].pk}.pdf",
    ),
    page_row("GET", "certificates/verify/", open_page(200), lambda m, t: "/certificates/verify/"),
    page_row(
        "GET",
        "certificates/verify/<str:code>/",
        open_page(200),
        lambda m, t: f"/certificates/verify/{m.certs[0].code}/",
    ),
    page_row("GET", "me/points/", resident_page(200), lambda m, t: "/me/points/"),
    page_row("GET", "rewards/", open_page(200), lambda m, t: "/rewards/"),
    page_row("GET", "console/volunteering/", console(), lambda m, t: "/console/volunteering/"),
    page_row("GET", "console/volunteering/new/", console(), lambda m, t: "/console/volunteering/new/"),
    page_row(
        "GET",
        "console/volunteering/<id:activity_id>/",
        console(seen(SEEN)),
        lambda m, t: f"/console/volunteering/{m.up[t].pk}/",
        True,
    ),
    page_row(
        "GET",
        "console/volunteering/shifts/<id:shift_id>/",
        console(seen(SEEN)),
        lambda m, t: f"/console/volunteering/shifts/{m.soon[t].pk}/",
        True,
    ),
    page_row(
        "GET",
        "console/volunteering/corrections/",
        console(),
        lambda m, t: "/console/volunteering/corrections/",
    ),
    page_row(
        "GET", "console/volunteering/volunteers/", console(), lambda m, t: "/console/volunteering/volunteers/"
    ),
    page_row("GET", "console/volunteering/hours/", console(), lambda m, t: "/console/volunteering/hours/"),
    page_row("GET", "console/points/", console(), lambda m, t: "/console/points/"),
    page_row("GET", "console/points/rewards/", console(), lambda m, t: "/console/points/rewards/"),
    page_row(
        "GET",
        "console/points/rewards/<id:reward_id>/",
        console(seen(SEEN)),
        lambda m, t: f"/console/points/rewards/{m.vouchers[t].pk}/",
        True,
    ),
    page_row("GET", "console/points/desk/", console(), lambda m, t: "/console/points/desk/"),
    page_row(
        "GET", "console/points/reconciliation/", console(), lambda m, t: "/console/points/reconciliation/"
    ),
    page_row("GET", "console/points/adjust/", console(), lambda m, t: "/console/points/adjust/"),
]


@pytest.mark.django_db
def test_volunteering_and_points_pages_for_every_role(vx):
    play_pages(vx, PAGES, PAGE_ROLES, lambda role: page_browser(role, vx.user, RESIDENTS), guard=unchanged)


MATRIX = Matrix(
    api_roles=ROLES,
    api_cells=param_cells(CASES, lambda op: (op.method, op.template)),
    page_roles=PAGE_ROLES,
    page_cells=cells(PAGES, PAGE_ROLES, page_key),
    devices_elsewhere=(OTHER_DEVICE,),
)
