"""What meal assistance holds about a resident, for their data download and their erasure
(registered with ``people.personal_data`` in ``MealsConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from livingroom.meals import services
from livingroom.meals.models import Meal
from livingroom.people.models import Resident
from livingroom.people.personal_data import register


def export(resident: Resident) -> dict[str, Any]:
    meals = Meal.objects.filter(resident=resident).select_related("canteen", "item__set_meal")
    return {
        "meals": [
            {
                "day": m.day.isoformat(),
                "canteen": m.canteen.name,
                "set_meal": m.item.set_meal.name,
                "channel": m.channel,
                "status": m.status,
                "group": m.group,
                "list_fen": m.list_fen,
                "eater_fen": m.eater_fen,
                "subsidy_fen": m.subsidy_fen,
                "ordered_at": m.ordered_at.isoformat() if m.ordered_at else None,
                "served_at": m.served_at.isoformat() if m.served_at else None,
            }
            for m in meals.order_by("day", "id")
        ]
    }


def erase(resident: Resident) -> dict[str, int]:
    """Orders not yet served are cancelled through the service (the portion goes back). Served
    meals and the subsidy ledger stay: the subsidies claimed must be accounted for."""
    now = timezone.now()
    cancelled = 0
    for meal in list(
        Meal.objects.filter(resident=resident, status=Meal.Status.ORDERED).select_related("item__menu")
    ):
        if meal.cancellable(now):
            services.meal_order_cancel(resident=resident, meal_id=meal.pk, now=now)
            cancelled += 1
    return {"meals_cancelled": cancelled}


register("meals", export=export, erase=erase)
