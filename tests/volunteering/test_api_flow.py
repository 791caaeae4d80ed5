"""The volunteering and points API end to end: an organiser publishes, a volunteer signs up, a
kiosk checks them in and out, the organiser confirms, points arrive, a vending machine sells a
drink (and a retry sells nothing more), a failed vend is refunded, the certificate checks out."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from livingroom.points.models import Account, Entry, Redemption, StockMove
from livingroom.points.services import ledger_check
from tests.booking.conftest import DeviceApi
from tests.conftest import resident_api, staff_api
from tests.volunteering.conftest import pass_of

pytestmark = pytest.mark.django_db


def test_the_whole_round(vworld, api, monkeypatch):
    desk = staff_api(vworld["desk"])
    start = timezone.now() + dt.timedelta(hours=2)
    made = desk.post(
        "/staff/volunteer/activities",
        {
            "center_id": vworld["center"].pk,
            "title": "敬老院陪伴",
            "points_per_hour": 2,
            "bonus_points": 1,
            "shifts": [
                {
                    "role": "陪聊",
                    "place": "固戍敬老院",
                    "starts_at": start.isoformat(),
                    "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
                    "needed": 3,
                }
            ],
        },
    )
    assert made.status_code == 201, made.json()
    activity = made.json()
    shift_id = activity["shifts"][0]["id"]
    listed = api.get("/volunteer/activities", center=vworld["center"].pk).json()
    assert [a["id"] for a in listed] == [activity["id"]]

    volunteer = vworld["volunteers"][0]
    me = resident_api(volunteer.resident.user)
    signed = me.post(f"/shifts/{shift_id}/signups")
    assert signed.status_code == 201, signed.json()
    again = me.post(f"/shifts/{shift_id}/signups")
    assert (again.status_code, again.json()["code"]) == (409, "already_signed_up")

    kiosk = DeviceApi(vworld["kiosk"][0].key_id, vworld["kiosk"][1])
    later = start + dt.timedelta(minutes=5)
    monkeypatch.setattr(timezone, "now", lambda: later)
    checked = kiosk.post(
        f"/devices/volunteering/shifts/{shift_id}/check",
        {"token": pass_of(volunteer.resident), "direction": "in"},
    )
    assert checked.status_code == 200, checked.json()
    end = start + dt.timedelta(hours=2, minutes=10)
    monkeypatch.setattr(timezone, "now", lambda: end)
    confirmed = desk.post(f"/staff/volunteer/shifts/{shift_id}/confirm", {"lines": []})
    assert confirmed.status_code == 200, confirmed.json()
    assert [(r["minutes"], r["points_awarded"]) for r in confirmed.json()] == [(115, 2 * 115 // 60 + 1)]
    twice = desk.post(f"/staff/volunteer/shifts/{shift_id}/confirm", {"lines": []})
    assert (twice.status_code, twice.json()["code"]) == (409, "hours_already_confirmed")
    monkeypatch.undo()

    mine = me.get("/me/volunteering").json()
    assert mine["volunteer"]["hours"] == round(115 / 60, 1)
    assert mine["points_total"] == 4

    machine = DeviceApi(vworld["vending"][0].key_id, vworld["vending"][1])
    token = pass_of(volunteer.resident)
    body = {"token": token, "reward_id": vworld["drink"].pk, "quantity": 1}
    sold = machine.post("/devices/vending/redemptions", body, headers={"Idempotency-Key": "vend-001"})
    assert sold.status_code == 201, sold.json()
    assert sold["Idempotent-Replayed"] == "false"
    assert sold.json()["balance"] == 1 and sold.json()["vend"]["quantity"] == 1
    retry = machine.post("/devices/vending/redemptions", body, headers={"Idempotency-Key": "vend-001"})
    assert (retry.status_code, retry.json(), retry["Idempotent-Replayed"]) == (201, sold.json(), "true")
    other = machine.post(
        "/devices/vending/redemptions", {**body, "quantity": 2}, headers={"Idempotency-Key": "vend-001"}
    )
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
    no_key = machine.post("/devices/vending/redemptions", body)
    assert no_key.status_code == 400
    assert Redemption.objects.count() == 1
    assert Account.objects.get(resident=volunteer.resident).balance == 1

    failed = machine.post(
        "/devices/vending/failures", {"idempotency_key": "vend-001", "reason": "出货口卡住"}
    )
    assert failed.status_code == 200, failed.json()
    assert (failed.json()["refunded_points"], failed.json()["balance"], failed.json()["replayed"]) == (
        3,
        4,
        False,
    )
    failed_again = machine.post("/devices/vending/failures", {"idempotency_key": "vend-001"})
    assert failed_again.json()["replayed"] is True
    assert Entry.objects.filter(kind=Entry.Kind.REFUND).count() == 1
    vworld["drink"].refresh_from_db()
    assert vworld["drink"].stock == 10
    assert StockMove.objects.filter(reward=vworld["drink"]).count() == 3  # opening, redeem, return

    cert = me.post("/me/certificates", {})
    assert cert.status_code == 201, cert.json()
    pdf = me.get(f"/me/certificates/{cert.json()['id']}.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    checked = api.get(f"/certificates/verify/{cert.json()['code'].lower()}")
    assert checked.status_code == 200
    assert checked.json()["name"] == volunteer.resident.masked_name
    assert volunteer.resident.id_number not in checked.content.decode()

    ledger = desk.get("/staff/points/ledger", center=vworld["center"].pk).json()
    assert (ledger["issued"], ledger["spent"], ledger["refunded"], ledger["outstanding"]) == (4, 3, 3, 4)
    recon = desk.get("/staff/points/reconciliation", center=vworld["center"].pk).json()
    assert all(line["balanced"] for line in recon)
    assert ledger_check() == []
