"""Suggestions through the services: submission (tracking number, deadlines by rule, photos), the
workflow received → assigned → in progress → extension → resolved → rated / follow-up / reopened,
scoping (other communities get 404, partners only what they were handed), the public board, forums
and visits, and the clock (overdue, escalation, closing). Every refusal changes nothing.

Dates (Asia/Shanghai): Fri 2026-11-20, Sat 21, Sun 22, Mon 23, ... Fri 27, Mon 30, Tue 12-01 ...
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.forms.models import model_to_dict
from django.utils.translation import gettext as _
from PIL import Image

from livingroom.core.errors import DomainError
from livingroom.core.models import AuditEvent
from livingroom.notices.models import Notice
from livingroom.people.models import StaffRole
from livingroom.people.scopes import staff_scope
from livingroom.places.models import CalendarDay
from livingroom.voice import selectors, services
from livingroom.voice.models import DeadlineRule, Engagement, Extension, Photo, Suggestion, SuggestionEvent
from livingroom.voice.services import RaisedPoint, SuggestionDraft
from tests import factories as f
from tests.voice.conftest import jpeg_bytes

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
TRACKING = re.compile(r"^JY(\d{8})[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{5}$")


def t(month: int, day: int, hour: int = 9, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, second, tzinfo=SH)


def end_of(month: int, day: int, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, 23, 59, 59, tzinfo=SH)


FRI_EVENING = t(11, 20, 20)


def state(suggestion: Suggestion) -> dict:
    """Everything a refusal must leave as it was."""
    row = Suggestion.objects.get(pk=suggestion.pk)
    return {
        **model_to_dict(row),
        "events": list(SuggestionEvent.objects.filter(suggestion=row).values_list("kind", flat=True)),
        "extensions": list(Extension.objects.filter(suggestion=row).values_list("status", flat=True)),
        "photos": Photo.objects.filter(suggestion=row).count(),
        "audit": AuditEvent.objects.count(),
        "notices": Notice.objects.count(),
    }


def refused(code: str, fn, *, suggestion: Suggestion | None = None, field: str | None = "-") -> DomainError:
    before = state(suggestion) if suggestion is not None else None
    with pytest.raises(DomainError) as caught:
        fn()
    assert caught.value.code == code, caught.value
    if field != "-":
        assert caught.value.field == field
    if suggestion is not None:
        assert state(suggestion) == before
    return caught.value


def events(suggestion: Suggestion) -> list[str]:
    return list(
        SuggestionEvent.objects.filter(suggestion=suggestion)
        .order_by("at", "id")
        .values_list("kind", flat=True)
    )


def counts() -> tuple[int, int, int, int]:
    return (
        Suggestion.objects.count(),
        SuggestionEvent.objects.count(),
        Photo.objects.count(),
        Engagement.objects.count(),
    )


@pytest.fixture
def world(voice_world):
    w = voice_world
    w["street"] = w["roles"]["street"]
    w["district"] = w["roles"]["district"]
    w["other"] = w["roles"]["other_community"]
    return w


def submit(world, *, now=FRI_EVENING, **kw) -> Suggestion:
    return world["suggestion"](now=now, **kw)


def sc(user):
    return staff_scope(user)


# --- submitting ---------------------------------------------------------------------------------


def test_submit_gives_a_tracking_number_deadlines_an_owner_and_a_first_event(world):
    resident, center = world["residents"][0], world["center"]
    s = submit(world, kind="suggestion", category="facilities", text="  希望在二楼\n  增设一个药箱  ")
    s.refresh_from_db()
    match = TRACKING.match(s.tracking_no)
    assert match and match.group(1) == "20261120"
    assert (s.status, s.channel, s.resident_id, s.center_id, s.owner_organization_id) == (
        "received",
        "online",
        resident.pk,
        center.pk,
        None,
    )
    assert s.text == "希望在二楼\n增设一个药箱"
    assert s.owner_name == center.name
    # Suggestion: 2 working days to respond, 15 to resolve, from Friday evening.
    assert s.received_at == FRI_EVENING
    assert s.respond_by == end_of(11, 24)  # Mon, Tue
    assert s.resolve_by == end_of(12, 11)  # 5 + 5 + 5 working days: Fri 11 December
    (event,) = SuggestionEvent.objects.filter(suggestion=s)
    assert (event.kind, event.actor_id, event.to_owner, event.at) == (
        "received",
        resident.user.pk,
        center.name,
        FRI_EVENING,
    )
    notice = Notice.objects.get(user=resident.user)
    assert (notice.kind, notice.params["no"], notice.params["respond_by"]) == (
        "voice.received",
        s.tracking_no,
        "2026-11-24 23:59",
    )
    audit = AuditEvent.objects.get(action="voice.suggestion.submitted")
    assert (audit.actor_id, audit.object_id, audit.data) == (
        resident.user.pk,
        str(s.pk),
        {"kind": "suggestion", "category": "facilities", "photos": 0},
    )
    assert list(selectors.suggestions_of_resident(resident.user)) == [s]


def test_the_tracking_number_carries_the_shanghai_day(world):
    # 17:00 UTC on Friday is 01:00 on Saturday in Shanghai.
    s = submit(world, now=dt.datetime(2026, 11, 20, 17, 0, tzinfo=dt.UTC))
    assert TRACKING.match(s.tracking_no).group(1) == "20261121"
    # Received on Saturday: one working day to respond → Monday night; consultation (1, 3) → Wed.
    c = submit(world, now=t(11, 21, 11), kind="consultation")
    assert (c.respond_by, c.resolve_by) == (end_of(11, 23), end_of(11, 25))


def test_tracking_numbers_differ(world):
    numbers = {submit(world, text=f"第{i}个建议：请多开放").tracking_no for i in range(20)}
    assert len(numbers) == 20


def test_deadlines_follow_the_rules_category_first(world):
    district = world["district"]
    services.deadline_rule_set(
        staff=district, scope=sc(district), kind="complaint", category="", respond_days=2, resolve_days=7
    )
    services.deadline_rule_set(
        staff=district, scope=sc(district), kind="complaint", category="staff", respond_days=1, resolve_days=2
    )
    assert services.deadline_days("complaint", "staff") == (1, 2)
    assert services.deadline_days("complaint", "facilities") == (2, 7)
    assert services.deadline_days("report", "staff") == (1, 10)  # the seeded default of its kind
    on_staff = submit(world, kind="complaint", category="staff", text="前台工作人员态度不好")
    on_rooms = submit(world, kind="complaint", category="facilities", text="空调坏了好几天")
    assert (on_staff.respond_by, on_staff.resolve_by) == (end_of(11, 23), end_of(11, 24))
    assert (on_rooms.respond_by, on_rooms.resolve_by) == (end_of(11, 24), end_of(12, 1))
    # With no rule at all for the kind, the built-in defaults apply.
    DeadlineRule.objects.filter(kind="help").delete()
    assert services.deadline_days("help", "services") == services.DEFAULT_DEADLINES["help"] == (1, 5)
    # A public holiday on Monday pushes both.
    CalendarDay.objects.create(date=dt.date(2026, 11, 23), kind="holiday")
    again = submit(world, kind="complaint", category="staff", text="前台工作人员态度不好")
    assert (again.respond_by, again.resolve_by) == (end_of(11, 24), end_of(11, 25))


def test_only_the_district_sets_deadline_rules(world):
    DeadlineRule.objects.update_or_create(
        kind="help", category="", defaults={"respond_days": 1, "resolve_days": 5}
    )
    before = list(DeadlineRule.objects.values_list("kind", "category", "respond_days", "resolve_days"))
    for who in (world["street"], world["desk"]):
        refused(
            "forbidden",
            lambda who=who: services.deadline_rule_set(
                staff=who, scope=sc(who), kind="help", category="", respond_days=1, resolve_days=2
            ),
        )
    district = world["district"]
    for kind, category, respond, resolve in [
        ("gossip", "", 1, 2),
        ("help", "weather", 1, 2),
        ("help", "", 0, 2),
        ("help", "", 3, 2),
        ("help", "", 1, 121),
        ("help", "", 61, 100),
    ]:
        refused(
            "deadline_rule_invalid",
            lambda k=kind, c=category, r=respond, s=resolve: services.deadline_rule_set(
                staff=district, scope=sc(district), kind=k, category=c, respond_days=r, resolve_days=s
            ),
        )
    assert (
        list(DeadlineRule.objects.values_list("kind", "category", "respond_days", "resolve_days")) == before
    )
    rule = services.deadline_rule_set(
        staff=district, scope=sc(district), kind="help", category="", respond_days=2, resolve_days=3
    )
    assert DeadlineRule.objects.get(kind="help", category="").resolve_days == 3
    assert DeadlineRule.objects.count() == len(before)
    refused(
        "forbidden",
        lambda: services.deadline_rule_delete(
            staff=world["street"], scope=sc(world["street"]), rule_id=rule.pk
        ),
    )
    services.deadline_rule_delete(staff=district, scope=sc(district), rule_id=rule.pk)
    assert not DeadlineRule.objects.filter(pk=rule.pk).exists()


def test_photos_are_stored_re_encoded(world):
    png = jpeg_bytes(120, 80, "blue", fmt="PNG")
    s = submit(world, photos=[png, jpeg_bytes(30, 20)])
    photos = list(Photo.objects.filter(suggestion=s).order_by("id"))
    assert [(p.kind, p.width, p.height, p.uploaded_by_id) for p in photos] == [
        ("report", 120, 80, world["residents"][0].user.pk),
        ("report", 30, 20, world["residents"][0].user.pk),
    ]
    for p in photos:
        content = bytes(p.content)
        assert content[:3] == b"\xff\xd8\xff" and p.size == len(content)
    assert AuditEvent.objects.get(action="voice.suggestion.submitted").data["photos"] == 2


@pytest.mark.parametrize("text", ["", "    ", "\n\n", "四个字符", "a b ", "字" * 2001])
def test_text_empty_short_or_long_is_refused_and_writes_nothing(world, text):
    refused("suggestion_text_invalid", lambda: submit(world, text=text, photos=[jpeg_bytes()]), field="text")
    assert counts() == (0, 0, 0, 0)
    assert not Notice.objects.exists()


def test_text_at_the_limits_is_kept(world):
    assert submit(world, text="五个字符呀").text == "五个字符呀"
    assert len(submit(world, text="字" * 2000).text) == 2000


def test_bad_kind_category_center_or_profile_are_refused(world):
    refused("suggestion_kind_invalid", lambda: submit(world, kind="praise"), field="kind")
    refused("suggestion_category_invalid", lambda: submit(world, category="weather"), field="category")
    user = world["residents"][0].user
    refused(
        "center_not_found",
        lambda: services.suggestion_submit(
            user=user,
            draft=SuggestionDraft(center_id=999999, kind="help", category="other", text="需要帮助的事情"),
        ),
        field="center",
    )
    refused(
        "profile_incomplete",
        lambda: services.suggestion_submit(
            user=f.UserFactory(),
            draft=SuggestionDraft(
                center_id=world["center"].pk, kind="help", category="other", text="需要帮助的事情"
            ),
        ),
    )
    refused(
        "not_found",
        lambda: services.suggestion_submit(
            user=user,
            draft=SuggestionDraft(
                center_id=world["center"].pk,
                kind="help",
                category="other",
                text="需要帮助的事情",
                space_id=f.SpaceFactory(center=world["other_center"]).pk,
            ),
        ),
        field="space",
    )
    assert counts() == (0, 0, 0, 0)


def test_staff_record_a_desk_or_phone_request(world):
    desk, resident = world["desk"], world["residents"][1]
    s = services.suggestion_record(
        staff=desk,
        scope=sc(desk),
        draft=SuggestionDraft(
            center_id=world["center"].pk, kind="help", category="services", text="电话反映：想报名助餐"
        ),
        channel="phone",
        resident_id=resident.pk,
        now=FRI_EVENING,
    )
    assert (s.channel, s.resident_id, s.recorded_by_id, s.status) == (
        "phone",
        resident.pk,
        desk.pk,
        "received",
    )
    assert SuggestionEvent.objects.get(suggestion=s).actor_id == desk.pk
    refused(
        "channel_invalid",
        lambda: services.suggestion_record(
            staff=desk,
            scope=sc(desk),
            draft=SuggestionDraft(
                center_id=world["center"].pk, kind="help", category="services", text="网上提交的东西"
            ),
            channel="online",
        ),
        field="channel",
    )
    # A resident of another community, or a center of another community: 404.
    refused(
        "not_found",
        lambda: services.suggestion_record(
            staff=desk,
            scope=sc(desk),
            draft=SuggestionDraft(
                center_id=world["center"].pk, kind="help", category="services", text="电话反映的事情"
            ),
            channel="desk",
            resident_id=world["far"].pk,
        ),
        field="resident",
    )
    refused(
        "center_not_found",
        lambda: services.suggestion_record(
            staff=desk,
            scope=sc(desk),
            draft=SuggestionDraft(
                center_id=world["other_center"].pk, kind="help", category="services", text="电话反映的事情"
            ),
            channel="desk",
        ),
    )
    assert Suggestion.objects.count() == 1


# --- the workflow -------------------------------------------------------------------------------------


def test_the_whole_workflow_with_a_hand_over_and_an_extension(world):
    resident, center, org, partner = world["residents"][0], world["center"], world["org"], world["partner"]
    desk, street = world["desk"], world["street"]
    CalendarDay.objects.create(date=dt.date(2026, 12, 1), kind="holiday", name="测试假日")
    # Complaint (1, 5): respond by Monday night, resolve by Friday 27 night.
    s = submit(world, kind="complaint", category="facilities", text="淋浴间的热水器坏了")
    assert (s.respond_by, s.resolve_by) == (end_of(11, 23), end_of(11, 27))

    # The partner sees nothing before it is handed the request.
    assert selectors.staff_suggestion(sc(partner), s.pk) is None
    refused(
        "suggestion_not_found",
        lambda: services.suggestion_respond(
            staff=partner, scope=sc(partner), suggestion_id=s.pk, message="我们来处理"
        ),
        suggestion=s,
    )

    # Assigned: hand-over from the center to the partner, who is told.
    services.suggestion_assign(
        staff=desk,
        scope=sc(desk),
        suggestion_id=s.pk,
        organization_id=org.pk,
        note="物业负责",
        now=t(11, 23, 9),
    )
    s.refresh_from_db()
    assert (s.status, s.owner_organization_id, s.first_response_at) == ("assigned", org.pk, None)
    hand_over = SuggestionEvent.objects.get(suggestion=s, kind="assigned")
    assert (hand_over.from_owner, hand_over.to_owner, hand_over.actor_id, hand_over.note) == (
        center.name,
        org.name,
        desk.pk,
        "物业负责",
    )
    assert list(Notice.objects.filter(kind="voice.assigned").values_list("user_id", flat=True)) == [
        partner.pk
    ]
    assert selectors.staff_suggestion(sc(partner), s.pk) == s

    # In progress: the partner's first response.
    services.suggestion_respond(
        staff=partner, scope=sc(partner), suggestion_id=s.pk, message="已安排师傅上门", now=t(11, 23, 15, 30)
    )
    s.refresh_from_db()
    assert (s.status, s.first_response_at) == ("in_progress", t(11, 23, 15, 30))
    # A second message does not move the first response time.
    services.suggestion_respond(
        staff=partner, scope=sc(partner), suggestion_id=s.pk, message="配件在路上", now=t(11, 24, 9)
    )
    s.refresh_from_db()
    assert (s.status, s.first_response_at) == ("in_progress", t(11, 23, 15, 30))

    # An extension of 3 working days, asked by the partner.
    refused(
        "extension_invalid",
        lambda: services.extension_request(
            staff=partner, scope=sc(partner), suggestion_id=s.pk, days=31, reason="配件缺货"
        ),
        suggestion=s,
        field="days",
    )
    refused(
        "extension_invalid",
        lambda: services.extension_request(
            staff=partner, scope=sc(partner), suggestion_id=s.pk, days=3, reason="  "
        ),
        suggestion=s,
        field="reason",
    )
    ext = services.extension_request(
        staff=partner, scope=sc(partner), suggestion_id=s.pk, days=3, reason="配件缺货", now=t(11, 25, 10)
    )
    refused(
        "extension_pending",
        lambda: services.extension_request(
            staff=partner, scope=sc(partner), suggestion_id=s.pk, days=2, reason="再等等"
        ),
        suggestion=s,
    )
    # The community worker is not a supervisor; the partner neither.
    for who in (desk, partner):
        refused(
            "not_supervisor",
            lambda who=who: services.extension_decide(
                staff=who, scope=sc(who), extension_id=ext.pk, approve=True
            ),
            suggestion=s,
        )
    assert selectors.pending_extensions(sc(street)).get() == ext
    services.extension_decide(
        staff=street, scope=sc(street), extension_id=ext.pk, approve=True, note="同意", now=t(11, 26, 9)
    )
    ext.refresh_from_db()
    s.refresh_from_db()
    assert (ext.status, ext.decided_by_id, ext.decided_at, ext.decision_note) == (
        "approved",
        street.pk,
        t(11, 26, 9),
        "同意",
    )
    # Fri 27 + 3 working days: Mon 30, (Tue 1 December is a holiday), Wed 2, Thu 3.
    assert s.resolve_by == end_of(12, 3)
    assert Notice.objects.filter(user=partner, kind="voice.extension_decided").count() == 1
    # Decided once: deciding again is a conflict, and the first decision stands.
    refused(
        "extension_decided",
        lambda: services.extension_decide(staff=street, scope=sc(street), extension_id=ext.pk, approve=False),
        suggestion=s,
    )

    # Resolved, with the reply the resident reads.
    refused(
        "reply_required",
        lambda: services.suggestion_resolve(
            staff=partner, scope=sc(partner), suggestion_id=s.pk, reply=" \n "
        ),
        suggestion=s,
        field="reply",
    )
    services.suggestion_resolve(
        staff=partner,
        scope=sc(partner),
        suggestion_id=s.pk,
        reply="热水器已更换",
        done_note="更换热水器",
        now=t(12, 2, 16),
    )
    s.refresh_from_db()
    assert (s.status, s.resolved_at, s.first_resolved_at, s.reply, s.done_note) == (
        "resolved",
        t(12, 2, 16),
        t(12, 2, 16),
        "热水器已更换",
        "更换热水器",
    )
    assert AuditEvent.objects.get(action="voice.suggestion.resolved").data == {"on_time": True}
    assert Notice.objects.filter(user=resident.user, kind="voice.resolved").count() == 1
    refused(
        "suggestion_wrong_state",
        lambda: services.suggestion_resolve(
            staff=partner, scope=sc(partner), suggestion_id=s.pk, reply="再次解决"
        ),
        suggestion=s,
    )

    # Rated "satisfied": closed.
    services.suggestion_rate(
        user=resident.user, suggestion_id=s.pk, rating=4, comment="谢谢", now=t(12, 3, 8)
    )
    s.refresh_from_db()
    assert (s.status, s.rating, s.rating_comment, s.rated_at, s.closed_at, s.follow_up) == (
        "closed",
        4,
        "谢谢",
        t(12, 3, 8),
        t(12, 3, 8),
        False,
    )
    assert events(s) == [
        "received",
        "assigned",
        "responded",
        "responded",
        "extension_requested",
        "extension_approved",
        "resolved",
        "rated",
        "closed",
    ]
    public = SuggestionEvent.objects.filter(suggestion=s, public=True).values_list("kind", flat=True)
    assert list(public) == ["responded", "responded", "resolved", "rated", "closed"]
    # Closed: nothing more can be done.
    refused(
        "already_rated",
        lambda: services.suggestion_rate(user=resident.user, suggestion_id=s.pk, rating=5),
        suggestion=s,
    )
    refused(
        "suggestion_wrong_state",
        lambda: services.suggestion_respond(staff=desk, scope=sc(desk), suggestion_id=s.pk, message="补充"),
        suggestion=s,
    )
    refused(
        "suggestion_wrong_state",
        lambda: services.extension_request(
            staff=desk, scope=sc(desk), suggestion_id=s.pk, days=1, reason="还要"
        ),
        suggestion=s,
    )


def test_a_refused_extension_keeps_the_deadline(world):
    s = submit(world, kind="complaint", text="门禁卡刷不开")
    desk, district = world["desk"], world["district"]
    ext = services.extension_request(
        staff=desk, scope=sc(desk), suggestion_id=s.pk, days=5, reason="要等厂家", now=t(11, 23)
    )
    services.extension_decide(
        staff=district, scope=sc(district), extension_id=ext.pk, approve=False, note="请按期办结"
    )
    s.refresh_from_db()
    assert (Extension.objects.get().status, s.resolve_by) == ("refused", end_of(11, 27))
    assert events(s)[-1] == "extension_refused"
    # Refused, a new one may be asked.
    services.extension_request(
        staff=desk, scope=sc(desk), suggestion_id=s.pk, days=2, reason="厂家来不了", now=t(11, 24)
    )
    assert Extension.objects.filter(status="pending").count() == 1


def test_a_street_official_of_another_street_cannot_decide(world):
    s = submit(world, kind="complaint", text="门禁卡刷不开")
    desk = world["desk"]
    ext = services.extension_request(
        staff=desk, scope=sc(desk), suggestion_id=s.pk, days=5, reason="要等厂家"
    )
    other_street = f.staff_with_role(StaffRole.Role.STREET_OFFICIAL, street=world["place"]["streets"][1])
    refused(
        "extension_not_found",
        lambda: services.extension_decide(
            staff=other_street, scope=sc(other_street), extension_id=ext.pk, approve=True
        ),
        suggestion=s,
    )


def test_rating_before_resolution_or_someone_elses_or_twice(world):
    a, b = world["residents"][0], world["residents"][1]
    s = submit(world)
    refused(
        "suggestion_wrong_state",
        lambda: services.suggestion_rate(user=a.user, suggestion_id=s.pk, rating=5),
        suggestion=s,
    )
    desk = world["desk"]
    services.suggestion_resolve(staff=desk, scope=sc(desk), suggestion_id=s.pk, reply="已处理", now=t(11, 23))
    refused(
        "suggestion_not_found",
        lambda: services.suggestion_rate(user=b.user, suggestion_id=s.pk, rating=5),
        suggestion=s,
    )
    refused(
        "suggestion_not_found",
        lambda: services.suggestion_rate(user=desk, suggestion_id=s.pk, rating=5),
        suggestion=s,
    )
    for bad in (0, 6, -1, True, "5", None):
        refused(
            "rating_invalid",
            lambda bad=bad: services.suggestion_rate(user=a.user, suggestion_id=s.pk, rating=bad),
            suggestion=s,
            field="rating",
        )
    services.suggestion_rate(user=a.user, suggestion_id=s.pk, rating=3, now=t(11, 24))
    s.refresh_from_db()
    assert (s.status, s.rating) == ("closed", 3)
    refused(
        "already_rated",
        lambda: services.suggestion_rate(user=a.user, suggestion_id=s.pk, rating=5),
        suggestion=s,
    )
    assert SuggestionEvent.objects.filter(suggestion=s, kind="rated").count() == 1


@pytest.mark.parametrize("rating", [2, 1])
def test_a_low_rating_opens_a_follow_up_once(world, rating):
    resident, desk = world["residents"][0], world["desk"]
    s = submit(world)
    services.suggestion_resolve(staff=desk, scope=sc(desk), suggestion_id=s.pk, reply="已处理", now=t(11, 23))
    # Rated on Tuesday 24 November: 15 working days → Tue 15 December.
    services.suggestion_rate(
        user=resident.user, suggestion_id=s.pk, rating=rating, comment="没解决", now=t(11, 24, 10)
    )
    s.refresh_from_db()
    assert (s.status, s.follow_up, s.rating, s.resolve_by, s.overdue, s.escalation_level) == (
        "in_progress",
        True,
        rating,
        end_of(12, 15),
        False,
        0,
    )
    assert events(s)[-2:] == ["rated", "follow_up"]
    notice = Notice.objects.get(user=resident.user, kind="voice.follow_up")
    assert notice.params["due"] == "2026-12-15 23:59"
    # In progress again: rating now is a wrong state, and changes nothing.
    refused(
        "suggestion_wrong_state",
        lambda: services.suggestion_rate(user=resident.user, suggestion_id=s.pk, rating=1),
        suggestion=s,
    )
    # Resolved again and rated low again: no second follow-up, it closes.
    services.suggestion_resolve(
        staff=desk, scope=sc(desk), suggestion_id=s.pk, reply="再次处理", now=t(11, 30)
    )
    s.refresh_from_db()
    # The low rating stands until the resident rates again: resolving cannot wash it out.
    assert (s.rating, s.first_resolved_at, s.resolved_at) == (rating, t(11, 23), t(11, 30))
    services.suggestion_rate(user=resident.user, suggestion_id=s.pk, rating=1, now=t(12, 1))
    s.refresh_from_db()
    assert (s.status, s.rating, s.follow_up) == ("closed", 1, True)
    assert SuggestionEvent.objects.filter(suggestion=s, kind="follow_up").count() == 1
    assert Notice.objects.filter(kind="voice.follow_up").count() == 1


def test_reopen_within_the_window_and_not_after(world, settings):
    settings.LIVINGROOM_VOICE_REOPEN_DAYS = 7
    resident, desk = world["residents"][0], world["desk"]
    s = submit(world, kind="help", category="services", text="想申请助餐补贴")  # help (1, 5)
    services.suggestion_resolve(
        staff=desk, scope=sc(desk), suggestion_id=s.pk, reply="已办理", now=t(11, 23, 10)
    )
    refused(
        "suggestion_text_invalid",
        lambda: services.suggestion_reopen(user=resident.user, suggestion_id=s.pk, reason="不行"),
        suggestion=s,
        field="reason",
    )
    refused(
        "suggestion_not_found",
        lambda: services.suggestion_reopen(
            user=world["residents"][1].user, suggestion_id=s.pk, reason="我也觉得没办好"
        ),
        suggestion=s,
    )
    # Reopened on Friday 27 (within 7 days): in progress, 5 working days from Friday → Fri 4 December.
    services.suggestion_reopen(
        user=resident.user, suggestion_id=s.pk, reason="补贴还没到账", now=t(11, 27, 18)
    )
    s.refresh_from_db()
    assert (s.status, s.reopen_count, s.resolve_by, s.first_resolved_at) == (
        "in_progress",
        1,
        end_of(12, 4),
        t(11, 23, 10),
    )
    assert events(s)[-1] == "reopened"
    refused(
        "suggestion_wrong_state",
        lambda: services.suggestion_reopen(user=resident.user, suggestion_id=s.pk, reason="补贴还没到账"),
        suggestion=s,
    )
    # Resolved again on 30 November; the window ends 7 days later, at the same time.
    services.suggestion_resolve(
        staff=desk, scope=sc(desk), suggestion_id=s.pk, reply="已到账", now=t(11, 30, 10)
    )
    refused(
        "reopen_window_passed",
        lambda: services.suggestion_reopen(
            user=resident.user, suggestion_id=s.pk, reason="又没了的问题", now=t(12, 7, 10, 0, 1)
        ),
        suggestion=s,
    )
    services.suggestion_reopen(
        user=resident.user, suggestion_id=s.pk, reason="又没了的问题", now=t(12, 7, 10)
    )
    s.refresh_from_db()
    assert (s.status, s.reopen_count) == ("in_progress", 2)


def test_staff_of_another_community_get_not_found_for_every_action(world):
    s = submit(world)
    desk = world["desk"]
    ext = services.extension_request(
        staff=desk, scope=sc(desk), suggestion_id=s.pk, days=2, reason="需要时间"
    )
    outsiders = [world["other"], world["roles"]["center"], world["roles"]["partner"]]
    for who in outsiders:
        scope = sc(who)
        assert selectors.staff_suggestion(scope, s.pk) is None
        assert selectors.staff_suggestion_by_tracking(scope, s.tracking_no) is None
        assert list(selectors.staff_suggestions(scope)) == []
        assert list(selectors.pending_extensions(scope)) == []
        actions = [
            lambda who=who, scope=scope: services.suggestion_assign(
                staff=who, scope=scope, suggestion_id=s.pk, organization_id=None
            ),
            lambda who=who, scope=scope: services.suggestion_respond(
                staff=who, scope=scope, suggestion_id=s.pk, message="你好"
            ),
            lambda who=who, scope=scope: services.extension_request(
                staff=who, scope=scope, suggestion_id=s.pk, days=1, reason="理由"
            ),
            lambda who=who, scope=scope: services.suggestion_resolve(
                staff=who, scope=scope, suggestion_id=s.pk, reply="好了"
            ),
            lambda who=who, scope=scope: services.suggestion_publish(
                staff=who, scope=scope, suggestion_id=s.pk, public=True, summary="公开的摘要内容"
            ),
            lambda who=who, scope=scope: services.photo_add(
                staff=who, scope=scope, suggestion_id=s.pk, kind="before", data=jpeg_bytes()
            ),
        ]
        for action in actions:
            err = refused("suggestion_not_found", action, suggestion=s)
            assert err.status == 404
        err = refused(
            "extension_not_found",
            lambda who=who, scope=scope: services.extension_decide(
                staff=who, scope=scope, extension_id=ext.pk, approve=True
            ),
            suggestion=s,
        )
        assert err.status == 404
    # The street official and the district see it.
    assert selectors.staff_suggestion(sc(world["street"]), s.pk) == s
    assert selectors.staff_suggestion(sc(world["district"]), s.pk) == s


def test_a_partner_sees_and_acts_only_on_what_it_was_handed(world):
    desk, org, partner = world["desk"], world["org"], world["partner"]
    mine = submit(world, text="物业的事情：电梯异响")
    not_mine = submit(world, text="中心的事情：活动太少")
    refused(
        "owner_not_found",
        lambda: services.suggestion_assign(
            staff=desk,
            scope=sc(desk),
            suggestion_id=mine.pk,
            organization_id=f.OrganizationFactory(name="别处的公司").pk,
        ),
        suggestion=mine,
        field="organization",
    )
    services.suggestion_assign(staff=desk, scope=sc(desk), suggestion_id=mine.pk, organization_id=org.pk)
    scope = sc(partner)
    assert list(selectors.staff_suggestions(scope)) == [mine]
    for action in (
        lambda: services.suggestion_respond(
            staff=partner, scope=scope, suggestion_id=not_mine.pk, message="你好"
        ),
        lambda: services.suggestion_resolve(
            staff=partner, scope=scope, suggestion_id=not_mine.pk, reply="好了"
        ),
    ):
        refused("suggestion_not_found", action, suggestion=not_mine)
    services.suggestion_resolve(
        staff=partner, scope=scope, suggestion_id=mine.pk, reply="电梯已检修", now=t(11, 23)
    )
    assert Suggestion.objects.get(pk=mine.pk).status == "resolved"
    # Handed back to the center: the partner no longer sees it.
    other = submit(world, text="物业的事情：楼道灯坏")
    services.suggestion_assign(staff=desk, scope=sc(desk), suggestion_id=other.pk, organization_id=org.pk)
    services.suggestion_assign(staff=desk, scope=sc(desk), suggestion_id=other.pk, organization_id=None)
    back = SuggestionEvent.objects.filter(suggestion=other, kind="assigned").order_by("id").last()
    assert (back.from_owner, back.to_owner) == (org.name, world["center"].name)
    assert selectors.staff_suggestion(sc(partner), other.pk) is None


def test_publish_masks_personal_numbers_and_shows_on_the_board(world):
    desk = world["desk"]
    s = submit(world, text="我的电话13812345678，请联系")
    refused(
        "summary_required",
        lambda: services.suggestion_publish(
            staff=desk, scope=sc(desk), suggestion_id=s.pk, public=True, summary=" 短 "
        ),
        suggestion=s,
        field="summary",
    )
    services.suggestion_publish(
        staff=desk,
        scope=sc(desk),
        suggestion_id=s.pk,
        public=True,
        summary="居民（电话13812345678，身份证440306199001011234）希望增设药箱",
        done_note="已在二楼增设药箱，联系人13987654321",
        now=t(11, 25),
    )
    s.refresh_from_db()
    assert s.is_public and s.published_at == t(11, 25)
    assert "13812345678" not in s.public_summary and "440306199001011234" not in s.public_summary
    assert "138****5678" in s.public_summary
    assert s.done_note == "已在二楼增设药箱，联系人139****4321"
    assert list(selectors.public_board_items(world["center"])) == [s]
    assert list(selectors.public_board_items(world["other_center"])) == []
    assert selectors.suggestion_public(s.tracking_no) == s
    assert list(selectors.centers_with_board()) == [world["center"]]
    # Taken off the board.
    services.suggestion_publish(staff=desk, scope=sc(desk), suggestion_id=s.pk, public=False, now=t(11, 26))
    assert selectors.suggestion_public(s.tracking_no) is None
    assert list(selectors.public_board_items()) == []


def test_staff_add_before_and_after_photos(world):
    desk = world["desk"]
    s = submit(world)
    photo = services.photo_add(
        staff=desk, scope=sc(desk), suggestion_id=s.pk, kind="after", data=jpeg_bytes(50, 40, fmt="PNG")
    )
    assert (photo.kind, photo.width, photo.height, bytes(photo.content)[:2]) == ("after", 50, 40, b"\xff\xd8")
    refused(
        "photo_kind_invalid",
        lambda: services.photo_add(
            staff=desk, scope=sc(desk), suggestion_id=s.pk, kind="report", data=jpeg_bytes()
        ),
        suggestion=s,
        field="kind",
    )
    for _n in range(3):
        services.photo_add(staff=desk, scope=sc(desk), suggestion_id=s.pk, kind="after", data=jpeg_bytes())
    refused(
        "too_many_photos",
        lambda: services.photo_add(
            staff=desk, scope=sc(desk), suggestion_id=s.pk, kind="after", data=jpeg_bytes()
        ),
        suggestion=s,
    )
    services.photo_add(staff=desk, scope=sc(desk), suggestion_id=s.pk, kind="before", data=jpeg_bytes())
    assert Photo.objects.filter(suggestion=s).count() == 5


# --- forums and visits -----------------------------------------------------------------------------


def test_an_engagement_turns_raised_points_into_suggestions(world):
    desk, center = world["desk"], world["center"]
    engagement = services.engagement_record(
        staff=desk,
        scope=sc(desk),
        center_id=center.pk,
        kind="visit",
        held_on=dt.date(2026, 11, 19),
        place="骑手驿站",
        participants=6,
        topics="骑手休息与用药",
        notes="走访外卖骑手",
        raised=[
            RaisedPoint(kind="suggestion", category="facilities", text="想要一个能短暂休息的地方"),
            RaisedPoint(kind="help", category="services", text="希望放一个常用药箱"),
        ],
        now=FRI_EVENING,
    )
    made = list(Suggestion.objects.filter(engagement=engagement).order_by("id"))
    assert [(s.channel, s.kind, s.resident_id, s.recorded_by_id, s.center_id, s.status) for s in made] == [
        ("visit", "suggestion", None, desk.pk, center.pk, "received"),
        ("visit", "help", None, desk.pk, center.pk, "received"),
    ]
    assert [(s.respond_by, s.resolve_by) for s in made] == [
        (end_of(11, 24), end_of(12, 11)),
        (end_of(11, 23), end_of(11, 27)),
    ]
    assert SuggestionEvent.objects.filter(suggestion__in=made, kind="received").count() == 2
    assert AuditEvent.objects.get(action="voice.engagement.recorded").data == {"raised": 2}
    assert selectors.engagements_for_staff(sc(desk)).get().raised == 2
    forum = services.engagement_record(
        staff=desk,
        scope=sc(desk),
        center_id=center.pk,
        kind="forum",
        held_on=dt.date(2026, 11, 20),
        place="二楼会议室",
        participants=20,
        topics="客厅开放时间",
        raised=[RaisedPoint(kind="suggestion", category="activities", text="晚上开放到九点")],
        now=FRI_EVENING,
    )
    assert Suggestion.objects.get(engagement=forum).channel == "forum"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        (
            {
                "raised": [
                    RaisedPoint("suggestion", "facilities", "好的一条建议"),
                    RaisedPoint("suggestion", "facilities", "短"),
                ]
            },
            "suggestion_text_invalid",
        ),
        ({"raised": [RaisedPoint("praise", "facilities", "好的一条建议")]}, "suggestion_kind_invalid"),
        ({"raised": [RaisedPoint("help", "weather", "好的一条建议")]}, "suggestion_category_invalid"),
        ({"kind": "party"}, "engagement_invalid"),
        ({"held_on": dt.date(2026, 11, 21)}, "engagement_invalid"),  # after today
        ({"held_on": dt.date(2025, 11, 18)}, "engagement_invalid"),  # more than a year ago
        ({"participants": 0}, "engagement_invalid"),
        ({"participants": True}, "engagement_invalid"),
        ({"place": "  "}, "engagement_invalid"),
        ({"raised": [RaisedPoint("help", "services", "一条合格的意见")] * 51}, "engagement_invalid"),
        ({"center_id": 999999}, "center_not_found"),
    ],
)
def test_a_bad_engagement_or_point_creates_nothing(world, changes, code):
    desk = world["desk"]
    values = {
        "center_id": world["center"].pk,
        "kind": "forum",
        "held_on": dt.date(2026, 11, 19),
        "place": "二楼会议室",
        "participants": 12,
        "topics": "开放时间",
        "raised": [RaisedPoint("suggestion", "facilities", "好的一条建议")],
    }
    values.update(changes)
    refused(code, lambda: services.engagement_record(staff=desk, scope=sc(desk), now=FRI_EVENING, **values))
    assert counts() == (0, 0, 0, 0)
    assert not AuditEvent.objects.filter(action__startswith="voice.").exists()


def test_an_engagement_at_another_communitys_center_is_not_found(world):
    other = world["other"]
    refused(
        "center_not_found",
        lambda: services.engagement_record(
            staff=other,
            scope=sc(other),
            center_id=world["center"].pk,
            kind="forum",
            held_on=dt.date(2026, 11, 19),
            place="会议室",
            participants=3,
            topics="议题",
            now=FRI_EVENING,
        ),
    )
    assert counts() == (0, 0, 0, 0)


# --- the clock ----------------------------------------------------------------------------------------


def test_the_clock_flags_overdue_escalates_and_closes(world, settings):
    settings.LIVINGROOM_VOICE_ESCALATE_DISTRICT_DAYS = 3
    settings.LIVINGROOM_VOICE_REOPEN_DAYS = 7
    street, district, desk = world["street"], world["district"], world["desk"]
    # Complaint received Friday evening: resolve by Friday 27 night.
    late = submit(world, kind="complaint", text="楼道灯一直不亮")
    on_time = submit(world, kind="suggestion", text="增加一些绿植吧")  # resolve by 11 December
    assert late.resolve_by == end_of(11, 27)

    # Before the deadline: nothing.
    assert services.voice_tick(now=end_of(11, 27)) == services.VoiceTick(0, 0, 0)
    # Just after: overdue, escalated to the sub-district; its officials are told.
    result = services.voice_tick(now=end_of(11, 27) + dt.timedelta(seconds=1))
    assert result == services.VoiceTick(overdue=1, escalated=1, closed=0)
    late.refresh_from_db()
    assert (late.overdue, late.escalation_level, late.status) == (True, 1, "received")
    assert list(Notice.objects.filter(kind="voice.overdue").values_list("user_id", flat=True)) == [street.pk]
    escalated = SuggestionEvent.objects.get(suggestion=late, kind="escalated")
    assert (escalated.from_owner, escalated.to_owner) == (world["center"].name, _("Sub-district"))
    assert Suggestion.objects.get(pk=on_time.pk).overdue is False
    services.suggestion_resolve(
        staff=desk, scope=sc(desk), suggestion_id=on_time.pk, reply="已摆放", now=t(11, 30)
    )
    services.suggestion_rate(
        user=world["residents"][0].user, suggestion_id=on_time.pk, rating=5, now=t(11, 30, 12)
    )
    # Run again the same day: nothing new.
    assert services.voice_tick(now=t(11, 28, 12)) == services.VoiceTick(0, 0, 0)
    # Three working days after the deadline (Mon 30, Tue 1, Wed 2 → end of Wed 2 December): the district.
    assert services.voice_tick(now=end_of(12, 2)) == services.VoiceTick(0, 0, 0)
    result = services.voice_tick(now=t(12, 3, 0, 0, 1))
    assert result == services.VoiceTick(overdue=0, escalated=1, closed=0)
    late.refresh_from_db()
    assert (late.overdue, late.escalation_level) == (True, 2)
    assert list(
        Notice.objects.filter(kind="voice.overdue").order_by("id").values_list("user_id", flat=True)
    ) == [
        street.pk,
        district.pk,
    ]
    assert [
        e.to_owner for e in SuggestionEvent.objects.filter(suggestion=late, kind="escalated").order_by("id")
    ] == [
        _("Sub-district"),
        _("District"),
    ]
    assert SuggestionEvent.objects.filter(suggestion=late, kind="overdue").count() == 1
    assert services.voice_tick(now=t(12, 10)) == services.VoiceTick(0, 0, 0)
    # Counted as overdue in the staff queue.
    assert list(selectors.staff_suggestions_filtered(sc(desk), overdue=True)) == [late]

    # Resolved and left unrated: closed by the clock after the 7-day window.
    services.suggestion_resolve(
        staff=desk, scope=sc(desk), suggestion_id=late.pk, reply="灯已修好", now=t(12, 10, 9)
    )
    assert services.voice_tick(now=t(12, 17, 9)) == services.VoiceTick(0, 0, 0)
    assert services.voice_tick(now=t(12, 17, 9, 0, 1)) == services.VoiceTick(0, 0, 1)
    late.refresh_from_db()
    assert (late.status, late.closed_at, late.rating) == ("closed", t(12, 17, 9, 0, 1), None)
    assert events(late)[-1] == "closed"


def test_a_late_request_found_after_the_district_threshold_goes_straight_to_the_district(world):
    district = world["district"]
    late = submit(world, kind="complaint", text="楼道灯一直不亮")
    result = services.voice_tick(now=t(12, 10))
    assert result == services.VoiceTick(overdue=1, escalated=1, closed=0)
    late.refresh_from_db()
    assert (late.overdue, late.escalation_level) == (True, 2)
    assert list(Notice.objects.filter(kind="voice.overdue").values_list("user_id", flat=True)) == [
        district.pk
    ]


def test_an_approved_extension_clears_a_deadline_that_moved_past_now(world):
    desk, street = world["desk"], world["street"]
    s = submit(world, kind="complaint", text="楼道灯一直不亮")
    services.voice_tick(now=t(11, 28))
    assert Suggestion.objects.get(pk=s.pk).overdue is True
    ext = services.extension_request(
        staff=desk, scope=sc(desk), suggestion_id=s.pk, days=5, reason="需要采购", now=t(11, 30)
    )
    services.extension_decide(
        staff=street, scope=sc(street), extension_id=ext.pk, approve=True, now=t(11, 30, 10)
    )
    s.refresh_from_db()
    assert (s.resolve_by, s.overdue, s.escalation_level) == (end_of(12, 4), False, 0)
    # The new deadline missed too: flagged and escalated again, from the sub-district up.
    assert services.voice_tick(now=end_of(12, 4)) == services.VoiceTick(0, 0, 0)
    assert services.voice_tick(now=t(12, 5, 9)) == services.VoiceTick(overdue=1, escalated=1, closed=0)
    s.refresh_from_db()
    assert (s.overdue, s.escalation_level) == (True, 1)
    assert SuggestionEvent.objects.filter(suggestion=s, kind="overdue").count() == 2
    assert Notice.objects.filter(kind="voice.overdue", user=street).count() == 2


def test_jpeg_helper_makes_images_of_the_requested_format():
    # A guard on the fixture helper the photo tests rely on.
    import io

    assert Image.open(io.BytesIO(jpeg_bytes(fmt="PNG"))).format == "PNG"
