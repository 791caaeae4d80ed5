import io

import pytest
from openpyxl import load_workbook

from tests.conftest import console_client
from tests.factories import SpaceFactory


@pytest.mark.django_db
def test_center_list_is_scoped_sorted_and_exported(place, roles):
    c1, c2, c3 = place["centers"]
    SpaceFactory(center=c1, area_m2=500)
    SpaceFactory(center=c1, area_m2=500, kind="office", is_office=True)
    SpaceFactory(center=c2, area_m2=900)
    SpaceFactory(center=c2, area_m2=100, kind="office", is_office=True)

    street = console_client(roles["street"])
    page = street.get("/console/centers/?sort=-office_share")
    assert page.status_code == 200
    rows = page.context["rows"]
    assert [r.pk for r in rows] == [c1.pk, c2.pk]  # 50% then 10%; c3 is in the other sub-district
    assert c3.name.encode() not in page.content

    export = street.get("/console/centers/?sort=office_share&format=xlsx")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(export.content)).active
    values = list(sheet.values)
    assert len(values) == 3  # header + 2 centers
    assert values[1][3] == c2.name and values[1][4] == 900 and values[1][5] == 100 and values[1][6] == 0.1
    assert values[2][3] == c1.name and values[2][6] == 0.5

    worker = console_client(roles["community"])
    assert [r.pk for r in worker.get("/console/centers/").context["rows"]] == [c1.pk]
    assert worker.get(f"/console/centers/{c3.pk}/").status_code == 404
    assert worker.get(f"/console/centers/{c1.pk}/").status_code == 200


@pytest.mark.django_db
def test_unknown_sort_falls_back(place, roles):
    district = console_client(roles["district"])
    page = district.get("/console/centers/?sort=password")
    assert page.status_code == 200 and page.context["sort"] == "community"
    assert len(page.context["rows"]) == 3


@pytest.mark.django_db
def test_public_center_page_hides_offices(client, place):
    center = place["centers"][0]
    SpaceFactory(center=center, name="自习室A", area_m2=80)
    SpaceFactory(center=center, name="主任办公室", kind="office", is_office=True, area_m2=20)
    page = client.get(f"/centers/{center.pk}/")
    assert "自习室A" in page.content.decode() and "主任办公室" not in page.content.decode()
    assert client.get("/centers/999999/").status_code == 404
