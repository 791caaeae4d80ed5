"""The demo district loads and tells the truth the README and docs rely on."""

import pytest
from django.core.management import call_command

from livingroom.core.scopes import StaffScope
from livingroom.people.models import EligibilityVerification, Resident, StaffRole, User, phone_index
from livingroom.places import selectors
from livingroom.places.models import Center, Community, Device, Space, Street
from livingroom.web.demo import baoan


@pytest.mark.django_db
def test_demo_district_loads(capsys):
    baoan.check()
    call_command("load_demo", residents=120)
    out = capsys.readouterr().out
    assert "13800138000" in out and "LivingRoom-2026" in out
    assert Street.objects.count() == 10 and Community.objects.count() == 124 and Center.objects.count() == 124
    assert Center.objects.filter(is_pilot=True).count() == 25
    assert Resident.objects.count() == 120
    for role in StaffRole.Role.values:
        assert StaffRole.objects.filter(role=role).exists(), role
    assert User.objects.filter(is_superuser=True).count() == 1
    assert Device.objects.count() == 4
    riders = EligibilityVerification.objects.filter(kind="rider", revoked_at__isnull=True)
    # 陈志强, and a few young residents of 福中福 verified for its canteen (web/demo/meals.py)
    chen_phone = phone_index("13800138001")
    assert riders.count() >= 2 and riders.filter(resident__user__phone_hash=chen_phone).exists()

    rows = {c.community.name: c for c in selectors.centers_for_staff(StaffScope(user_id=0, district=True))}
    gushu = rows["固戍社区"]
    assert gushu.office_share_before == pytest.approx(0.5)
    assert gushu.office_share == pytest.approx(0.22)
    for row in rows.values():
        assert row.service_area > 0 and 0.05 < row.office_share < 0.4
        if row.office_share_before is not None:
            assert row.office_share < row.office_share_before < 0.6, row.community.name

    # Booking: every bookable space has rules; the demo residents' bookings are there.
    from livingroom.booking.models import Booking, BookingRules, Closure

    assert BookingRules.objects.count() == Space.objects.filter(bookable=True).count() > 124
    mine = Booking.objects.filter(resident__user__phone_hash=phone_index("13800138000"), status="confirmed")
    assert [(b.status, b.space.name) for b in mine] == [("confirmed", "自习室")]
    rehab = Booking.objects.get(resident__user__phone_hash=phone_index("13800138002"), space__kind="rehab")
    assert rehab.resource.kind == "therapist" and rehab.starts_at.weekday() < 5
    assert Booking.objects.filter(kind="organization", status="confirmed").count() >= 8
    assert Booking.objects.filter(status="pending").count() == 1
    assert Closure.objects.filter(reason="元旦闭馆").count() == 124

    # Courses: the painting class is full after its opening draw, 李晓梅 is 7th on its waiting list,
    # her daughter has a seat in the reading class, a talent's proposal waits for approval.
    from livingroom.programs.models import Draw, Enrollment, Program
    from livingroom.programs.services import draw_replay

    painting = Program.objects.get(title="国画入门：花鸟小品")
    assert (painting.seats_taken, painting.capacity, painting.waitlist_count) == (20, 20, 7)
    assert painting.price_fen * 5 == painting.market_price_fen
    mine = Enrollment.objects.get(program=painting, resident__user__phone_hash=phone_index("13800138000"))
    assert (mine.status, mine.position) == ("waitlisted", 7)
    draw = Draw.objects.get(program=painting)
    assert len(draw.entrants) == 26
    assert draw_replay(draw, capacity=20, waitlist_size=10).outcome_matches
    child = Enrollment.objects.get(program__title="亲子绘本共读", dependant__isnull=False)
    assert (child.status, child.dependant.name) == ("confirmed", "李朵朵")
    assert Program.objects.get(title="非遗剪纸体验课").status == "pending"
    assert Program.objects.filter(status="published").count() == 6

    # Volunteering and points: 周建华 has served 120 hours in 朗下 (one star) and drinks were sold at
    # its vending machine (one vend failed and was refunded); 李晓梅 served three shifts in 固戍,
    # holds a certificate, waits for an answer to a correction and is signed up for the clean-up.
    from livingroom.points.models import Account, Redemption
    from livingroom.points.services import ledger_check
    from livingroom.volunteering.models import Certificate, Correction, ServiceRecord, Signup, Volunteer

    zhou = Volunteer.objects.get(resident__user__phone_hash=phone_index("13800138003"))
    assert (zhou.hours_total, zhou.stars) == (120.0, 1)
    assert Account.objects.get(resident=zhou.resident, community__name="朗下社区").balance == 120 - 3 - 2 + 2
    assert sorted(Redemption.objects.values_list("channel", "status")) == [
        ("vending", "completed"),
        ("vending", "completed"),
        ("vending", "completed"),
        ("vending", "refunded"),
    ]
    li = Volunteer.objects.get(resident__user__phone_hash=phone_index("13800138000"))
    assert ServiceRecord.objects.filter(volunteer=li).count() == 3
    assert Certificate.objects.filter(volunteer=li).count() == 1
    assert Correction.objects.get(volunteer=li).status == "open"
    assert Signup.objects.filter(volunteer=li, shift__activity__title="固戍社区环境清洁日").exists()
    assert ledger_check() == []

    # Residents' voice: a needs survey with a few hundred answers in every pilot community; the
    # rider's rest-spot and medicine-box requests carried out and on the board; 李晓梅's requests
    # in three states and a survey she can still answer; 固戍's harder cases.
    from livingroom.places.models import CalendarDay
    from livingroom.voice.models import Engagement, Extension, Photo, Response, Suggestion, Survey
    from livingroom.voice.selectors import surveys_open_for

    assert CalendarDay.objects.filter(kind="holiday", date__year=2026).count() == 33
    needs = Survey.objects.filter(title__endswith="改造需求调查")
    assert needs.count() == 25 and all(s.anonymous and s.status == "closed" for s in needs)
    assert all(180 <= s.responses_count == s.responses.count() <= 320 for s in needs)
    assert not Response.objects.filter(survey__in=needs, respondent__isnull=False).exists()
    chen = User.objects.get_by_phone("13800138001")
    carried = Suggestion.objects.filter(resident__user=chen, center__community__name="福中福社区")
    assert sorted((s.status, s.rating, s.is_public) for s in carried) == [("closed", 5, True)] * 2
    assert Photo.objects.filter(suggestion__in=carried, kind__in=["before", "after"]).count() == 4
    li_user = User.objects.get_by_phone("13800138000")
    assert sorted(Suggestion.objects.filter(resident__user=li_user).values_list("status", flat=True)) == [
        "in_progress",
        "received",
        "resolved",
    ]
    assert [s.title for s in surveys_open_for(li_user)] == ["固戍客厅夜间开放时间征求意见"]
    assert [s.title for s in surveys_open_for(chen)] == ["新就业群体暖心驿站使用情况调查"]
    gushu_requests = Suggestion.objects.filter(center__community__name="固戍社区")
    assert gushu_requests.filter(owner_organization__isnull=False, status="assigned").count() == 1
    assert gushu_requests.filter(overdue=True, escalation_level__gte=1).exists()
    assert Extension.objects.filter(status="pending", suggestion__in=gushu_requests).count() == 1
    assert gushu_requests.filter(reopen_count=1, status="closed").count() == 1
    assert gushu_requests.filter(follow_up=True, status="in_progress").count() == 1
    assert Engagement.objects.count() == 2

    # Meal assistance: three canteens; 陈志强 pays ¥10 / ¥15 at 福中福's (list ¥18 / ¥25) and has
    # today's subsidised meal still to take; a month of meals with one refund; 黄桂英 (73, disabled)
    # has ordered tomorrow's lunch at the lower of her two prices; the year's budgets are set.
    from django.utils import timezone

    from livingroom.meals.models import Budget, Canteen, Entry, Meal
    from livingroom.meals.selectors import price_list

    assert sorted(Canteen.objects.values_list("name", flat=True)) == [
        "宝民长者饭堂",
        "朗下长者饭堂",
        "福中福社区饭堂",
    ]
    fuzhongfu = Canteen.objects.get(name="福中福社区饭堂")
    assert fuzhongfu.operator.name == "（示例）福中福社区饭堂"
    prices = price_list(chen.resident, fuzhongfu, timezone.localdate())
    assert prices.subsidised_left == 1
    lunch = {p.item.set_meal.name: (p.price.list_fen, p.price.eater_fen) for p in prices.menus[0][1]}
    assert lunch["吃得饱套餐"] == (1800, 1000) and lunch["吃得好套餐"] == (2500, 1500)
    served = Meal.objects.filter(status="served")
    assert served.count() > 200 and served.filter(group="rider").exists()
    assert Meal.objects.filter(status="refunded").count() == 1
    assert Entry.objects.filter(kind="refund").exists()
    huang = Meal.objects.get(resident__user__phone_hash=phone_index("13800138002"), status="ordered")
    assert (huang.group, huang.eater_fen) == ("disabled", 900)
    assert (
        Budget.objects.filter(year=timezone.localdate().year).count() == 2 + 3
    )  # city, district, 3 sub-districts

    call_command("load_demo", if_empty=True)  # a second `make run` leaves the data alone
    assert Community.objects.count() == 124
