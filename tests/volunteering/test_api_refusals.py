"""Every bad input the volunteering and points issue lists, through the HTTP API: the exact status
and stable code, and inside ``unchanged()`` the proof that nothing moved (no ledger entry, no
stock move, balance and stock as they were, no sign-up, record or correction written or changed).

A vending machine's refusal is kept as the answer to its idempotency key (its retries get the
same refusal) and a signed request spends its nonce: those two rows, and only those, may appear.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time

import pytest
from django.conf import settings
from django.utils import timezone

from livingroom.core import signing
from livingroom.core.models import IdempotencyRecord
from livingroom.people import passes
from livingroom.places.models import Device
from livingroom.points import services as points
from livingroom.points.models import Account, Entry, Redemption, Reward, StockMove
from livingroom.volunteering.models import ServiceRecord, Shift, Signup
from tests import factories as f
from tests.conftest import Api, resident_api, staff_api
from tests.invariants import assert_error
from tests.volunteering.conftest import activity, give_points, pass_of
from tests.volunteering.test_api_permissions import SignedDevice, old_pass, unchanged

pytestmark = pytest.mark.django_db

HUGE_ID = 10**20
DEVICE_ROWS = ("RequestNonce", "idempotency records")
REDEEM = "/devices/vending/redemptions"
QUEUE = "/devices/vending/redemptions/queue"


def refused(call, status: int, code: str, field: str | None = "-", ignore: tuple[str, ...] = ()) -> dict:
    """``call()`` is refused with this status and code, and nothing changes."""
    with unchanged(ignore):
        response = call()
    return assert_error(response, status, code, field)


def machine(world, name: str = "vending") -> SignedDevice:
    device, secret = world[name]
    return SignedDevice(device.key_id, secret)


def redeem(client: Api, token: str, reward, key: str, quantity=1):
    body = {
        "token": token,
        "reward_id": reward if isinstance(reward, int | str) else reward.pk,
        "quantity": quantity,
    }
    return client.post(REDEEM, body, headers={"Idempotency-Key": key})


def balance(resident) -> int:
    return sum(Account.objects.filter(resident=resident).values_list("balance", flat=True))


def stock(reward) -> int:
    return Reward.objects.get(pk=reward.pk).stock


def books_are_right() -> None:
    assert points.ledger_check() == []


@pytest.fixture
def rich(vworld):
    """A volunteer of 固戍 with 10 points there (a drink costs 3)."""
    resident = vworld["residents"][0]
    give_points(vworld, resident, 10, key="rich")
    return resident


@pytest.fixture
def away(vworld, place):
    """A vending machine and a kiosk of 龙珠's center (another community)."""
    vending, vending_secret = f.device_for(place["centers"][1], Device.Kind.VENDING_MACHINE)
    kiosk, kiosk_secret = f.device_for(place["centers"][1], Device.Kind.KIOSK)
    return {"vending": (vending, vending_secret), "kiosk": (kiosk, kiosk_secret)}


# --- the vending machine: points, stock and the pass ----------------------------------------------


def test_insufficient_points(vworld):
    poor = vworld["residents"][0]
    give_points(vworld, poor, 2, key="poor")
    vm = machine(vworld)
    body = refused(
        lambda: redeem(vm, pass_of(poor), vworld["drink"], "poor-1"),
        409,
        "insufficient_points",
        ignore=DEVICE_ROWS,
    )
    assert "2" in body["message"] and "3" in body["message"]
    # Two drinks cost 6: still too many for 2 points. A resident without an account has 0.
    refused(
        lambda: redeem(vm, pass_of(poor), vworld["drink"], "poor-2", quantity=2),
        409,
        "insufficient_points",
        ignore=DEVICE_ROWS,
    )
    refused(
        lambda: redeem(vm, pass_of(vworld["residents"][1]), vworld["drink"], "none-1"),
        409,
        "insufficient_points",
        ignore=DEVICE_ROWS,
    )
    assert (balance(poor), stock(vworld["drink"]), Redemption.objects.count()) == (2, 10, 0)
    # At the desk too: the voucher costs 20.
    desk = staff_api(vworld["desk"])
    refused(
        lambda: desk.post(
            "/staff/points/redemptions",
            {"token": pass_of(poor), "reward_id": vworld["voucher"].pk, "quantity": 1},
        ),
        409,
        "insufficient_points",
    )
    books_are_right()


