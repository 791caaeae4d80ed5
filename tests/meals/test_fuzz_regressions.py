"""Bugs the schema fuzzer (tests/test_fuzz.py) found in meals, each pinned by its own test."""

from __future__ import annotations

import pytest
from django.utils import timezone

from livingroom.meals.models import Menu
from tests.conftest import staff_api

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("moment", ["11:00+08:00", "11:00:00+14:00", "11:00Z"])
def test_a_menu_serving_hour_with_an_offset_is_refused_not_a_server_error(meals_world, moment):
    """A serving hour is a time of day at the canteen: "11:00+08:00" used to reach the service and
    fail comparing it with a time without offset (500)."""
    w = meals_world
    before = list(Menu.objects.order_by("pk").values_list("pk", "serves_from", "serves_until"))
    response = staff_api(w.desk).put(
        f"/staff/canteens/{w.canteen.pk}/menus",
        {
            "day": str(timezone.localdate()),
            "serves_from": moment,
            "serves_until": "13:30",
            "items": [{"set_meal_id": w.full.pk, "portions": 40}],
        },
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert (body["code"], body["field"]) == ("invalid_input", "serves_from")
    assert list(Menu.objects.order_by("pk").values_list("pk", "serves_from", "serves_until")) == before
