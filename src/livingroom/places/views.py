"""Pages about places: the public directory of centers, the resident's own center, the console list."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from livingroom.core.excel import xlsx_response
from livingroom.core.formatting import format_date, format_percent
from livingroom.core.permissions import resident_required, staff_required, staff_scope_of
from livingroom.core.validators import parse_id
from livingroom.places import selectors


def _weekday_names() -> list[str]:
    return [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]


def _hours_by_day(center) -> list[tuple[str, list]]:  # type: ignore[no-untyped-def]
    names = _weekday_names()
    days: list[tuple[str, list]] = [(names[i], []) for i in range(7)]
    for h in center.opening_hours.all():
        days[h.weekday][1].append(h)
    return days


def _center_context(center, *, staff: bool) -> dict:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    spaces = [s for s in selectors.current_spaces(center, on=today) if staff or not s.is_office]
    return {
        "center": center,
        "hours": _hours_by_day(center),
        "today_weekday": today.weekday(),
        "spaces": spaces,
        "facilities": [f for f in center.facilities.all() if staff or f.status != f.Status.RETIRED],
        "areas": selectors.center_areas(center, on=today),
    }


def center_list(request: HttpRequest) -> HttpResponse:
    street_id = parse_id(request.GET.get("street"))
    q = request.GET.get("q", "")[:50]
    return render(
        request,
        "places/center_list.html",
        {
            "centers": selectors.public_centers(street_id=street_id, q=q),
            "streets": selectors.streets(),
            "street_id": street_id,
            "q": q,
        },
    )


def center_detail(request: HttpRequest, center_id: int) -> HttpResponse:
    center = selectors.center_detail(center_id)
    mine = False
    resident = getattr(request.user, "resident", None) if request.user.is_authenticated else None
    if resident is not None:
        mine = resident.home_community_id == center.community_id
    return render(
        request, "places/center_detail.html", {**_center_context(center, staff=False), "mine": mine}
    )


@resident_required
def my_center(request: HttpRequest) -> HttpResponse:
    resident = getattr(request.user, "resident", None)
    if resident is None:
        return redirect("people:profile")
    center_id = selectors.home_center_id(resident.home_community_id)
    if center_id is None:
        messages.info(
            request, _("Your community has no service center yet. Any center in the district welcomes you.")
        )
        return redirect("places:centers")
    return redirect("places:center", center_id=center_id)


# --- console ----------------------------------------------------------------------------------

SORTABLE = [
    "community",
    "name",
    "street",
    "service_area",
    "office_area",
    "office_share",
    "office_share_before",
]


@staff_required
def console_centers(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    sort = request.GET.get("sort", "community")
    if sort.lstrip("-") not in SORTABLE:
        sort = "community"
    street_id = parse_id(request.GET.get("street"))
    q = request.GET.get("q", "")[:50]
    rows: list[Any] = list(selectors.centers_for_staff(scope, street_id=street_id, q=q, sort=sort))
    if request.GET.get("format") == "xlsx":
        return xlsx_response(
            f"centers-{format_date(timezone.localdate())}.xlsx",
            _("Centers"),
            [
                _("Community code"),
                _("Community"),
                _("Sub-district"),
                _("Center"),
                _("Service area (m²)"),
                _("Office area (m²)"),
                _("Office share"),
                _("Renovated on"),
                _("Office share before renovation"),
                _("Facilities"),
            ],
            [
                [
                    c.community.code,
                    c.community.name,
                    c.community.street.name,
                    c.name,
                    float(c.service_area),
                    float(c.office_area),
                    round(c.office_share, 4) if c.office_share is not None else None,
                    format_date(c.renovated_on),
                    round(c.office_share_before, 4) if c.office_share_before is not None else None,
                    c.facility_count,
                ]
                for c in rows
            ],
        )
    total_service = sum(c.service_area for c in rows)
    total_office = sum(c.office_area for c in rows)
    share = (
        float(total_office / (total_service + total_office))
        if rows and (total_service + total_office)
        else None
    )
    streets = selectors.streets()
    if not scope.district:
        streets = streets.filter(communities__id__in=scope.community_ids).distinct()
    return render(
        request,
        "places/console_centers.html",
        {
            "rows": rows,
            "sort": sort,
            "street_id": street_id,
            "q": q,
            "streets": streets,
            "total_service": total_service,
            "total_office": total_office,
            "total_share": format_percent(share),
            "sortable": SORTABLE,
        },
    )


@staff_required
def console_center(request: HttpRequest, center_id: int) -> HttpResponse:
    center = selectors.center_for_staff(staff_scope_of(request), center_id)  # type: ignore[attr-defined]
    context = _center_context(center, staff=True)
    if center.renovated_on:
        context["areas_before"] = selectors.center_areas(
            center, on=center.renovated_on - dt.timedelta(days=1)
        )
    context["devices"] = center.devices.all()
    return render(request, "places/console_center.html", context)
