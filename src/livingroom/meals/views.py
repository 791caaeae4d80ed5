"""Resident and public pages of meal assistance: the canteens of the district with today's serving
hours, a canteen's menus for a day priced for the signed-in resident (their tier and why), ordering
ahead, the set meal photos, and my meals (history, and cancelling an order).

Thin: parse, call one service or selector, render. A refused order is shown on the canteen page
at the set meal, with "order at full price" when only the subsidy was refused."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from livingroom.core.errors import DomainError, NotFound
from livingroom.core.formatting import format_fen
from livingroom.core.permissions import resident_required
from livingroom.meals import errors, selectors, services
from livingroom.meals.forms import CenterFilterForm, DayForm, OrderForm
from livingroom.meals.models import Canteen, Meal, Menu
from livingroom.meals.selectors import PricedItem
from livingroom.people.auth import acting_user
from livingroom.people.models import Resident
from livingroom.people.selectors import resident_of

CANTEENS_LIMIT = 300
HISTORY_PER_PAGE = 30
DAY_TABS = 7  # today and the next six days
# Refusals where only the subsidy was refused: the page offers the same meal at full price.
FULL_PRICE_OFFERED = (errors.AlreadySubsidised.code, errors.HolidayNoSubsidy.code)


def _resident(request: HttpRequest) -> Resident | None:
    return resident_of(request.user) if request.user.is_authenticated else None  # type: ignore[arg-type]


def _to_profile(request: HttpRequest) -> HttpResponse:
    messages.info(request, _("Please complete your real-name profile first."))
    return redirect("people:profile")


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _hours(menu: Menu) -> str:
    return f"{menu.serves_from:%H:%M}–{menu.serves_until:%H:%M}"


# --- the canteens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CanteenToday:
    canteen: Canteen
    menus: list[Menu]


@require_GET
def canteens(request: HttpRequest) -> HttpResponse:
    """The canteens of the district (or of one center) with today's serving hours."""
    found = list(selectors.canteens_public()[:CANTEENS_LIMIT])
    centers: dict[int, str] = {}
    for c in found:
        centers.setdefault(c.center_id, c.center.name)
    form = CenterFilterForm(request.GET or None, centers=list(centers.items()))
    center_id = form.center_id
    today = timezone.localdate()
    shown = [c for c in found if center_id is None or c.center_id == center_id]
    menus = selectors.menus_on(today, shown)
    rows = [CanteenToday(c, menus[c.pk]) for c in shown]
    return render(
        request,
        "meals/canteens.html",
        {"rows": rows, "form": form, "center_id": center_id, "centers": centers, "today": today},
    )


# --- one canteen: the day's menus, priced for me --------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """A refused order, shown at its set meal."""

    item_id: int
    message: str
    full_price: bool  # offer to order it at full price


@dataclass(frozen=True)
class MenuRow:
    menu: Menu
    items: list[PricedItem]
    hours: str
    ordering_open: bool


@dataclass(frozen=True)
class OrderRow:
    meal: Meal
    can_cancel: bool


def _canteen_page(
    request: HttpRequest,
    canteen: Canteen,
    day: dt.date,
    *,
    refusal: Refusal | None = None,
    status: int = 200,
) -> HttpResponse:
    resident = _resident(request)
    prices = selectors.price_list(resident, canteen, day)
    now = timezone.now()
    today = timezone.localdate()
    menus = [
        MenuRow(menu=menu, items=items, hours=_hours(menu), ordering_open=menu.ordering_open(now))
        for menu, items in prices.menus
    ]
    context = {
        "canteen": canteen,
        "day": day,
        "today": today,
        "days": [today + dt.timedelta(days=n) for n in range(DAY_TABS)],
        "prices": prices,
        "menus": menus,
        "orders": [OrderRow(m, m.cancellable(now)) for m in prices.orders],
        "resident": resident,
        "refusal": refusal,
        "order_form": OrderForm(),
    }
    return render(request, "meals/canteen.html", context, status=status)


@require_GET
def canteen(request: HttpRequest, canteen_id: int) -> HttpResponse:
    """A canteen's menus for a day (``?date=``, today by default): list prices for everyone; for a
    signed-in resident their own price, tier and reason, and the Order button."""
    found = selectors.canteen_public(canteen_id)
    return _canteen_page(request, found, DayForm(request.GET).day())


@resident_required
@require_POST
def order(request: HttpRequest, canteen_id: int) -> HttpResponse:
    """Order a set meal ahead (paid at pick-up). A refusal is shown on the canteen page."""
    found = selectors.canteen_public(canteen_id)
    resident = resident_of(acting_user(request))
    if resident is None:
        return _to_profile(request)
    day = DayForm(request.POST).day()
    form = OrderForm(request.POST)
    if not form.is_valid():
        raise errors.MenuItemInvalid(field="menu_item")
    item_id, full_price = form.cleaned_data["menu_item"], form.cleaned_data["full_price"]
    try:
        meal = services.meal_order(resident=resident, menu_item_id=item_id, full_price=full_price)
    except DomainError as exc:
        if exc.status == 404:
            raise
        refusal = Refusal(
            item_id=item_id, message=exc.message, full_price=exc.code in FULL_PRICE_OFFERED and not full_price
        )
        return _canteen_page(request, found, day, refusal=refusal, status=exc.status)
    menu = meal.item.menu
    messages.success(
        request,
        _(
            "Ordered: %(meal)s for %(price)s, to pick up on %(day)s between %(hours)s. "
            "Show your resident pass at the canteen; you pay there."
        )
        % {
            "meal": meal.item.set_meal.name,
            "price": format_fen(meal.eater_fen),
            "day": date_format(meal.day, "Y-m-d"),
            "hours": _hours(menu),
        },
    )
    url = reverse("meals:canteen", kwargs={"canteen_id": meal.canteen_id})
    return redirect(f"{url}?date={meal.day:%Y-%m-%d}")


# --- photos --------------------------------------------------------------------------------------


@require_GET
def photo(request: HttpRequest, set_meal_id: int) -> HttpResponse:
    """A set meal's photo (public, like the menu); 404 when it has none."""
    content = selectors.set_meal_photo(set_meal_id)
    if content is None:
        raise NotFound()
    response = HttpResponse(content, content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=3600"
    response["Content-Disposition"] = f'inline; filename="set-meal-{set_meal_id}.jpg"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- my meals ------------------------------------------------------------------------------------


@resident_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """My orders still to pick up (with Cancel), and every meal I had, newest first."""
    resident = resident_of(acting_user(request))
    if resident is None:
        return _to_profile(request)
    now = timezone.now()
    current = list(selectors.my_orders_ahead(resident))
    history = selectors.my_meals(resident).exclude(pk__in=[m.pk for m in current])
    page = Paginator(history, HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "meals/mine.html",
        {"current": [OrderRow(m, m.cancellable(now)) for m in current], "page": page},
    )


@resident_required
@require_POST
def cancel(request: HttpRequest, meal_id: int) -> HttpResponse:
    """Cancel my order before serving starts; someone else's meal is not found (404)."""
    resident = resident_of(acting_user(request))
    if resident is None:
        return _to_profile(request)
    try:
        meal = services.meal_order_cancel(resident=resident, meal_id=meal_id)
    except DomainError as exc:
        if exc.status == 404:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Your order of %(meal)s for %(day)s is cancelled.")
            % {"meal": meal.item.set_meal.name, "day": date_format(meal.day, "Y-m-d")},
        )
    return redirect(_back(request, reverse("meals:mine")))
