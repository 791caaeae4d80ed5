"""Points and places under real parallel connections (PostgreSQL; skipped on SQLite).

Each worker thread has its own database connection; a barrier releases them together. After each
rush the books are checked: balances equal their entries, stock equals its moves, nothing was
debited or refunded twice, no shift holds more volunteers than it needs.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from django.db.models import Sum

from livingroom.core.models import IdempotencyRecord
from livingroom.people.models import StaffRole
from livingroom.people.scopes import staff_scope
from livingroom.points import services as points
from livingroom.points.models import Account, Entry, Redemption, Reward, StockMove
from livingroom.volunteering import services
from livingroom.volunteering.models import ServiceRecord, Shift, Signup, Volunteer
from tests import factories as f
from tests.parallel import in_parallel
from tests.volunteering.conftest import activity, at, give_points, pass_of

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def balance(resident) -> int:
    return Account.objects.get(resident=resident).balance


def stock(reward) -> int:
    return Reward.objects.get(pk=reward.pk).stock


def assert_books() -> None:
    assert points.ledger_check() == []
    for account in Account.objects.all():
        assert account.balance == (account.entries.aggregate(s=Sum("amount"))["s"] or 0) >= 0
    for reward in Reward.objects.all():
        assert reward.stock == (reward.moves.aggregate(s=Sum("delta"))["s"] or 0) >= 0


def neighbours(world, n: int) -> list[Volunteer]:
    return [
        services.volunteer_register(
            user=f.ResidentFactory(home_community=world["community"]).user, consent=True
        )
        for _ in range(n)
    ]


# --- (a) twenty redemptions, two machines, points for three -------------------------------------


def test_twenty_redemptions_from_two_machines_with_points_for_three(vworld):
    resident, drink = vworld["residents"][0], vworld["drink"]
    give_points(vworld, resident, 10, key="ten")
    machines = [vworld["vending"][0], vworld["vending2"][0]]
    tokens = [pass_of(resident) for _ in range(20)]  # each request with its own fresh pass

    def redeem(i: int):
        status, body, replayed = points.redemption_at_vending(
            device=machines[i % 2], key=f"rush-{i}", token=tokens[i], reward_id=drink.pk, quantity=1
        )
        return (status, body.get("code"), replayed)

    results = in_parallel(20, redeem)
    assert Counter(results) == Counter({(201, None, False): 3, (409, "insufficient_points", False): 17}), (
        results
    )
    assert (balance(resident), stock(drink)) == (1, 10 - 3)
    assert Redemption.objects.count() == 3
    assert Entry.objects.filter(kind="redeem").aggregate(s=Sum("amount"))["s"] == -9
    assert StockMove.objects.filter(kind="redeem").aggregate(s=Sum("delta"))["s"] == -3
    # All twenty were answered and their answers kept for retries; both machines sold.
    assert IdempotencyRecord.objects.filter(scope__startswith="vending:").count() == 20
    assert Redemption.objects.values("device").distinct().count() in (1, 2)
    assert_books()


# --- (b) one request retried from many threads ---------------------------------------------------


def test_the_same_key_retried_from_many_threads_debits_once(vworld):
    resident, drink = vworld["residents"][0], vworld["drink"]
    give_points(vworld, resident, 10, key="ten")
    machine, token = vworld["vending"][0], pass_of(resident)

    def retry(i: int):
        return points.redemption_at_vending(
            device=machine, key="one-request", token=token, reward_id=drink.pk, quantity=2
        )

    results = in_parallel(16, retry)
    answers = {(status, json.dumps(body, sort_keys=True)) for status, body, _ in results}
    assert len(answers) == 1, results
    assert results[0][0] == 201
    assert sorted(replayed for _, _, replayed in results) == [False] + [True] * 15
    assert (balance(resident), stock(drink)) == (10 - 6, 10 - 2)
    assert Redemption.objects.count() == 1 and Entry.objects.filter(kind="redeem").count() == 1
    assert_books()


# --- (c) thirty volunteers, five places -----------------------------------------------------------


def test_thirty_volunteers_rush_a_shift_of_five(vworld):
    made = activity(
        vworld,
        shifts=[
            services.ShiftDraft(role="引导员", place="门口", starts_at=at(1, 9), ends_at=at(1, 12), needed=5)
        ],
    )
    shift = made.shifts.get()
    people = neighbours(vworld, 30)
    results = in_parallel(
        30,
        lambda i: (
            services.signup_create(user=people[i].resident.user, shift_id=shift.pk, now=at(0, 10)).status
        ),
    )
    assert Counter(results) == Counter({"signed_up": 5, "shift_full": 25}), results
    shift.refresh_from_db()
    assert shift.taken == 5 == Signup.objects.filter(shift=shift, status="signed_up").count()
    assert Signup.objects.count() == 5


def test_one_volunteer_signing_up_for_two_overlapping_shifts_at_once_gets_one(vworld):
    first = activity(vworld).shifts.get()
    second = activity(
        vworld,
        title="敬老院陪伴",
        shifts=[
            services.ShiftDraft(role="陪伴", place="敬老院", starts_at=at(1, 10), ends_at=at(1, 13), needed=5)
        ],
    ).shifts.get()
    volunteer = vworld["volunteers"][0]
    shifts = [first, second] * 5
    results = in_parallel(
        10,
        lambda i: (
            services.signup_create(user=volunteer.resident.user, shift_id=shifts[i].pk, now=at(0, 10)).status
        ),
    )
    assert results.count("signed_up") == 1, results
    assert set(results) - {"signed_up"} <= {"already_signed_up", "shift_overlaps"}, results
    assert Signup.objects.filter(volunteer=volunteer, status="signed_up").count() == 1
    assert sorted(Shift.objects.values_list("taken", flat=True)) == [0, 1]


def test_withdrawals_racing_the_cancellation_of_the_activity(vworld):
    made = activity(
        vworld,
        shifts=[
            services.ShiftDraft(role="引导员", place="门口", starts_at=at(1, 9), ends_at=at(1, 12), needed=10)
        ],
    )
    shift = made.shifts.get()
    people = neighbours(vworld, 10)
    signups = [services.signup_create(user=p.resident.user, shift_id=shift.pk, now=at(0, 9)) for p in people]

    def act(i: int) -> str:
        if i == 10:
            services.activity_cancel(
                staff=vworld["desk"], scope=vworld["scope"], activity_id=made.pk, reason="台风", now=at(0, 10)
            )
            return "activity cancelled"
        return services.signup_cancel(
            user=people[i].resident.user, signup_id=signups[i].pk, now=at(0, 10)
        ).status

    results = in_parallel(11, act)
    assert results.count("activity cancelled") == 1, results
    assert set(results) <= {"activity cancelled", "cancelled", "signup_cancelled"}, results
    shift.refresh_from_db()
    assert (shift.status, shift.taken) == ("cancelled", 0)
    assert set(Signup.objects.values_list("status", flat=True)) == {"cancelled"}


# --- (d) two organisers confirm one shift -------------------------------------------------------


def test_two_organisers_confirming_one_shift_award_points_once(vworld):
    shift = activity(vworld).shifts.get()
    kiosk = vworld["kiosk"][0]
    for volunteer in vworld["volunteers"]:
        services.signup_create(user=volunteer.resident.user, shift_id=shift.pk, now=at(0, 10))
        services.check_at_device(
            device=kiosk, shift_id=shift.pk, token=pass_of(volunteer.resident), direction="in", now=at(1, 9)
        )
    second = f.staff_with_role(StaffRole.Role.COMMUNITY_WORKER, community=vworld["community"])
    organisers = [vworld["desk"], second]

    def confirm(i: int):
        staff = organisers[i % 2]
        return len(
            services.hours_confirm(staff=staff, scope=staff_scope(staff), shift_id=shift.pk, now=at(1, 13))
        )

    results = in_parallel(6, confirm)
    assert Counter(results) == Counter({2: 1, "hours_already_confirmed": 5}), results
    assert ServiceRecord.objects.count() == 2
    assert Entry.objects.filter(kind="award").count() == 2
    for volunteer in vworld["volunteers"]:
        assert balance(volunteer.resident) == 180 // 60 + 2
        volunteer.refresh_from_db()
        assert volunteer.minutes_total == 180
    assert_books()


# --- (e) failure reports and refunds --------------------------------------------------------------


def test_concurrent_failure_reports_refund_once(vworld):
    resident, drink = vworld["residents"][0], vworld["drink"]
    give_points(vworld, resident, 10, key="ten")
    machine = vworld["vending"][0]
    status, _, _ = points.redemption_at_vending(
        device=machine, key="jam", token=pass_of(resident), reward_id=drink.pk, quantity=3
    )
    assert status == 201 and (balance(resident), stock(drink)) == (1, 7)

    def report(i: int):
        _redemption, entry, replayed = points.vending_failure_report(device=machine, key="jam", reason="卡货")
        return (entry.pk, replayed)

    results = in_parallel(10, report)
    assert len({pk for pk, _ in results}) == 1, results
    assert sorted(replayed for _, replayed in results) == [False] + [True] * 9
    assert Entry.objects.filter(kind="refund").count() == 1
    assert StockMove.objects.filter(kind="return").count() == 1
    assert (balance(resident), stock(drink)) == (10, 10)
    assert_books()


def test_a_desk_refund_racing_the_machines_failure_report_refunds_once(vworld):
    resident, drink = vworld["residents"][0], vworld["drink"]
    give_points(vworld, resident, 10, key="ten")
    machine = vworld["vending"][0]
    _, body, _ = points.redemption_at_vending(
        device=machine, key="jam", token=pass_of(resident), reward_id=drink.pk, quantity=2
    )

    def act(i: int):
        if i % 2:
            return points.vending_failure_report(device=machine, key="jam", reason="卡货")[2]
        points.redemption_refund(
            staff=vworld["desk"], scope=vworld["scope"], redemption_id=body["redemption_id"], reason="退回"
        )
        return "refunded at the desk"

    results = in_parallel(8, act)
    unexpected = [r for r in results if r not in (True, False, "refunded at the desk", "already_refunded")]
    assert not unexpected, results
    assert results.count(False) + results.count("refunded at the desk") == 1, results
    assert Entry.objects.filter(kind="refund").count() == 1
    assert (balance(resident), stock(drink)) == (10, 10)
    assert_books()
