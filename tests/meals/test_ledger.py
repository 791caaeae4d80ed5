"""The meal ledger is append-only: the ORM refuses to change or delete an entry, and so does the
database (a trigger, on SQLite and PostgreSQL alike); a refund is a compensating entry, once."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from livingroom.meals import services
from livingroom.meals.models import Entry
from tests.meals.conftest import at, pass_of


@pytest.fixture
def served(meals_world):
    w = meals_world
    status, body, _ = services.serving_at_terminal(
        device=w.device, key="l-1", token=pass_of(w.rider), menu_item_id=w.item_full.pk, now=at()
    )
    assert status == 201, body
    return body["meal_id"]


def test_entries_cannot_be_changed_or_deleted_through_the_orm(meals_world, served):
    entry = Entry.objects.filter(meal_id=served).first()
    entry.amount_fen = 1
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()
    assert Entry.objects.filter(meal_id=served).aggregate(s=Sum("amount_fen"))["s"] == 1800


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE meals_entry SET amount_fen = amount_fen + 1",
        "UPDATE meals_entry SET created_at = created_at",
        "DELETE FROM meals_entry",
    ],
)
def test_entries_cannot_be_changed_or_deleted_in_the_database(meals_world, served, statement):
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert "append-only" in str(caught.value)
    assert Entry.objects.count() == 3
    assert Entry.objects.aggregate(s=Sum("amount_fen"))["s"] == 1800


def test_a_queryset_update_or_delete_is_refused_too(meals_world, served):
    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.filter(meal_id=served).update(amount_fen=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.filter(meal_id=served).delete()
    assert Entry.objects.count() == 3


def test_an_entry_is_written_once_per_meal_and_layer(meals_world, served):
    w = meals_world
    entry = Entry.objects.filter(meal_id=served, layer="eater").get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.create(
            meal_id=served,
            canteen=w.canteen,
            street=w.place["streets"][0],
            day=timezone.localdate(),
            kind="served",
            layer="eater",
            amount_fen=1000,
            key=entry.key,
            created_at=timezone.now(),
        )


@pytest.mark.parametrize(("kind", "amount"), [("served", -100), ("refund", 100), ("served", 0)])
def test_the_sign_of_an_entry_follows_its_kind(meals_world, served, kind, amount):
    w = meals_world
    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.create(
            meal_id=served,
            canteen=w.canteen,
            street=w.place["streets"][0],
            day=timezone.localdate(),
            kind=kind,
            layer="city",
            amount_fen=amount,
            key=f"test:{kind}:{amount}",
            created_at=timezone.now(),
        )


def test_a_refund_sums_each_meal_and_layer_to_zero(meals_world, served):
    w = meals_world
    _s, walk_in, _r = services.serving_at_terminal(
        device=w.device, key="l-2", token=None, menu_item_id=w.item_good.pk, now=at()
    )
    services.meal_refund(scope=w.scope(), actor=w.desk, meal_id=served, reason="顾客投诉")
    sums = {
        (r["meal_id"], r["layer"]): r["s"]
        for r in Entry.objects.values("meal_id", "layer").annotate(s=Sum("amount_fen"))
    }
    assert sums == {
        (served, "eater"): 0,
        (served, "district"): 0,
        (served, "street"): 0,
        (walk_in["meal_id"], "eater"): 2500,
    }
    assert Entry.objects.filter(kind="refund").count() == 3
    with pytest.raises(Exception) as caught:
        services.meal_refund(scope=w.scope(), actor=w.desk, meal_id=served, reason="again")
    assert getattr(caught.value, "code", None) == "not_refundable"
    assert Entry.objects.count() == 7
