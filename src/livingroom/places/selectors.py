"""Reads about places. Areas are always derived from spaces in use on the day asked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from livingroom.core.errors import NotFound
from livingroom.core.scopes import StaffScope
from livingroom.core.validators import search_text
from livingroom.places.models import CalendarDay, Center, Community, Facility, OpeningHours, Space, Street

ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=10, decimal_places=1))


def _in_use(day: dt.date, prefix: str = "") -> Q:
    return (Q(**{f"{prefix}opened_on__isnull": True}) | Q(**{f"{prefix}opened_on__lte": day})) & (
        Q(**{f"{prefix}closed_on__isnull": True}) | Q(**{f"{prefix}closed_on__gt": day})
    )


def with_areas(queryset: QuerySet[Center], *, on: dt.date, suffix: str = "") -> QuerySet[Center]:
    """Annotates ``service_area<suffix>`` and ``office_area<suffix>`` (m²) from spaces in use on ``on``."""
    in_use = _in_use(on, "spaces__")
    return queryset.annotate(
        **{
            f"service_area{suffix}": Coalesce(
                Sum("spaces__area_m2", filter=in_use & Q(spaces__is_office=False)), ZERO
            ),
            f"office_area{suffix}": Coalesce(
                Sum("spaces__area_m2", filter=in_use & Q(spaces__is_office=True)), ZERO
            ),
        }
    )


@dataclass(frozen=True)
class Areas:
    service_m2: Decimal
    office_m2: Decimal

    @property
    def total_m2(self) -> Decimal:
        return self.service_m2 + self.office_m2

    @property
    def office_share(self) -> float | None:
        return float(self.office_m2 / self.total_m2) if self.total_m2 else None


def center_areas(center: Center, *, on: dt.date | None = None) -> Areas:
    day = on or timezone.localdate()
    spaces = [s for s in center.spaces.all() if s.in_use_on(day)]
    return Areas(
        service_m2=sum((s.area_m2 for s in spaces if not s.is_office), Decimal("0")),
        office_m2=sum((s.area_m2 for s in spaces if s.is_office), Decimal("0")),
    )


def streets() -> QuerySet[Street]:
    return Street.objects.order_by("code")


def communities(*, street_id: int | None = None) -> QuerySet[Community]:
    qs = Community.objects.select_related("street").order_by("code")
    return qs.filter(street_id=street_id) if street_id else qs


def public_centers(
    *, street_id: int | None = None, community_id: int | None = None, q: str = ""
) -> QuerySet[Center]:
    qs = Center.objects.select_related("community__street")
    q = search_text(q)
    if street_id:
        qs = qs.filter(community__street_id=street_id)
    if community_id:
        qs = qs.filter(community_id=community_id)
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(community__name__contains=q) | Q(address__contains=q))
    return qs.order_by("community__code")


def home_center_id(community_id: int) -> int | None:
    """The id of a community's center, or None while the community has none yet."""
    return Center.objects.filter(community_id=community_id).values_list("pk", flat=True).first()


def center_detail(center_id: int, *, queryset: QuerySet[Center] | None = None) -> Center:
    """A center with its spaces, facilities and hours loaded; ``NotFound`` if absent from ``queryset``."""
    qs = (queryset if queryset is not None else Center.objects.all()).select_related("community__street")
    center = (
        qs.prefetch_related(
            Prefetch("spaces", queryset=Space.objects.order_by("floor", "name")),
            Prefetch("facilities", queryset=Facility.objects.order_by("kind", "name")),
            Prefetch("opening_hours", queryset=OpeningHours.objects.order_by("weekday", "opens")),
        )
        .filter(pk=center_id)
        .first()
    )
    if center is None:
        raise NotFound()
    return center


def current_spaces(center: Center, *, on: dt.date | None = None) -> list[Space]:
    day = on or timezone.localdate()
    return [s for s in center.spaces.all() if s.in_use_on(day)]


# --- Staff ------------------------------------------------------------------------------------

SORTS = {
    "community": ("community__code",),
    "name": ("name",),
    "street": ("community__street__code", "community__code"),
    "service_area": ("service_area", "community__code"),
    "office_area": ("office_area", "community__code"),
    "office_share": ("office_share", "community__code"),
    "office_share_before": ("office_share_before", "community__code"),
}


def _spaces_before_renovation() -> QuerySet[Space]:
    """Spaces of the outer center in use on the day before its renovation."""
    return Space.objects.filter(center=OuterRef("pk")).filter(
        Q(opened_on__isnull=True) | Q(opened_on__lt=OuterRef("renovated_on")),
        Q(closed_on__isnull=True) | Q(closed_on__gte=OuterRef("renovated_on")),
    )


def _area_sum(spaces: QuerySet[Space]) -> Subquery:
    return Subquery(spaces.values("center").annotate(s=Sum("area_m2")).values("s")[:1])


def centers_for_staff(
    scope: StaffScope,
    *,
    on: dt.date | None = None,
    street_id: int | None = None,
    q: str = "",
    sort: str = "community",
) -> QuerySet[Center]:
    """Centers in scope with their areas today and, where renovated, the office share the day before."""
    day = on or timezone.localdate()
    qs = scope.filter(Center.objects.select_related("community__street"), community="community", center="")
    q = search_text(q)
    if street_id:
        qs = qs.filter(community__street_id=street_id)
    if q:
        qs = qs.filter(
            Q(name__contains=q) | Q(community__name__contains=q) | Q(community__code__startswith=q)
        )
    before = _spaces_before_renovation()
    qs = (
        with_areas(qs, on=day)
        .annotate(
            # A subquery, not Count(): a second join would multiply the area sums.
            facility_count=Coalesce(
                Subquery(
                    Facility.objects.filter(center=OuterRef("pk"))
                    .values("center")
                    .annotate(n=Count("id"))
                    .values("n")[:1]
                ),
                0,
            )
        )
        .annotate(
            office_share=ExpressionWrapper(
                F("office_area") * 1.0 / NullIf(F("service_area") + F("office_area"), 0),
                output_field=FloatField(),
            ),
            office_before=_area_sum(before.filter(is_office=True)),
            total_before=_area_sum(before),
        )
        .annotate(
            office_share_before=Case(
                When(
                    renovated_on__isnull=False,
                    then=ExpressionWrapper(
                        Coalesce(F("office_before"), ZERO) * 1.0 / NullIf(F("total_before"), 0),
                        output_field=FloatField(),
                    ),
                ),
                default=None,
                output_field=FloatField(),
            )
        )
    )
    key = sort.lstrip("-")
    fields = SORTS.get(key, SORTS["community"])
    descending = sort.startswith("-")
    first = F(fields[0]).desc(nulls_last=True) if descending else F(fields[0]).asc(nulls_last=True)
    return qs.order_by(first, *fields[1:])


def center_for_staff(scope: StaffScope, center_id: int) -> Center:
    return center_detail(
        center_id, queryset=scope.filter(Center.objects.all(), community="community", center="")
    )


def calendar_days(*, year: int | None = None) -> QuerySet[CalendarDay]:
    qs = CalendarDay.objects.all()
    if year is not None:
        qs = qs.filter(date__year=year)
    return qs.order_by("date")
