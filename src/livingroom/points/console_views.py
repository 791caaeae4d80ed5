"""Console pages of points, under /console/points/: a center's ledger, the catalogue and its
stock, redeeming at the desk (with refunds), the stock reconciliation (对账) and adjustments.

Thin: they parse a form, call one service or selector, and put a refusal on the form it belongs
to. Another community's center or reward is "not found"; only the center's own desk staff
change anything (officials read). Residents are shown masked, with their resident number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from itertools import islice
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from livingroom.core.errors import DomainError, NotFound
from livingroom.core.excel import xlsx_response
from livingroom.core.formatting import format_date, format_datetime
from livingroom.core.permissions import staff_required, staff_scope_of
from livingroom.core.scopes import StaffScope
from livingroom.core.validators import parse_id
from livingroom.people.auth import acting_user
from livingroom.places.models import Center
from livingroom.points import selectors, services
from livingroom.points.console_forms import (
    AdjustForm,
    CountForm,
    DeskForm,
    PeriodForm,
    RefundForm,
    RestockForm,
    RewardEditForm,
    RewardForm,
    show_error,
)
from livingroom.points.models import Entry, Redemption, Reward

PAGE_SIZE = 50
EXPORT_LIMIT = 10000
RECENT = 30


def _pick_center(request: HttpRequest, scope: StaffScope, centers: list[Center]) -> Center:
    """``?center=`` among ``centers`` (another one is 404); else the first where the caller works
    at the desk, else the first."""
    wanted = parse_id(request.GET.get("center"))
    if wanted is not None:
        found = next((c for c in centers if c.pk == wanted), None)
        if found is None:
            raise NotFound(code="center_not_found")
        return found
    desk = [c for c in centers if scope.works_at(c.community_id)]
    return (desk or centers)[0]


def _month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=timezone.get_default_timezone())


def _by(actor: Any, device: Any) -> str:
    if device is not None:
        return str(device.name)
    if actor is not None:
        return str(actor.display_name or actor.username)
    return ""


def _not_found_of_page(exc: DomainError) -> bool:
    return exc.status == 404 and exc.field is None


def _failed(status: int) -> int:
    return 400 if status == 200 else status


def _no_center(request: HttpRequest, template: str, **context: Any) -> HttpResponse:
    return render(request, template, {"center": None, **context})


def _center_links(centers: list[Center], center: Center) -> list[dict[str, Any]]:
    return [{"c": c, "current": c.pk == center.pk} for c in centers]


# --- the ledger -----------------------------------------------------------------------------------


@staff_required
def index(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    centers = list(selectors.centers_for_staff(scope))
    if not centers:
        return _no_center(request, "points/console_index.html")
    center = _pick_center(request, scope, centers)
    date_from, date_to = _month_bounds(timezone.localdate())
    form = PeriodForm(
        request.GET or None,
        centers=[(c.pk, c.name) for c in centers],
        initial={"center": center.pk, "from": date_from, "to": date_to},
    )
    status = 200
    if form.is_bound:
        if form.is_valid():
            date_from = form.cleaned_data["from"] or date_from
            date_to = max(form.cleaned_data["to"] or date_to, date_from)
        else:
            status = 400
    start, end = _local_midnight(date_from), _local_midnight(date_to + dt.timedelta(days=1))
    entries = selectors.entries_for_staff(scope, center_id=center.pk, start=start, end=end)
    residents = scope.can_see_residents
    if request.GET.get("format") == "xlsx" and status == 200:
        return xlsx_response(
            f"points-ledger-{format_date(date_from)}-{format_date(date_to)}.xlsx",
            _("Points ledger"),
            [
                pgettext("moment", "Time"),
                _("Resident No."),
                _("Resident"),
                _("Kind"),
                _("Points"),
                _("Balance after"),
                _("Reason"),
                _("By"),
            ],
            [
                [
                    format_datetime(e.created_at),
                    e.account.resident_id if residents else None,
                    e.account.resident.masked_name if residents else "",
                    e.get_kind_display(),
                    e.amount,
                    e.balance_after,
                    e.reason,
                    _by(e.actor, e.device),
                ]
                for e in entries[:EXPORT_LIMIT]
            ],
        )
    summary = selectors.ledger_summary(scope, center_id=center.pk, start=start, end=end)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = {"center": str(center.pk), "from": date_from.isoformat(), "to": date_to.isoformat()}
    return render(
        request,
        "points/console_index.html",
        {
            "center": center,
            "centers": centers,
            "form": form,
            "date_from": date_from,
            "date_to": date_to,
            "summary": summary,
            "page": page,
            "residents": residents,
            "can_act": scope.works_at(center.community_id),
            "page_qs": urlencode(query),
            "export_qs": urlencode({**query, "format": "xlsx"}),
        },
        status=status,
    )


# --- the catalogue --------------------------------------------------------------------------------


def _channels(reward: Reward) -> str:
    parts = []
    if reward.at_desk:
        parts.append(_("at the desk"))
    if reward.at_vending:
        parts.append(_("in the vending machines"))
    return " · ".join(str(p) for p in parts)


@staff_required
def rewards(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    centers = list(selectors.centers_for_staff(scope))
    if not centers:
        return _no_center(request, "points/console_rewards.html")
    center = _pick_center(request, scope, centers)
    can_act = scope.works_at(center.community_id)
    form = RewardForm(
        request.POST if request.method == "POST" else None, initial={"at_desk": True, "stock": 0}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created = services.reward_create(
                    staff=acting_user(request), scope=scope, draft=form.draft(center.pk)
                )
            except DomainError as exc:
                status = show_error(form, exc, {"center_id": ""})
            else:
                messages.success(
                    request,
                    _("“%(name)s” is in the catalogue at %(price)s points, %(stock)s in stock.")
                    % {"name": created.name, "price": created.price_points, "stock": created.stock},
                )
                return redirect("points_console:reward", reward_id=created.pk)
        status = _failed(status)
    qs = selectors.rewards_for_staff(scope, center_id=center.pk)
    if request.GET.get("format") == "xlsx":
        return xlsx_response(
            f"rewards-{center.pk}.xlsx",
            _("Rewards"),
            [
                _("Kind"),
                pgettext("reward", "Name"),
                _("Price in points"),
                _("Stock"),
                _("Offered"),
                _("On offer"),
            ],
            [
                [
                    r.get_kind_display(),
                    r.name,
                    r.price_points,
                    r.stock,
                    _channels(r),
                    _("yes") if r.is_active else _("no"),
                ]
                for r in qs
            ],
        )
    return render(
        request,
        "points/console_rewards.html",
        {
            "center": center,
            "centers": _center_links(centers, center),
            "rows": [{"r": r, "channels": _channels(r)} for r in qs],
            "can_act": can_act,
            "form": form,
            "export_qs": urlencode({"center": str(center.pk), "format": "xlsx"}),
        },
        status=status,
    )


@staff_required
def reward(request: HttpRequest, reward_id: int) -> HttpResponse:
    scope = staff_scope_of(request)
    record = selectors.reward_for_staff(scope, reward_id)
    can_act = scope.works_at(record.center.community_id)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    posted = request.POST if action else None
    restock_form = RestockForm(posted if action == "restock" else None, prefix="restock")
    count_form = CountForm(posted if action == "count" else None, prefix="count")
    edit_form = RewardEditForm(
        posted if action == "edit" else None,
        prefix="edit",
        initial={
            "price_points": record.price_points,
            "description": record.description,
            "is_active": record.is_active,
        },
    )
    status = 200
    if action:
        staff = acting_user(request)
        target: forms.Form = {"restock": restock_form, "count": count_form}.get(action, edit_form)
        try:
            if action == "restock" and restock_form.is_valid():
                move = services.reward_restock(
                    staff=staff,
                    scope=scope,
                    reward_id=record.pk,
                    quantity=restock_form.cleaned_data["quantity"],
                    reason=restock_form.cleaned_data.get("reason") or "",
                )
                messages.success(
                    request,
                    _("Restocked: %(n)s added, %(stock)s in stock.")
                    % {"n": move.delta, "stock": move.stock_after},
                )
                return redirect("points_console:reward", reward_id=record.pk)
            if action == "count" and count_form.is_valid():
                move = services.reward_count(
                    staff=staff,
                    scope=scope,
                    reward_id=record.pk,
                    counted=count_form.cleaned_data["counted"],
                    reason=count_form.cleaned_data["reason"],
                )
                messages.success(
                    request,
                    _("Stock count recorded: %(delta)+d, %(stock)s in stock.")
                    % {"delta": move.delta, "stock": move.stock_after},
                )
                return redirect("points_console:reward", reward_id=record.pk)
            if action == "edit" and edit_form.is_valid():
                changed = services.reward_update(
                    staff=staff,
                    scope=scope,
                    reward_id=record.pk,
                    price_points=edit_form.cleaned_data["price_points"],
                    is_active=bool(edit_form.cleaned_data.get("is_active")),
                    description=edit_form.cleaned_data.get("description") or "",
                )
                messages.success(
                    request,
                    _("Saved: %(price)s points, %(state)s.")
                    % {
                        "price": changed.price_points,
                        "state": _("on offer") if changed.is_active else _("not on offer"),
                    },
                )
                return redirect("points_console:reward", reward_id=record.pk)
        except DomainError as exc:
            if _not_found_of_page(exc):
                raise
            status = show_error(target, exc, {"reward_id": "", "quantity": "quantity"})
        status = _failed(status)
    moves = selectors.stock_moves_of(record)
    if request.GET.get("format") == "xlsx":
        return xlsx_response(
            f"reward-{record.pk}-stock.xlsx",
            _("Stock movements"),
            [
                pgettext("moment", "Time"),
                _("Kind"),
                pgettext("stock", "Change"),
                _("Stock after"),
                _("Reason"),
                _("By"),
            ],
            [
                [
                    format_datetime(m.created_at),
                    m.get_kind_display(),
                    m.delta,
                    m.stock_after,
                    m.reason,
                    _by(m.actor, m.device),
                ]
                for m in moves[:EXPORT_LIMIT]
            ],
        )
    return render(
        request,
        "points/console_reward.html",
        {
            "r": record,
            "channels": _channels(record),
            "moves": [{"m": m, "by": _by(m.actor, m.device)} for m in moves[:200]],
            "can_act": can_act,
            "restock_form": restock_form,
            "count_form": count_form,
            "edit_form": edit_form,
        },
        status=status,
    )


# --- redeeming at the desk --------------------------------------------------------------------------


def _redemption_rows(redemptions: Iterable[Redemption], failed: int | None) -> list[dict[str, Any]]:
    return [
        {
            "x": x,
            "by": _by(x.staff, x.device),
            "failed": failed == x.pk,
            "refundable": x.status == Redemption.Status.COMPLETED,
        }
        for x in redemptions
    ]


@staff_required
def desk(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    centers = list(selectors.desk_centers(scope))
    if not centers:
        return _no_center(request, "points/console_desk.html")
    center = _pick_center(request, scope, centers)
    offered = [
        r for r in selectors.rewards_for_staff(scope, center_id=center.pk) if r.is_active and r.at_desk
    ]
    action = request.POST.get("action", "") if request.method == "POST" else ""
    form = DeskForm(
        request.POST if action == "redeem" else None,
        rewards=[(r.pk, f"{r.name} · {r.price_points} · {r.stock}") for r in offered],
        initial={"quantity": 1},
    )
    refund_form = RefundForm(request.POST if action == "refund" else None)
    failed: int | None = parse_id(request.POST.get("redemption")) if action == "refund" else None
    status = 200
    here = f"{reverse('points_console:desk')}?{urlencode({'center': center.pk})}"
    if action:
        staff = acting_user(request)
        try:
            if action == "redeem" and form.is_valid():
                done = services.redemption_at_desk(
                    staff=staff,
                    scope=scope,
                    token=form.cleaned_data["token"].strip(),
                    reward_id=form.cleaned_data["reward"],
                    quantity=form.cleaned_data["quantity"],
                )
                return redirect(f"{here}&{urlencode({'done': done.pk})}")
            if action == "refund" and refund_form.is_valid():
                if not selectors.redemptions_for_staff(scope, center_id=center.pk).filter(
                    pk=refund_form.cleaned_data["redemption"]
                ):
                    raise NotFound(code="redemption_not_found")
                entry = services.redemption_refund(
                    staff=staff,
                    scope=scope,
                    redemption_id=refund_form.cleaned_data["redemption"],
                    reason=refund_form.cleaned_data["reason"],
                )
                messages.success(
                    request,
                    _("Refunded: %(points)s points back to %(who)s; the goods are back in stock.")
                    % {"points": entry.amount, "who": entry.account.resident.masked_name},
                )
                return redirect(here)
        except DomainError as exc:
            if _not_found_of_page(exc):
                raise
            status = show_error(
                refund_form if action == "refund" else form,
                exc,
                {"reward_id": "reward", "redemption_id": ""},
            )
        status = _failed(status)
    recent_qs = selectors.redemptions_for_staff(scope, center_id=center.pk).prefetch_related("entries")
    if request.GET.get("format") == "xlsx":
        return xlsx_response(
            f"redemptions-{center.pk}.xlsx",
            _("Redemptions"),
            [
                pgettext("moment", "Time"),
                _("Resident No."),
                _("Resident"),
                _("Reward"),
                _("Quantity"),
                _("Points"),
                _("Channel"),
                _("Status"),
                _("By"),
                _("Refund reason"),
            ],
            [
                [
                    format_datetime(x.occurred_at),
                    x.account.resident_id,
                    x.account.resident.masked_name,
                    x.reward.name,
                    x.quantity,
                    x.points,
                    x.get_channel_display(),
                    x.get_status_display(),
                    _by(x.staff, x.device),
                    x.failure_reason,
                ]
                for x in recent_qs[:EXPORT_LIMIT]
            ],
        )
    done_id = parse_id(request.GET.get("done"))
    result = None
    if done_id is not None:
        result = recent_qs.filter(pk=done_id).first()
    balance = None
    if result is not None:
        balance = next((e.balance_after for e in result.entries.all() if e.kind == Entry.Kind.REDEEM), None)
    rows = _redemption_rows(islice(recent_qs, RECENT), failed)
    return render(
        request,
        "points/console_desk.html",
        {
            "center": center,
            "centers": _center_links(centers, center),
            "form": form,
            "refund_form": refund_form,
            "offered": offered,
            "result": result,
            "balance": balance,
            "rows": rows,
            "failed_shown": any(r["failed"] and r["refundable"] for r in rows),
            "export_qs": urlencode({"center": str(center.pk), "format": "xlsx"}),
        },
        status=status,
    )


# --- the reconciliation -----------------------------------------------------------------------------


@staff_required
def reconciliation(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    centers = list(selectors.centers_for_staff(scope))
    if not centers:
        return _no_center(request, "points/console_reconciliation.html")
    center = _pick_center(request, scope, centers)
    lines = selectors.reconciliation(scope, center_id=center.pk)
    if request.GET.get("format") == "xlsx":
        return xlsx_response(
            f"reconciliation-{center.pk}-{format_date(timezone.localdate())}.xlsx",
            _("Reconciliation"),
            [
                _("Reward"),
                _("Kind"),
                _("Restocked"),
                _("Redeemed"),
                _("Back after a failed vend"),
                _("Stock count corrections"),
                _("Stock"),
                _("Units sold"),
                _("Points expected"),
                _("Points in the ledger"),
                _("Balanced"),
            ],
            [
                [
                    line.reward.name,
                    line.reward.get_kind_display(),
                    line.restocked,
                    line.redeemed,
                    line.returned,
                    line.counted,
                    line.stock,
                    line.units_sold,
                    line.points_expected,
                    line.points_in_ledger,
                    "✓" if line.balanced else "✗",
                ]
                for line in lines
            ],
        )
    return render(
        request,
        "points/console_reconciliation.html",
        {
            "center": center,
            "centers": _center_links(centers, center),
            "lines": lines,
            "balanced": all(line.balanced for line in lines),
            "unbalanced": sum(1 for line in lines if not line.balanced),
            "today": timezone.localdate(),
            "export_qs": urlencode({"center": str(center.pk), "format": "xlsx"}),
        },
    )


# --- adjustments ----------------------------------------------------------------------------------


@staff_required
def adjust(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    centers = list(selectors.desk_centers(scope))
    if not centers:
        return _no_center(request, "points/console_adjust.html")
    center = _pick_center(request, scope, centers)
    form = AdjustForm(
        request.POST if request.method == "POST" else None,
        centers=[(c.pk, c.name) for c in centers],
        initial={"center": center.pk, "resident": parse_id(request.GET.get("resident"))},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                entry = services.points_adjust(
                    staff=acting_user(request),
                    scope=scope,
                    resident_id=form.cleaned_data["resident"],
                    center_id=form.cleaned_data["center"],
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                status = show_error(form, exc, {"resident_id": "resident", "center_id": "center"})
            else:
                messages.success(
                    request,
                    _("Resident No. %(id)s (%(who)s): %(amount)+d points, balance %(balance)s.")
                    % {
                        "id": entry.account.resident_id,
                        "who": entry.account.resident.masked_name,
                        "amount": entry.amount,
                        "balance": entry.balance_after,
                    },
                )
                return redirect(
                    f"{reverse('points_console:adjust')}?{urlencode({'center': form.cleaned_data['center']})}"
                )
        status = _failed(status)
    recent = list(
        selectors.entries_for_staff(scope, center_id=center.pk).filter(kind=Entry.Kind.ADJUST)[:RECENT]
    )
    return render(
        request,
        "points/console_adjust.html",
        {"center": center, "form": form, "recent": recent},
        status=status,
    )
