"""Areas are derived from spaces, never typed twice; the before/after of a renovation comes from history."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError

from livingroom.core.scopes import StaffScope
from livingroom.places import errors, selectors, services
from livingroom.places.models import Space
from tests.factories import CenterFactory, FacilityFactory, SpaceFactory

RENOVATED = dt.date(2024, 6, 1)


def gushu_like(center):
    """固戍: 1,200 m²; offices 600 m² before (50%), 264 m² after (22%)."""
    add = services.space_create
    add(center=center, name="服务大厅", kind="service_hall", area_m2=300)
    add(center=center, name="长者服务站", kind="elderly", area_m2=150)
    add(center=center, name="活动室", kind="activity", area_m2=150)
    add(center=center, name="社区办公室", kind="office", area_m2=264)
    add(center=center, name="三楼办公区", kind="office", area_m2=336, closed_on=RENOVATED)
    add(
        center=center,
        name="自习室",
        kind="study",
        area_m2=120,
        opened_on=RENOVATED,
        bookable=True,
        capacity=36,
    )
    add(center=center, name="阅读室", kind="reading", area_m2=110, opened_on=RENOVATED)
    add(center=center, name="青年活动室", kind="activity", area_m2=106, opened_on=RENOVATED)
    center.renovated_on = RENOVATED
    center.save()


@pytest.mark.django_db
def test_gushu_office_share_went_from_50_to_22_percent():
    center = CenterFactory()
    gushu_like(center)
    FacilityFactory.create_batch(3, center=center)  # must not inflate the sums
    before = selectors.center_areas(center, on=RENOVATED - dt.timedelta(days=1))
    after = selectors.center_areas(center, on=RENOVATED)
    assert (before.service_m2, before.office_m2, before.office_share) == (Decimal(600), Decimal(600), 0.5)
    assert (after.service_m2, after.office_m2) == (Decimal(936), Decimal(264))
    assert after.office_share == pytest.approx(0.22)

    scope = StaffScope(user_id=1, district=True)
    row = selectors.centers_for_staff(scope, on=dt.date(2026, 11, 26)).get(pk=center.pk)
    assert (row.service_area, row.office_area) == (Decimal(936), Decimal(264))
    assert row.office_share == pytest.approx(0.22)
    assert row.office_share_before == pytest.approx(0.5)
    assert row.facility_count == 3


@pytest.mark.django_db
def test_unrenovated_center_has_no_before_figure_and_empty_center_no_share():
    plain = CenterFactory()
    SpaceFactory(center=plain, area_m2=80)
    SpaceFactory(center=plain, area_m2=20, kind="office", is_office=True)
    empty = CenterFactory()
    rows = {c.pk: c for c in selectors.centers_for_staff(StaffScope(user_id=1, district=True))}
    assert rows[plain.pk].office_share == pytest.approx(0.2)
    assert rows[plain.pk].office_share_before is None
    assert rows[empty.pk].office_share is None and rows[empty.pk].service_area == 0


@pytest.mark.django_db
def test_sorting_by_office_share_puts_empty_centers_last():
    a, b, c = CenterFactory(), CenterFactory(), CenterFactory()
    SpaceFactory(center=a, area_m2=90)
    SpaceFactory(center=a, area_m2=10, kind="office", is_office=True)
    SpaceFactory(center=b, area_m2=50)
    SpaceFactory(center=b, area_m2=50, kind="office", is_office=True)
    scope = StaffScope(user_id=1, district=True)
    assert [x.pk for x in selectors.centers_for_staff(scope, sort="office_share")] == [a.pk, b.pk, c.pk]
    assert [x.pk for x in selectors.centers_for_staff(scope, sort="-office_share")] == [b.pk, a.pk, c.pk]


@pytest.mark.django_db
def test_space_rules_are_enforced():
    center = CenterFactory()
    office = services.space_create(center=center, name="办公室", kind="office", area_m2="12.34")
    assert office.is_office and office.area_m2 == Decimal("12.3")
    for bad in [
        dict(area_m2=0),
        dict(area_m2="abc"),
        dict(kind="castle"),
        dict(name=""),
        dict(kind="office", bookable=True),
        dict(opened_on=RENOVATED, closed_on=RENOVATED),
    ]:
        args = {"center": center, "name": "x", "kind": "study", "area_m2": 10, **bad}
        with pytest.raises(errors.InvalidSpace):
            services.space_create(**args)
    assert Space.objects.count() == 1
    with pytest.raises(IntegrityError):
        Space.objects.create(center=center, name="bad", kind="study", area_m2=Decimal("-1"))


@pytest.mark.django_db
def test_opening_hours_are_validated():
    center = CenterFactory()
    services.center_set_opening_hours(
        center=center, periods=[(0, dt.time(9), dt.time(12)), (0, dt.time(14), dt.time(21))]
    )
    assert center.opening_hours.count() == 2
    with pytest.raises(errors.InvalidHours):
        services.center_set_opening_hours(center=center, periods=[(7, dt.time(9), dt.time(12))])
    with pytest.raises(errors.InvalidHours):
        services.center_set_opening_hours(center=center, periods=[(1, dt.time(12), dt.time(9))])
    with pytest.raises(errors.InvalidHours) as exc:
        services.center_set_opening_hours(
            center=center, periods=[(1, dt.time(9), dt.time(13)), (1, dt.time(12), dt.time(18))]
        )
    assert exc.value.code == "overlapping_opening_hours"
    assert center.opening_hours.count() == 2
