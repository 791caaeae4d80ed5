"""Places API: the public directory of centers, and the staff view with floor areas."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from livingroom.core.permissions import staff_scope_of
from livingroom.core.schemas import DbId, ErrorOut, LocalTime
from livingroom.places import selectors
from livingroom.places.models import Center

public_router = Router(tags=["centers"])
staff_router = Router(tags=["staff: centers"])


class StreetOut(Schema):
    id: int
    code: str
    name: str


class CenterSummary(Schema):
    id: int
    name: str
    address: str
    community_id: int
    community_code: str
    community: str
    street_id: int
    street: str
    themes: list[str]


class HoursOut(Schema):
    weekday: int
    opens: LocalTime
    closes: LocalTime


class SpaceOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    floor: int
    area_m2: Decimal
    is_office: bool
    capacity: int | None
    bookable: bool


class FacilityOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str
    quantity: int
    status: str
    location: str


class AreasOut(Schema):
    service_area_m2: Decimal
    office_area_m2: Decimal
    office_share: float | None


class CenterDetail(CenterSummary):
    phone: str
    description: str
    opening_hours: list[HoursOut]
    spaces: list[SpaceOut]
    facilities: list[FacilityOut]
    areas: AreasOut


class StaffCenterRow(CenterSummary):
    service_area_m2: Decimal
    office_area_m2: Decimal
    office_share: float | None
    office_share_before_renovation: float | None
    renovated_on: dt.date | None
    facility_count: int


def _summary(c: Center) -> dict:
    return {
        "id": c.pk,
        "name": c.name,
        "address": c.address,
        "community_id": c.community_id,
        "community_code": c.community.code,
        "community": c.community.name,
        "street_id": c.community.street_id,
        "street": c.community.street.name,
        "themes": list(c.themes),
    }


def _detail(c: Center, *, staff: bool) -> CenterDetail:
    today = timezone.localdate()
    spaces = selectors.current_spaces(c, on=today)
    areas = selectors.center_areas(c, on=today)
    return CenterDetail(
        **_summary(c),
        phone=c.phone,
        description=c.description,
        opening_hours=[
            HoursOut(weekday=h.weekday, opens=h.opens, closes=h.closes) for h in c.opening_hours.all()
        ],
        spaces=[
            SpaceOut(
                id=s.pk,
                name=s.name,
                kind=s.kind,
                kind_label=str(s.get_kind_display()),
                floor=s.floor,
                area_m2=s.area_m2,
                is_office=s.is_office,
                capacity=s.capacity,
                bookable=s.bookable,
            )
            for s in spaces
            if staff or not s.is_office
        ],
        facilities=[
            FacilityOut(
                id=f.pk,
                kind=f.kind,
                kind_label=str(f.get_kind_display()),
                name=f.name,
                quantity=f.quantity,
                status=f.status,
                location=f.location,
            )
            for f in c.facilities.all()
            if staff or f.status != f.Status.RETIRED
        ],
        areas=AreasOut(
            service_area_m2=areas.service_m2, office_area_m2=areas.office_m2, office_share=areas.office_share
        ),
    )


@public_router.get("/streets", response=list[StreetOut], summary="Sub-districts")
def list_streets(request: HttpRequest) -> list[StreetOut]:
    return [StreetOut(id=s.pk, code=s.code, name=s.name) for s in selectors.streets()]


@public_router.get(
    "/centers",
    response={200: list[CenterSummary], 400: ErrorOut},
    summary="Service centers (filter by sub-district, community)",
)
def list_centers(
    request: HttpRequest, street: DbId | None = None, community: DbId | None = None, q: str = ""
) -> list[CenterSummary]:
    centers = selectors.public_centers(street_id=street, community_id=community, q=q[:50])
    return [CenterSummary(**_summary(c)) for c in centers]


@public_router.get(
    "/centers/{center_id}",
    response={200: CenterDetail, 400: ErrorOut, 404: ErrorOut},
    summary="A center: opening hours, spaces, facilities, areas",
)
def get_center(request: HttpRequest, center_id: DbId) -> CenterDetail:
    return _detail(selectors.center_detail(center_id), staff=False)


@staff_router.get(
    "/centers",
    response={200: list[StaffCenterRow], 400: ErrorOut},
    summary="Centers in scope with floor areas",
)
def staff_centers(
    request: HttpRequest, street: DbId | None = None, q: str = "", sort: str = "community"
) -> list[StaffCenterRow]:
    rows: Iterable[Any] = selectors.centers_for_staff(
        staff_scope_of(request), street_id=street, q=q[:50], sort=sort
    )  # type: ignore[attr-defined]
    return [
        StaffCenterRow(
            **_summary(c),
            service_area_m2=c.service_area,
            office_area_m2=c.office_area,  # type: ignore[attr-defined]
            office_share=c.office_share,
            office_share_before_renovation=c.office_share_before,  # type: ignore[attr-defined]
            renovated_on=c.renovated_on,
            facility_count=c.facility_count,  # type: ignore[attr-defined]
        )
        for c in rows
    ]


@staff_router.get(
    "/centers/{center_id}",
    response={200: CenterDetail, 400: ErrorOut, 404: ErrorOut},
    summary="A center in scope",
)
def staff_center(request: HttpRequest, center_id: DbId) -> CenterDetail:
    return _detail(selectors.center_for_staff(staff_scope_of(request), center_id), staff=True)  # type: ignore[attr-defined]
