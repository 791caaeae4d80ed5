import pytest

from livingroom.people.scopes import staff_scope
from livingroom.people.selectors import resident_search
from tests.factories import ResidentFactory, UserFactory


@pytest.mark.django_db
def test_each_role_sees_its_places(place, roles):
    c1, c2, _c3 = (c.pk for c in place["communities"])
    assert staff_scope(roles["district"]).district
    assert staff_scope(roles["street"]).community_ids == {c1, c2}
    assert staff_scope(roles["community"]).community_ids == {c1}
    assert staff_scope(roles["community"]).desk_community_ids == {c1}
    assert staff_scope(roles["street"]).desk_community_ids == set()
    assert staff_scope(roles["center"]).community_ids == {c2}
    partner = staff_scope(roles["partner"])
    assert partner.partner_center_ids == {place["centers"][2].pk} and not partner.can_see_residents
    assert staff_scope(UserFactory()) is None


@pytest.mark.django_db
def test_resident_search_by_name_initials_pinyin_and_phone_tail(place, roles):
    c1, c2, c3 = place["communities"]
    zhang = ResidentFactory(
        home_community=c1,
        real_name="张三",
        name_initials="zs",
        name_pinyin="zhangsan",
        user=UserFactory(phone="13911112222"),
    )
    li = ResidentFactory(home_community=c2, real_name="李四", name_initials="ls", name_pinyin="lisi")
    far = ResidentFactory(home_community=c3, real_name="张飞", name_initials="zf", name_pinyin="zhangfei")
    street = staff_scope(roles["street"])
    assert list(resident_search(street, "zs")) == [zhang]
    assert list(resident_search(street, "zhang")) == [zhang]  # 张飞 is in the other sub-district
    assert list(resident_search(street, "张")) == [zhang]
    assert list(resident_search(street, "2222")) == [zhang]
    assert list(resident_search(street, "139 1111 2222")) == [zhang]
    assert list(resident_search(street, li.id_number)) == [li]
    assert set(resident_search(street, "")) == {zhang, li}
    assert list(resident_search(staff_scope(roles["district"]), "zhang")) == [far, zhang] or set(
        resident_search(staff_scope(roles["district"]), "zhang")
    ) == {far, zhang}
    assert list(resident_search(staff_scope(roles["partner"]), "")) == []