def test_out_of_stock(vworld, rich):
    vm = machine(vworld)
    # Ten in stock: eleven cannot be sold (the quantity is checked against the stock, not sliced).
    give_points(vworld, rich, 30, key="richer")
    refused(
        lambda: redeem(vm, pass_of(rich), vworld["drink"], "oos-11", quantity=11),
        409,
        "out_of_stock",
        ignore=DEVICE_ROWS,
    )
    points.reward_count(
        staff=vworld["desk"],
        scope=vworld["scope"],
        reward_id=vworld["drink"].pk,
        counted=0,
        reason="全部过期",
    )
    refused(
        lambda: redeem(vm, pass_of(rich), vworld["drink"], "oos-1"), 409, "out_of_stock", ignore=DEVICE_ROWS
    )
    desk = staff_api(vworld["desk"])
    refused(
        lambda: desk.post(
            "/staff/points/redemptions",
            {"token": pass_of(rich), "reward_id": vworld["drink"].pk, "quantity": 1},
        ),
        409,
        "out_of_stock",  # the desk sells from the same stock
    )
    assert (balance(rich), stock(vworld["drink"])) == (40, 0)
    books_are_right()


def test_a_reward_the_machine_does_not_sell(vworld, rich):
    vm = machine(vworld)
    refused(
        lambda: redeem(vm, pass_of(rich), vworld["voucher"], "voucher-1"),
        409,
        "reward_unavailable",
        ignore=DEVICE_ROWS,
    )
    staff_api(vworld["desk"]).send("PATCH", f"/staff/rewards/{vworld['drink'].pk}", {"is_active": False})
    refused(
        lambda: redeem(vm, pass_of(rich), vworld["drink"], "off-1"),
        409,
        "reward_unavailable",
        ignore=DEVICE_ROWS,
    )
    assert balance(rich) == 10


def test_an_expired_pass(vworld, rich):
    vm = machine(vworld)
    stale = old_pass(rich, settings.LIVINGROOM_PASS_TTL + 5)
    refused(
        lambda: redeem(vm, stale, vworld["drink"], "old-1"), 400, "pass_expired", "token", ignore=DEVICE_ROWS
    )
    # From the future (a clock far ahead) is no better.
    ahead = passes.encode(rich.pk, int(time.time()) + 120)
    refused(
        lambda: redeem(vm, ahead, vworld["drink"], "ahead-1"),
        400,
        "pass_expired",
        "token",
        ignore=DEVICE_ROWS,
    )
    assert (balance(rich), stock(vworld["drink"])) == (10, 10)


def _flip(token: str, index: int) -> str:
    return token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]


@pytest.mark.parametrize(
    "forge",
    [
        lambda r: _flip(pass_of(r), -3),  # the MAC changed
        lambda r: _flip(pass_of(r), 8),  # the body changed
        lambda r: passes.encode(987654, int(time.time())),  # no such resident
        lambda r: "LR1." + "A" * 54,
        lambda r: "",
        lambda r: "not a pass",
    ],
    ids=["mac", "body", "nobody", "wrong-length", "empty", "garbage"],
)
def test_a_forged_pass(vworld, rich, forge):
    vm = machine(vworld)
    token = forge(rich)
    refused(
        lambda: redeem(vm, token, vworld["drink"], "forged"), 400, "pass_invalid", "token", ignore=DEVICE_ROWS
    )
    # The refusal is the key's answer: the machine's retry gets it again, nothing more happens.
    with unchanged(DEVICE_ROWS):
        again = redeem(vm, token, vworld["drink"], "forged")
    assert_error(again, 400, "pass_invalid", "token")
    assert again["Idempotent-Replayed"] == "true"
    assert (balance(rich), stock(vworld["drink"])) == (10, 10)


def test_a_pass_that_is_too_long_is_invalid_input(vworld, rich):
    refused(
        lambda: redeem(machine(vworld), "LR1." + "A" * 500, vworld["drink"], "long"),
        400,
        "invalid_input",
        "token",
        ignore=DEVICE_ROWS,
    )


def test_a_replayed_pass_with_a_new_key(vworld, rich):
    vm = machine(vworld)
    token = pass_of(rich)
    assert redeem(vm, token, vworld["drink"], "first").status_code == 201
    refused(
        lambda: redeem(vm, token, vworld["drink"], "second"),
        409,
        "pass_replayed",
        "token",
        ignore=DEVICE_ROWS,
    )
    # Another machine of the center, or the desk, cannot take the same pass either.
    refused(
        lambda: redeem(machine(vworld, "vending2"), token, vworld["drink"], "third"),
        409,
        "pass_replayed",
        "token",
        ignore=DEVICE_ROWS,
    )
    assert (balance(rich), stock(vworld["drink"]), Redemption.objects.count()) == (7, 9, 1)
    books_are_right()


