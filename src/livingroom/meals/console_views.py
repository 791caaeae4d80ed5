"""Staff console pages of meal assistance, under /console/meals/: the canteens in my scope with
today's figures (and, for officials, the month by group and canteen and the budgets), a canteen's
set meals, tiers and menus, the counter, and the subsidy claims.

Thin: they parse a form, call one service or selector, and put a refusal on the form it belongs
to. Another community's canteen is "not found"; only a canteen's operator (the center's desk
staff, or the partner that runs it) changes anything or serves at the counter — others read, and
a change they post is refused (403).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from livingroom.core.errors import DomainError
from livingroom.core.excel import xlsx_response
from livingroom.core.formatting import format_date, format_fen
from livingroom.core.permissions import staff_required, staff_scope_of
from livingroom.core.scopes import StaffScope
from livingroom.core.validators import parse_id
from livingroom.meals import errors, selectors, services
from livingroom.meals.console_forms import (
    BudgetForm,
    LookupForm,
    MenuForm,
    PeriodForm,
    RefundForm,
    ServeForm,
    SetMealForm,
    TierForm,
    WalkInForm,
    show_error,
    to_fen,
)
from livingroom.meals.models import LAYERS, Canteen, Group, Layer, Meal, Menu
from livingroom.people.auth import acting_user
from livingroom.places.selectors import streets

EXPORT_LIMIT = 50_000
OFFICIAL_ROLES = {"district_official", "street_official", "superuser"}


def _failed(status: int) -> int:
    return 400 if status == 200 else status


def _group_label(group: str) -> str:
    if not group or group == "list_price":
        return _("No group (list price)")
    return str(Group(group).label) if group in Group.values else group


def _funder_label(layer: str, street: str = "") -> str:
    label = str(Layer(layer).label) if layer in Layer.values else layer
    return f"{label} · {street}" if street else label


def _this_month() -> str:
    return timezone.localdate().strftime("%Y-%m")


def _period(request: HttpRequest) -> tuple[PeriodForm, selectors.Period, int]:
    """``?period=`` (a month or a quarter; this month by default), and the status to answer."""
    wanted = request.GET.get("period") or _this_month()
    form = PeriodForm({"period": wanted})
    form.is_valid()
    try:
        return form, selectors.claim_period(wanted), 200
    except DomainError as exc:
        form.add_error("period", exc.message)
        return form, selectors.claim_period(_this_month()), 400


def _day_period(day: dt.date) -> selectors.Period:
    return selectors.Period(label=day.isoformat(), start=day, end=day + dt.timedelta(days=1))


def _not_operator(scope: StaffScope, canteen: Canteen) -> None:
    if not selectors.may_operate(scope, canteen):
        raise errors.NotOperator()


# --- the overview -----------------------------------------------------------------------------------


def _today_rows(scope: StaffScope, canteens: list[Canteen], today: dt.date) -> list[dict[str, Any]]:
    served = {f.canteen_id: f for f in selectors.figures_by_canteen(scope, _day_period(today))}
    menus = selectors.menus_on(today, canteens)
    rows = []
    for canteen in canteens:
        items = [i for menu in menus[canteen.pk] for i in menu.items.all()]
        figure = served.get(canteen.pk)
        rows.append(
            {
                "c": canteen,
                "has_menu": bool(items),
                "portions": sum(i.portions for i in items),
                "taken": sum(i.sold for i in items),
                "left": sum(i.left for i in items),
                "served": figure.meals if figure else 0,
                "subsidised": figure.subsidised if figure else 0,
                "operate": selectors.may_operate(scope, canteen),
            }
        )
    return rows


@staff_required
def index(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    today = timezone.localdate()
    canteens = list(selectors.canteens_for_staff(scope))
    official = scope.district or bool(scope.roles & OFFICIAL_ROLES)
    context: dict[str, Any] = {
        "rows": _today_rows(scope, canteens, today),
        "today": today,
        "official": official,
        "district": scope.district,
    }
    status = 200
    if official:
        period_form, period, status = _period(request)
        by_group = selectors.figures_by_group(scope, period)
        context.update(
            period_form=period_form,
            period=period,
            by_group=[{"f": f, "label": _group_label(f.group)} for f in by_group],
            by_canteen=selectors.figures_by_canteen(scope, period),
        )
        context["group_total"] = {
            "meals": sum(f.meals for f in by_group),
            "eater": sum(f.eater_fen for f in by_group),
            "subsidy": sum(f.subsidy_fen for f in by_group),
        }
    if scope.district:
        year = parse_id(request.GET.get("year")) or today.year
        year = year if 2000 <= year <= 2100 else today.year
        form = BudgetForm(
            request.POST if request.method == "POST" else None,
            streets=[(s.pk, s.name) for s in streets()],
            initial={"year": year, "layer": Layer.DISTRICT},
        )
        if request.method == "POST":
            if form.is_valid():
                d = form.cleaned_data
                try:
                    budget = services.budget_set(
                        scope=scope,
                        actor=acting_user(request),
                        year=d["year"],
                        layer=d["layer"],
                        street_id=d.get("street"),
                        amount_fen=to_fen(d["amount"]),
                    )
                except DomainError as exc:
                    status = show_error(form, exc, BudgetForm.ALIASES)
                else:
                    messages.success(
                        request,
                        _("Budget %(year)s · %(funder)s: %(amount)s.")
                        % {
                            "year": budget.year,
                            "funder": _funder_label(
                                budget.layer, budget.street.name if budget.street else ""
                            ),
                            "amount": format_fen(budget.amount_fen),
                        },
                    )
                    return redirect(f"{reverse('meals_console:index')}?{urlencode({'year': budget.year})}")
            status = _failed(status)
        context.update(
            year=year,
            budget_form=form,
            budgets=[
                {
                    "b": b,
                    "label": _funder_label(b.layer, b.street),
                    "share": (b.spent_fen / b.budget_fen) if b.budget_fen else None,
                    "over": b.budget_fen is not None and b.spent_fen > b.budget_fen,
                }
                for b in selectors.budget_figures(scope, year)
            ],
        )
    elif request.method == "POST":
        raise errors.DistrictOnly()
    return render(request, "meals/console/index.html", context, status=status)


# --- a canteen ------------------------------------------------------------------------------------


def _pick_day(request: HttpRequest, today: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET.get("day") or "")
    except ValueError:
        return today


def _price_cells(tier: Any, set_meals: list[Any]) -> list[Any]:
    prices = {p.set_meal_id: p for p in tier.prices.all()}
    return [prices.get(m.pk) for m in set_meals]


@staff_required
def canteen(request: HttpRequest, canteen_id: int) -> HttpResponse:
    scope = staff_scope_of(request)
    record = selectors.canteen_for_staff(scope, canteen_id)
    operate = selectors.may_operate(scope, record)
    today = timezone.localdate()
    day = _pick_day(request, today)
    set_meals = list(selectors.set_meals_of(record))
    active_meals = [m for m in set_meals if m.is_active]
    tiers = list(selectors.tiers_of(record))
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action and not operate:
        raise errors.NotOperator()
    posted = request.POST if action else None
    target = parse_id(request.POST.get("target")) if action else None

    add_meal_form = SetMealForm(
        posted if action == "set_meal_add" else None,
        request.FILES if action == "set_meal_add" else None,
        prefix="new",
        initial={"is_active": True},
    )
    meal_forms = {
        m.pk: SetMealForm(
            posted if action == "set_meal_edit" and target == m.pk else None,
            request.FILES if action == "set_meal_edit" and target == m.pk else None,
            prefix=f"sm{m.pk}",
            initial=SetMealForm.initial_of(m),
        )
        for m in set_meals
    }
    add_tier_form = TierForm(posted if action == "tier_add" else None, prefix="tier", set_meals=set_meals)
    tier_forms = {
        t.pk: TierForm(
            posted if action == "tier_edit" and target == t.pk else None,
            prefix=f"t{t.pk}",
            set_meals=set_meals,
            creating=False,
            initial=TierForm.initial_of(t),
        )
        for t in tiers
    }
    menu_form = MenuForm(
        posted if action == "menu_publish" else None,
        prefix="menu",
        set_meals=active_meals,
        initial={
            "day": today,
            "period": Menu.Period.LUNCH,
            "serves_from": dt.time(11, 0),
            "serves_until": dt.time(13, 30),
        },
    )
    refund_form = RefundForm(posted if action == "refund" else None)
    failed_form: forms.Form | None = None
    status = 200
    here = reverse("meals_console:canteen", kwargs={"canteen_id": record.pk})
    if action:
        actor = acting_user(request)
        try:
            if action == "set_meal_add":
                failed_form = add_meal_form
                if add_meal_form.is_valid():
                    made = services.set_meal_create(
                        scope=scope,
                        actor=actor,
                        canteen_id=record.pk,
                        draft=add_meal_form.draft(),
                        photo=add_meal_form.photo_bytes(),
                    )
                    messages.success(
                        request,
                        _("“%(name)s” is on offer at %(price)s.")
                        % {"name": made.name, "price": format_fen(made.list_price_fen)},
                    )
                    return redirect(f"{here}#set-meals")
            elif action == "set_meal_edit" and target in meal_forms:
                form = failed_form = meal_forms[target]
                if form.is_valid():
                    changed = services.set_meal_update(
                        scope=scope,
                        actor=actor,
                        set_meal_id=target,
                        draft=form.draft(),
                        photo=form.photo_bytes(),
                    )
                    messages.success(request, _("“%(name)s” is saved.") % {"name": changed.name})
                    return redirect(f"{here}#set-meals")
            elif action == "tier_add":
                failed_form = add_tier_form
                if add_tier_form.is_valid():
                    d = add_tier_form.cleaned_data
                    made_tier = services.tier_create(
                        scope=scope,
                        actor=actor,
                        canteen_id=record.pk,
                        name=d["name"],
                        group=d["group"],
                        residency=d["residency"],
                        prices=add_tier_form.lines,
                    )
                    messages.success(
                        request, _("The tier “%(name)s” is in force.") % {"name": made_tier.name}
                    )
                    return redirect(f"{here}#tiers")
            elif action == "tier_edit" and target in tier_forms:
                tier_form = failed_form = tier_forms[target]
                if tier_form.is_valid():
                    changed_tier = services.tier_update(
                        scope=scope,
                        actor=actor,
                        tier_id=target,
                        name=tier_form.cleaned_data["name"],
                        prices=tier_form.lines,
                    )
                    messages.success(
                        request,
                        _("The prices of “%(name)s” apply from now on.") % {"name": changed_tier.name},
                    )
                    return redirect(f"{here}#tiers")
            elif action == "tier_retire" and target is not None:
                retired = services.tier_retire(scope=scope, actor=actor, tier_id=target)
                messages.success(request, _("The tier “%(name)s” is retired.") % {"name": retired.name})
                return redirect(f"{here}#tiers")
            elif action == "menu_publish":
                failed_form = menu_form
                if menu_form.is_valid():
                    d = menu_form.cleaned_data
                    menu = services.menu_publish(
                        scope=scope,
                        actor=actor,
                        canteen_id=record.pk,
                        day=d["day"],
                        period=d["period"],
                        serves_from=d["serves_from"],
                        serves_until=d["serves_until"],
                        items=menu_form.items,
                        note=d.get("note") or "",
                    )
                    messages.success(
                        request,
                        _("The menu of %(day)s (%(period)s) is published.")
                        % {"day": format_date(menu.day), "period": menu.get_period_display()},
                    )
                    return redirect(f"{here}?{urlencode({'day': menu.day.isoformat()})}#menus")
            elif action == "refund":
                failed_form = refund_form
                if refund_form.is_valid():
                    meal_id = refund_form.cleaned_data["meal"]
                    if selectors.meal_for_staff(scope, meal_id).canteen_id != record.pk:
                        raise errors.MealNotFound(field="meal")
                    refunded = services.meal_refund(
                        scope=scope, actor=actor, meal_id=meal_id, reason=refund_form.cleaned_data["reason"]
                    )
                    messages.success(
                        request,
                        _("Meal No. %(id)s is refunded: %(amount)s back to the eater, the subsidy reversed.")
                        % {"id": refunded.pk, "amount": format_fen(refunded.eater_fen)},
                    )
                    return redirect(f"{here}?{urlencode({'day': refunded.day.isoformat()})}#meals")
            else:
                raise errors.UnknownAction()
        except DomainError as exc:
            if failed_form is None:
                failed_form = refund_form
            aliases = {
                **SetMealForm.ALIASES,
                "meal_id": "meal",
                "canteen_id": "",
                "set_meal_id": "",
                "tier_id": "",
                "items": "",
            }
            status = show_error(failed_form, exc, aliases)
        status = _failed(status)

    menus = selectors.menus_of(record, day)
    meals = list(selectors.meals_at(record, day))
    return render(
        request,
        "meals/console/canteen.html",
        {
            "canteen": record,
            "operate": operate,
            "day": day,
            "today": today,
            "previous_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1),
            "set_meals": [
                {"m": m, "form": meal_forms[m.pk], "has_photo": getattr(m, "has_photo", False)}
                for m in set_meals
            ],
            "add_meal_form": add_meal_form,
            "tiers": [
                {
                    "t": t,
                    "form": tier_forms[t.pk],
                    "cells": _price_cells(t, set_meals),
                }
                for t in tiers
            ],
            "price_rows": set_meals,
            "add_tier_form": add_tier_form,
            "menu_form": menu_form,
            "menus": menus,
            "meals": meals,
            "refund_form": refund_form,
            "failed_refund": refund_form.data.get("meal") if action == "refund" else None,
            "failed_action": action if status >= 400 else "",
            "failed_target": target if status >= 400 else None,
            "served_count": sum(1 for m in meals if m.status == Meal.Status.SERVED),
        },
        status=status,
    )


@staff_required
def set_meal_photo(request: HttpRequest, canteen_id: int, set_meal_id: int) -> HttpResponse:
    scope = staff_scope_of(request)
    record = selectors.canteen_for_staff(scope, canteen_id)
    if not selectors.set_meals_of(record).filter(pk=set_meal_id).exists():
        raise errors.SetMealNotFound()
    photo = selectors.set_meal_photo(set_meal_id)
    if photo is None:
        raise errors.PhotoNotFound()
    response = HttpResponse(photo, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=300"
    return response


# --- the counter ----------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return timezone.now()


def _key() -> str:
    return uuid.uuid4().hex


@staff_required
def counter(request: HttpRequest, canteen_id: int) -> HttpResponse:
    scope = staff_scope_of(request)
    record = selectors.canteen_for_staff(scope, canteen_id)
    _not_operator(scope, record)
    now = _now()
    today = timezone.localdate(now)
    here = reverse("meals_console:counter", kwargs={"canteen_id": record.pk})
    action = request.POST.get("action", "") if request.method == "POST" else ""
    lookup_form = LookupForm(request.POST if action == "lookup" else None)
    serve_form = ServeForm(request.POST if action in ("serve", "walk_in") else None)
    menus = selectors.menus_of(record, today)
    serving = [m for m in menus if m.serving_at(now)]
    walk_in_items = [i for m in (serving or menus) for i in m.items.all()]
    walk_in_form = WalkInForm(
        request.POST if action == "walk_in" else None,
        items=[
            (i.pk, f"{i.set_meal.name} · {format_fen(i.set_meal.list_price_fen)} · {i.left}")
            for i in walk_in_items
        ],
        initial={"key": _key()},
    )
    preview = None
    refusal = ""
    offers: list[dict[str, Any]] = []
    status = 200
    if action == "lookup" and lookup_form.is_valid():
        token = lookup_form.cleaned_data["token"].strip()
        try:
            preview = selectors.counter_preview(record, token, now=now)
        except DomainError as exc:
            status = show_error(lookup_form, exc)
        else:
            for menu, priced in preview.prices.menus:
                for p in priced:
                    offers.append(
                        {
                            "menu": menu,
                            "item": p.item,
                            "price": p.price,
                            "now": menu.serving_at(now),
                            "key": _key(),
                        }
                    )
    elif action in ("serve", "walk_in"):
        form: forms.Form = walk_in_form if action == "walk_in" else serve_form
        if form.is_valid():
            d = form.cleaned_data
            try:
                meal = services.serving_at_counter(
                    scope=scope,
                    staff=acting_user(request),
                    canteen_id=record.pk,
                    key=d["key"],
                    token=(d.get("token") or None) if action == "serve" else None,
                    menu_item_id=d.get("menu_item_id"),
                    full_price=bool(d.get("full_price")) if action == "serve" else False,
                    now=now,
                )
            except DomainError as exc:
                if action == "serve":
                    refusal, status = exc.message, (400 if exc.status == 404 else exc.status)
                else:
                    status = show_error(walk_in_form, exc, {"token": ""})
            else:
                return redirect(f"{here}?{urlencode({'served': meal.pk})}")
        elif action == "serve":
            refusal = _("Look the pass up again.")
        status = _failed(status)
    result = None
    served_id = parse_id(request.GET.get("served"))
    if served_id is not None and not action:
        result = selectors.meal_for_staff(scope, served_id)
        if result.canteen_id != record.pk:
            result = None
    return render(
        request,
        "meals/console/counter.html",
        {
            "canteen": record,
            "now": now,
            "menus": menus,
            "serving": serving,
            "lookup_form": lookup_form,
            "walk_in_form": walk_in_form,
            "walk_in_items": walk_in_items,
            "preview": preview,
            "offers": offers,
            "order_key": _key(),
            "token": lookup_form.cleaned_data.get("token", "").strip() if preview else "",
            "refusal": refusal,
            "result": result,
            "result_group": _group_label(result.group) if result else "",
        },
        status=status,
    )


# --- claims ----------------------------------------------------------------------------------------


@staff_required
def claims(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    period_form, period, status = _period(request)
    canteen_id = parse_id(request.GET.get("canteen"))
    if canteen_id is not None:
        selectors.canteen_for_staff(scope, canteen_id)
    lines = selectors.claim_lines(scope, period, canteen_id=canteen_id)
    totals = selectors.claim_totals(lines)
    if request.GET.get("format") == "xlsx" and status == 200:
        return _claims_xlsx(scope, period, canteen_id, totals)
    query = {"period": period.label}
    if canteen_id is not None:
        query["canteen"] = str(canteen_id)
    return render(
        request,
        "meals/console/claims.html",
        {
            "period_form": period_form,
            "period": period,
            "last_day": period.end - dt.timedelta(days=1),
            "lines": [{"line": line, "funder": _funder_label(line.funder, line.street)} for line in lines],
            "totals": totals,
            "total_rows": [(_funder_label(layer), totals[layer]) for layer in LAYERS],
            "export_qs": urlencode({**query, "format": "xlsx"}),
        },
        status=status,
    )


def _claims_xlsx(
    scope: StaffScope, period: selectors.Period, canteen_id: int | None, totals: dict[str, int]
) -> HttpResponse:
    operators: dict[int, str] = {}

    def operator_of(entry: Any) -> str:
        if entry.canteen_id not in operators:
            operators[entry.canteen_id] = entry.canteen.operator_label
        return operators[entry.canteen_id]

    rows: list[list[Any]] = []
    for e in selectors.claim_entries(scope, period, canteen_id=canteen_id)[:EXPORT_LIMIT]:
        resident = e.meal.resident
        rows.append(
            [
                format_date(e.day),
                e.canteen.name,
                operator_of(e),
                e.meal_id,
                e.meal.item.set_meal.name,
                _group_label(e.group),
                resident.masked_name if resident else "",
                _funder_label(e.layer, e.street.name if e.layer == Layer.STREET else ""),
                str(e.get_kind_display()),
                e.amount_fen / 100,
            ]
        )
    rows.append([])
    for layer in LAYERS:
        rows.append([_("Total"), "", "", "", "", "", "", _funder_label(layer), "", totals[layer] / 100])
    rows.append([_("Total"), "", "", "", "", "", "", _("All funders"), "", totals["all"] / 100])
    return xlsx_response(
        f"meal-subsidy-claim-{period.label}.xlsx",
        _("Subsidy claim %(period)s") % {"period": period.label},
        [
            _("Date"),
            _("Canteen"),
            _("Operator"),
            _("Meal No."),
            _("Set meal"),
            _("Group"),
            _("Eater"),
            _("Funder"),
            _("Kind"),
            _("Amount (¥)"),
        ],
        rows,
    )