def test_a_stored_refusal_replays_with_the_same_status_and_code(vworld):
    poor = vworld["residents"][0]
    give_points(vworld, poor, 2, key="poor")
    vm = machine(vworld)
    token = pass_of(poor)
    first = redeem(vm, token, vworld["drink"], "poor-1")
    assert_error(first, 409, "insufficient_points")
    assert first["Idempotent-Replayed"] == "false"
    # Points arrive in between: the retry of that request is still the refusal it was given.
    give_points(vworld, poor, 10, key="later")
    with unchanged(DEVICE_ROWS):
        retry = redeem(vm, token, vworld["drink"], "poor-1")
    assert (retry.status_code, retry.json(), retry["Idempotent-Replayed"]) == (409, first.json(), "true")
    assert IdempotencyRecord.objects.filter(key="poor-1").count() == 1
    # A new request (new key) is a new question: the pass was not spent by the refusal.
    assert redeem(vm, token, vworld["drink"], "poor-2").status_code == 201
    assert balance(poor) == 9


# --- signatures ------------------------------------------------------------------------------------


def signed_send(
    device, secret, body: bytes, *, timestamp: int | None = None, nonce: str | None = None, key="k1"
):
    """A redemption signed by hand: the test picks the timestamp and the nonce."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    headers = {
        "X-Device-Key": device.key_id,
        "X-Timestamp": ts,
        "X-Nonce": nonce,
        "X-Signature": signing.sign(secret, "POST", "/api/v1" + REDEEM, ts, nonce, body),
        "Idempotency-Key": key,
    }
    return Api().send("POST", REDEEM, headers=headers, raw=body)


def _body(world, resident) -> bytes:
    return json.dumps({"token": pass_of(resident), "reward_id": world["drink"].pk, "quantity": 1}).encode()


def test_an_unsigned_request(vworld, rich):
    body = {"token": pass_of(rich), "reward_id": vworld["drink"].pk, "quantity": 1}
    refused(lambda: Api().post(REDEEM, body, headers={"Idempotency-Key": "u1"}), 401, "signature_missing")
    # A resident's or a member of staff's token is no signature.
    for client in (resident_api(rich.user), staff_api(vworld["desk"])):
        refused(
            lambda c=client: c.post(REDEEM, body, headers={"Idempotency-Key": "u2"}), 401, "signature_missing"
        )


def test_a_wrong_signature_or_an_unknown_device(vworld, rich):
    device, secret = vworld["vending"]
    refused(lambda: signed_send(device, "not-the-secret", _body(vworld, rich)), 401, "signature_invalid")
    ghost = Device(key_id="dk_nobody")
    refused(lambda: signed_send(ghost, secret, _body(vworld, rich)), 401, "device_unknown")
    # A disabled machine is unknown.
    Device.objects.filter(pk=device.pk).update(is_active=False)
    refused(lambda: signed_send(device, secret, _body(vworld, rich)), 401, "device_unknown")
    assert balance(rich) == 10


@pytest.mark.parametrize("skew", [-1, 1])
def test_a_stale_signature_timestamp(vworld, rich, skew):
    device, secret = vworld["vending"]
    when = int(time.time()) + skew * (settings.LIVINGROOM_DEVICE_SIGNATURE_WINDOW + 30)
    refused(
        lambda: signed_send(device, secret, _body(vworld, rich), timestamp=when), 401, "signature_expired"
    )
    assert (balance(rich), stock(vworld["drink"])) == (10, 10)


def test_a_replayed_nonce(vworld, rich):
    device, secret = vworld["vending"]
    body = _body(vworld, rich)
    nonce = secrets.token_hex(16)
    ts = int(time.time())
    assert signed_send(device, secret, body, timestamp=ts, nonce=nonce).status_code == 201
    # The very same bytes again (a captured request played back): refused before anything runs,
    # even under another idempotency key.
    for key in ("k1", "k2"):
        refused(
            lambda k=key: signed_send(device, secret, body, timestamp=ts, nonce=nonce, key=k),
            401,
            "request_replayed",
        )
    assert (balance(rich), stock(vworld["drink"]), Entry.objects.filter(kind="redeem").count()) == (7, 9, 1)


# --- idempotency keys --------------------------------------------------------------------------------


@pytest.mark.parametrize("change", ["reward", "resident", "quantity"])
def test_the_same_key_for_another_request(vworld, rich, change):
    other_drink = points.reward_create(
        staff=vworld["desk"],
        scope=vworld["scope"],
        draft=points.RewardDraft(
            center_id=vworld["center"].pk,
            kind=Reward.Kind.DRINK,
            name="可乐",
            price_points=1,
            at_vending=True,
            stock=5,
        ),
    )
    neighbour = vworld["residents"][1]
    give_points(vworld, neighbour, 10, key="neighbour")
    vm = machine(vworld)
    token = pass_of(rich)
    first = redeem(vm, token, vworld["drink"], "k")
    assert first.status_code == 201
    retry = {
        "reward": lambda: redeem(vm, token, other_drink, "k"),
        "resident": lambda: redeem(vm, pass_of(neighbour), vworld["drink"], "k"),
        "quantity": lambda: redeem(vm, token, vworld["drink"], "k", quantity=2),
    }[change]
    refused(retry, 409, "idempotency_key_reused", ignore=("RequestNonce",))
    # The first answer still stands for the first request.
    again = redeem(vm, token, vworld["drink"], "k")
    assert (again.status_code, again.json(), again["Idempotent-Replayed"]) == (201, first.json(), "true")
    assert (balance(rich), balance(neighbour), stock(vworld["drink"]), stock(other_drink)) == (7, 10, 9, 5)


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "invalid_input"),
        ({"Idempotency-Key": "k" * 101}, "invalid_input"),
        ({"Idempotency-Key": ""}, "idempotency_key_required"),
        ({"Idempotency-Key": "a\tb"}, "idempotency_key_required"),
    ],
    ids=["none", "long", "empty", "control-character"],
)
def test_an_idempotency_key_is_required(vworld, rich, headers, code):
    vm = machine(vworld)
    body = {"token": pass_of(rich), "reward_id": vworld["drink"].pk, "quantity": 1}
    with unchanged(DEVICE_ROWS):
        response = vm.post(REDEEM, body, headers=headers)
    assert_error(response, 400, code)
    assert IdempotencyRecord.objects.count() == 0


# --- devices of another center or kind -------------------------------------------------------------


def test_a_vending_machine_of_another_center(vworld, rich, away):
    refused(
        lambda: redeem(machine(away), pass_of(rich), vworld["drink"], "away-1"),
        404,
        "reward_not_found",
        "reward_id",
        ignore=DEVICE_ROWS,
    )
    # Nor can it report a failure of this center's machine's sale.
    assert redeem(machine(vworld), pass_of(rich), vworld["drink"], "here-1").status_code == 201
    refused(
        lambda: machine(away).post("/devices/vending/failures", {"idempotency_key": "here-1"}),
        404,
        "redemption_not_found",
        ignore=DEVICE_ROWS,
    )
    assert (balance(rich), stock(vworld["drink"])) == (7, 9)


def test_a_kiosk_is_no_vending_machine(vworld, rich):
    kiosk = machine(vworld, "kiosk")
    refused(
        lambda: redeem(kiosk, pass_of(rich), vworld["drink"], "kiosk-1"),
        403,
        "device_not_allowed",
        ignore=DEVICE_ROWS,
    )
    refused(
        lambda: kiosk.post("/devices/vending/failures", {"idempotency_key": "kiosk-1"}),
        403,
        "device_not_allowed",
        ignore=DEVICE_ROWS,
    )


def test_a_kiosk_of_another_center_checks_nobody_in(vworld, away, monkeypatch):
    a = activity(vworld)
    shift = a.shifts.get()
    volunteer = vworld["volunteers"][0]
    me = resident_api(volunteer.resident.user)
    assert me.post(f"/shifts/{shift.pk}/signups").status_code == 201
    monkeypatch.setattr(timezone, "now", lambda: shift.starts_at - dt.timedelta(minutes=5))
    body = {"token": pass_of(volunteer.resident), "direction": "in"}
    path = f"/devices/volunteering/shifts/{shift.pk}/check"
    refused(lambda: machine(away, "kiosk").post(path, body), 404, "shift_not_found", ignore=DEVICE_ROWS)
    # The center's vending machine is the right center but the wrong kind of device.
    refused(lambda: machine(vworld).post(path, body), 403, "device_not_allowed", ignore=DEVICE_ROWS)
    assert machine(vworld, "kiosk").post(path, body).status_code == 200


# --- quantities and ids ----------------------------------------------------------------------------


@pytest.mark.parametrize("quantity", [0, -1, 21, "abc", 1.5, None])
def test_a_bad_quantity(vworld, rich, quantity):
    vm = machine(vworld)
    refused(
        lambda: redeem(vm, pass_of(rich), vworld["drink"], "q", quantity=quantity),
        400,
        "invalid_input",
        "quantity",
        ignore=DEVICE_ROWS,
    )
    desk = staff_api(vworld["desk"])
    refused(
        lambda: desk.post(
            "/staff/points/redemptions",
            {"token": pass_of(rich), "reward_id": vworld["voucher"].pk, "quantity": quantity},
        ),
        400,
        "invalid_input",
        "quantity",
    )
    queued = {
        "idempotency_key": "q1",
        "token": old_pass(rich, 30),
        "reward_id": vworld["drink"].pk,
        "quantity": quantity,
        "shown_at": (timezone.now() - dt.timedelta(seconds=10)).isoformat(),
    }
    refused(
        lambda: vm.post(QUEUE, {"requests": [queued]}),
        400,
        "invalid_input",
        "requests.0.quantity",
        ignore=DEVICE_ROWS,
    )
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.parametrize("reward_id", [0, -5, HUGE_ID, 2**63, "abc"])
def test_a_reward_id_out_of_range(vworld, rich, reward_id):
    refused(
        lambda: redeem(machine(vworld), pass_of(rich), reward_id, "id"),
        400,
        "invalid_input",
        "reward_id",
        ignore=DEVICE_ROWS,
    )


@pytest.mark.parametrize("bad", ["0", "-1", str(HUGE_ID), "abc"])
def test_ids_in_the_path_and_the_query_out_of_range(vworld, bad):
    me = resident_api(vworld["residents"][0].user)
    desk = staff_api(vworld["desk"])
    refused(lambda: me.post(f"/shifts/{bad}/signups"), 400, "invalid_input")
    refused(lambda: me.post(f"/me/signups/{bad}/cancel"), 400, "invalid_input")
    refused(lambda: desk.post(f"/staff/volunteer/shifts/{bad}/confirm", {"lines": []}), 400, "invalid_input")
    refused(
        lambda: desk.post(f"/staff/points/redemptions/{bad}/refund", {"reason": "退货"}), 400, "invalid_input"
    )
    refused(lambda: desk.get("/staff/points/ledger", center=bad), 400, "invalid_input", "center")
    refused(lambda: Api().get("/rewards", center=bad), 400, "invalid_input", "center")


def test_a_signup_id_out_of_range_in_the_hours(vworld):
    shift = activity(vworld).shifts.get()
    desk = staff_api(vworld["desk"])
    for bad in (0, HUGE_ID):
        refused(
            lambda b=bad: desk.post(
                f"/staff/volunteer/shifts/{shift.pk}/confirm", {"lines": [{"signup_id": b, "minutes": 10}]}
            ),
            400,
            "invalid_input",
            "lines.0.signup_id",
        )


@pytest.mark.parametrize(
    ("raw", "code", "field"),
    [
        (b"{not json", "invalid_json", None),
        (b'{"token": "x", "reward_id": 1', "invalid_json", None),  # cut short
        (b"\xff\xfe", "invalid_json", None),
        (b"", "invalid_input", None),
        (b"null", "invalid_json", None),  # JSON, but not an object
        (b"[1, 2]", "invalid_json", None),
    ],
    ids=["garbage", "cut-short", "not-utf8", "empty", "null", "list"],
)
def test_malformed_json(vworld, rich, raw, code, field):
    """Signed as the machine sent it (the signature covers the bytes): refused before any rule."""
    vm = machine(vworld)
    with unchanged(DEVICE_ROWS):
        response = vm.send("POST", REDEEM, raw=raw, headers={"Idempotency-Key": "j"})
    assert_error(response, 400, code, "token" if field == "*" else field)
    me = resident_api(rich.user)
    with unchanged():
        response = me.send("POST", "/me/corrections", raw=raw)
    assert_error(response, 400, code, "signup_id" if field == "*" else field)
    assert IdempotencyRecord.objects.count() == 0


def test_malformed_json_is_named(vworld, rich):
    with unchanged(DEVICE_ROWS):
        response = machine(vworld).send("POST", REDEEM, raw=b"{not json", headers={"Idempotency-Key": "j"})
    assert_error(response, 400, "invalid_json")
    desk = staff_api(vworld["desk"])
    with unchanged():
        response = desk.send("POST", "/staff/points/adjustments", raw=b"{not json")
    assert_error(response, 400, "invalid_json")


# --- shifts and hours ------------------------------------------------------------------------------


def _past(shift: Shift, *, started_minutes_ago: int, minutes: int = 120) -> Shift:
    """Moves a shift (signed up for while it was ahead) to have started a while ago."""
    start = timezone.now() - dt.timedelta(minutes=started_minutes_ago)
    Shift.objects.filter(pk=shift.pk).update(starts_at=start, ends_at=start + dt.timedelta(minutes=minutes))
    shift.refresh_from_db()
    return shift


def test_a_full_shift(vworld):
    shift = activity(vworld, shifts=None).shifts.get()
    Shift.objects.filter(pk=shift.pk).update(needed=1)
    first, second = (resident_api(v.resident.user) for v in vworld["volunteers"])
    assert first.post(f"/shifts/{shift.pk}/signups").status_code == 201
    refused(lambda: second.post(f"/shifts/{shift.pk}/signups"), 409, "shift_full")
    assert Shift.objects.get(pk=shift.pk).taken == 1
    assert Signup.objects.filter(shift=shift).count() == 1


def test_a_shift_already_started(vworld):
    shift = activity(vworld).shifts.get()
    first = resident_api(vworld["volunteers"][0].resident.user)
    second = resident_api(vworld["volunteers"][1].resident.user)
    signup_id = first.post(f"/shifts/{shift.pk}/signups").json()["id"]
    _past(shift, started_minutes_ago=10)
    refused(lambda: second.post(f"/shifts/{shift.pk}/signups"), 409, "shift_started")
    # Nor can one withdraw once it has started.
    refused(lambda: first.post(f"/me/signups/{signup_id}/cancel"), 409, "shift_started")
    assert Shift.objects.get(pk=shift.pk).taken == 1


def test_signing_up_twice_or_for_an_overlapping_shift(vworld):
    a = activity(vworld)
    shift = a.shifts.get()
    me = resident_api(vworld["volunteers"][0].resident.user)
    assert me.post(f"/shifts/{shift.pk}/signups").status_code == 201
    refused(lambda: me.post(f"/shifts/{shift.pk}/signups"), 409, "already_signed_up")
    other = activity(vworld, title="另一项活动")
    refused(lambda: me.post(f"/shifts/{other.shifts.get().pk}/signups"), 409, "shift_overlaps")
    # A resident who is not a volunteer yet.
    newcomer = resident_api(vworld["residents"][2].user)
    refused(
        lambda: newcomer.post(f"/shifts/{shift.pk}/signups"),
        403,
        "not_a_volunteer",
    )


@pytest.fixture
def served(vworld):
    """A two-hour shift that ended an hour ago: volunteer 0 checked in and out on time,
    volunteer 1 never checked in."""
    shift = activity(vworld).shifts.get()
    for v in vworld["volunteers"]:
        assert resident_api(v.resident.user).post(f"/shifts/{shift.pk}/signups").status_code == 201
    shift = _past(shift, started_minutes_ago=180, minutes=120)
    Signup.objects.filter(shift=shift, volunteer=vworld["volunteers"][0]).update(
        checked_in_at=shift.starts_at, checked_out_at=shift.ends_at
    )
    return shift


def _signup(shift, volunteer) -> Signup:
    return Signup.objects.get(shift=shift, volunteer=volunteer)


def test_confirming_hours_twice(vworld, served):
    desk = staff_api(vworld["desk"])
    confirmed = desk.post(f"/staff/volunteer/shifts/{served.pk}/confirm", {"lines": []})
    assert confirmed.status_code == 200 and [r["minutes"] for r in confirmed.json()] == [120]
    refused(
        lambda: desk.post(f"/staff/volunteer/shifts/{served.pk}/confirm", {"lines": []}),
        409,
        "hours_already_confirmed",
    )
    late = {
        "lines": [
            {"signup_id": _signup(served, vworld["volunteers"][1]).pk, "minutes": 60, "reason": "忘签到"}
        ]
    }
    refused(
        lambda: desk.post(f"/staff/volunteer/shifts/{served.pk}/confirm", late),
        409,
        "hours_already_confirmed",
    )
    assert ServiceRecord.objects.count() == 1 and Entry.objects.filter(kind="award").count() == 1
    books_are_right()


def test_hours_longer_than_the_shift(vworld, served):
    desk = staff_api(vworld["desk"])
    line = {"signup_id": _signup(served, vworld["volunteers"][1]).pk, "minutes": 121, "reason": "加班"}
    body = refused(
        lambda: desk.post(f"/staff/volunteer/shifts/{served.pk}/confirm", {"lines": [line]}),
        400,
        "hours_too_long",
        "lines.0.minutes",
    )
    assert "121" in body["message"] and "120" in body["message"]
    # Beyond any shift (12 hours) the schema refuses; a negative number too.
    for minutes in (721, -1, "two"):
        refused(
            lambda m=minutes: desk.post(
                f"/staff/volunteer/shifts/{served.pk}/confirm", {"lines": [{**line, "minutes": m}]}
            ),
            400,
            "invalid_input",
            "lines.0.minutes",
        )
    # An adjustment needs a reason.
    refused(
        lambda: desk.post(
            f"/staff/volunteer/shifts/{served.pk}/confirm", {"lines": [{**line, "minutes": 60, "reason": ""}]}
        ),
        400,
        "reason_required",
        "lines.0.reason",
    )
    assert Shift.objects.get(pk=served.pk).status == "scheduled"


def test_confirming_before_the_shift_ends(vworld):
    shift = activity(vworld).shifts.get()
    desk = staff_api(vworld["desk"])
    refused(
        lambda: desk.post(f"/staff/volunteer/shifts/{shift.pk}/confirm", {"lines": []}),
        409,
        "shift_not_ended",
    )


def test_a_correction_longer_than_the_shift(vworld, served):
    desk = staff_api(vworld["desk"])
    assert desk.post(f"/staff/volunteer/shifts/{served.pk}/confirm", {"lines": []}).status_code == 200
    me = resident_api(vworld["volunteers"][0].resident.user)
    signup = _signup(served, vworld["volunteers"][0])
    refused(
        lambda: me.post("/me/corrections", {"signup_id": signup.pk, "minutes": 150, "reason": "多干了"}),
        400,
        "hours_too_long",
        "minutes",
    )
    refused(
        lambda: me.post("/me/corrections", {"signup_id": signup.pk, "minutes": 120, "reason": "一样"}),
        400,
        "correction_no_change",
        "minutes",
    )
    # Someone else's sign-up is not found.
    other = resident_api(vworld["volunteers"][1].resident.user)
    refused(
        lambda: other.post("/me/corrections", {"signup_id": signup.pk, "minutes": 60, "reason": "x"}),
        404,
        "signup_not_found",
    )


# --- the offline queue -----------------------------------------------------------------------------


def _queued(key: str, token: str, reward, shown_at: dt.datetime, quantity: int = 1) -> dict:
    return {
        "idempotency_key": key,
        "token": token,
        "reward_id": reward if isinstance(reward, int | str) else reward.pk,
        "quantity": quantity,
        "shown_at": shown_at.isoformat(),
    }


def _shown(resident, minutes_ago: int) -> tuple[str, dt.datetime]:
    """A pass issued 20 s before it was shown ``minutes_ago``."""
    shown = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return passes.encode(resident.pk, int(shown.timestamp()) - 20), shown


def test_a_queue_out_of_order_settles_nothing(vworld, rich):
    vm = machine(vworld)
    t1, s1 = _shown(rich, 5)
    t2, s2 = _shown(rich, 10)
    body = refused(
        lambda: vm.post(
            QUEUE,
            {"requests": [_queued("a", t1, vworld["drink"], s1), _queued("b", t2, vworld["drink"], s2)]},
        ),
        400,
        "queue_invalid",
        "requests.1.shown_at",
        ignore=("RequestNonce",),
    )
    assert body["message"]
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.parametrize(
    "case",
    ["too-old", "future", "same-key-twice", "empty"],
)
def test_a_queue_that_is_not_valid(vworld, rich, case):
    vm = machine(vworld)
    t1, s1 = _shown(rich, 5)
    requests = {
        "too-old": [
            _queued(
                "a", t1, vworld["drink"], s1 - dt.timedelta(hours=settings.LIVINGROOM_VENDING_OFFLINE_HOURS)
            )
        ],
        "future": [_queued("a", t1, vworld["drink"], timezone.now() + dt.timedelta(hours=1))],
        "same-key-twice": [_queued("a", t1, vworld["drink"], s1), _queued("a", t1, vworld["drink"], s1)],
        "empty": [],
    }[case]
    with unchanged(("RequestNonce",)):
        response = vm.post(QUEUE, {"requests": requests})
    assert response.status_code == 400
    assert response.json()["code"] == ("invalid_input" if case == "empty" else "queue_invalid")


def test_a_mixed_queue_is_answered_request_by_request_in_order(vworld, place):
    poor = vworld["residents"][0]
    give_points(vworld, poor, 5, key="five")
    cola = points.reward_create(
        staff=vworld["desk"],
        scope=vworld["scope"],
        draft=points.RewardDraft(
            center_id=vworld["center"].pk,
            kind=Reward.Kind.DRINK,
            name="可乐",
            price_points=1,
            at_vending=True,
            stock=1,
        ),
    )
    theirs = Reward.objects.create(
        center=place["centers"][1], kind=Reward.Kind.DRINK, name="龙珠的水", price_points=1, at_vending=True
    )
    t1, s1 = _shown(poor, 30)
    t2, s2 = _shown(poor, 20)
    t3, s3 = _shown(poor, 10)
    expired = passes.encode(poor.pk, int(s3.timestamp()) - settings.LIVINGROOM_PASS_TTL - 60)
    second = dt.timedelta(seconds=1)
    requests = [
        _queued("q1", t1, vworld["drink"], s1),  # 3 of 5 points: sold
        _queued("q2", t2, vworld["drink"], s2),  # 3 of 2 points: refused (the pass is not spent)
        _queued("q3", t2, cola, s2 + second),  # the same pass, 1 point: sold
        _queued("q4", t2, vworld["drink"], s2 + 2 * second),  # that pass again: replayed
        _queued("q5", expired, cola, s3),  # stale when it was shown
        _queued("q6", t3, vworld["voucher"], s3),  # not sold by the machines
        _queued("q7", t3, theirs, s3 + second),  # another center's drink
        _queued("q8", t3, cola, s3 + 2 * second),  # none left
    ]
    vm = machine(vworld)
    response = vm.post(QUEUE, {"requests": requests})
    assert response.status_code == 200, response.content
    answers = response.json()
    assert [a["idempotency_key"] for a in answers] == [f"q{n}" for n in range(1, 9)]
    assert [(a["status"], a["answer"].get("code"), a["replayed"]) for a in answers] == [
        (201, None, False),
        (409, "insufficient_points", False),
        (201, None, False),
        (409, "pass_replayed", False),
        (400, "pass_expired", False),
        (409, "reward_unavailable", False),
        (404, "reward_not_found", False),
        (409, "out_of_stock", False),
    ]
    assert (answers[0]["answer"]["balance"], answers[2]["answer"]["balance"]) == (2, 1)
    assert (balance(poor), stock(vworld["drink"]), stock(cola)) == (1, 9, 0)
    # A sale is dated when the pass was shown, not when the queue arrived.
    sold = Redemption.objects.get(request_key="q1")
    assert abs((sold.occurred_at - s1).total_seconds()) < 1
    # The same upload again (the machine never saw the answers): the same answers, replayed,
    # nothing moves.
    with unchanged(("RequestNonce",)):
        again = vm.post(QUEUE, {"requests": requests})
    assert [(a["status"], a["answer"]) for a in again.json()] == [(a["status"], a["answer"]) for a in answers]
    assert all(a["replayed"] for a in again.json())
    books_are_right()


def test_the_queue_of_a_kiosk_or_another_center(vworld, rich, away):
    t1, s1 = _shown(rich, 5)
    body = {"requests": [_queued("a", t1, vworld["drink"], s1)]}
    refused(lambda: machine(vworld, "kiosk").post(QUEUE, body), 403, "device_not_allowed", ignore=DEVICE_ROWS)
    response = machine(away).post(QUEUE, body)
    assert [(a["status"], a["answer"]["code"]) for a in response.json()] == [(404, "reward_not_found")]
    assert (balance(rich), stock(vworld["drink"])) == (10, 10)


# --- the failure report ----------------------------------------------------------------------------


def test_a_failure_of_a_sale_that_never_was(vworld, rich):
    vm = machine(vworld)
    refused(
        lambda: vm.post("/devices/vending/failures", {"idempotency_key": "never"}),
        404,
        "redemption_not_found",
        ignore=DEVICE_ROWS,
    )
    # A refused request is not a sale either: nothing to refund.
    assert_error(redeem(vm, "forged", vworld["drink"], "refused-1"), 400, "pass_invalid")
    refused(
        lambda: vm.post("/devices/vending/failures", {"idempotency_key": "refused-1"}),
        404,
        "redemption_not_found",
        ignore=DEVICE_ROWS,
    )
    refused(
        lambda: vm.post("/devices/vending/failures", {"idempotency_key": ""}),
        400,
        "invalid_input",
        ignore=DEVICE_ROWS,
    )
    assert Entry.objects.filter(kind="refund").count() == 0
    assert StockMove.objects.filter(reward=vworld["drink"]).count() == 1
