"""Demo courses: the painting class of 龙珠's social organisation (20% of the market price, its
opening draw already made, full with a waiting list), a calligraphy class opening tomorrow with a
draw, 固戍's youth night school, a talent's square-dance class, a parent-and-child reading class,
a talent's proposal waiting for approval, and a finished smartphone class for the elderly with
attendance and ratings (with a session today, for the roster).

Courses to come go through the services (proposal, approval with space reservations, enrolment,
the draw), so they obey every rule. The finished class is written directly, since no service
schedules the past.
"""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from livingroom.booking.calendar import at
from livingroom.people import services as people_services
from livingroom.people.models import Resident, User
from livingroom.people.scopes import staff_scope
from livingroom.places.models import Center, Organization, Space
from livingroom.programs import services
from livingroom.programs.models import Attendance, Enrollment, Program, ProgramSession, Talent


def _next(day: dt.date, weekday: int) -> dt.date:
    """The first ``weekday`` (0 = Monday) on or after ``day``."""
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


def _space(center: Center, *kinds: str) -> Space:
    for kind in kinds:
        found = Space.objects.filter(center=center, kind=kind, closed_on__isnull=True).order_by("pk").first()
        if found is not None:
            return found
    space = Space.objects.filter(center=center, closed_on__isnull=True).exclude(
        kind__in=["office", "storage"]
    )
    return space.order_by("pk").first()  # type: ignore[return-value]


def _publish(actor: User, draft: services.ProgramDraft, approver: User, *, talent: bool = False) -> Program:
    scope = None if talent else staff_scope(actor)
    program = services.program_propose(actor=actor, scope=scope, draft=draft)
    approver_scope = staff_scope(approver)
    assert approver_scope is not None
    return services.program_approve(scope=approver_scope, staff=approver, program_id=program.pk)


def _talent(resident: Resident, approver: User, kind: str, skills: str, bio: str) -> Talent:
    talent = services.talent_apply(user=resident.user, kind=kind, skills=skills, bio=bio)
    scope = staff_scope(approver)
    assert scope is not None
    return services.talent_decide(scope=scope, staff=approver, talent_id=talent.pk, approve=True)


def load_programs(rng: random.Random) -> dict[str, int]:
    now = timezone.now()
    today = timezone.localdate()
    gushu_staff = User.objects.get(username="gushu")
    longzhu_staff = User.objects.get(username="longzhu")
    teacher = User.objects.get(username="shuhua")
    gushu = Center.objects.get(community__name="固戍社区")
    longzhu = Center.objects.get(community__name="龙珠社区")
    society = Organization.objects.get(name="（示例）龙珠书画公益社")
    everyone = list(Resident.objects.select_related("user").order_by("pk"))
    gushu_people = [r for r in everyone if r.home_community_id == gushu.community_id]
    mei = User.objects.get_by_phone("13800138000").resident

    # 龙珠: a painting class at 20% of the market price; the opening draw took place two days ago.
    opened = now - dt.timedelta(days=2)
    painting = _publish(
        teacher,
        services.ProgramDraft(
            center_id=longzhu.pk,
            organization_id=society.pk,
            title="国画入门：花鸟小品",
            category=Program.Category.ARTS,
            description="龙珠书画公益社的老师带你从握笔、调墨到完成一幅花鸟小品。每周六上午，共八次，材料费含在课时费内。",
            capacity=20,
            waitlist_size=10,
            market_price_fen=48000,
            price_fen=9600,
            enroll_opens_at=opened,
            fair_seconds=60,
            sessions=services.weekly_sessions(
                space_id=_space(longzhu, "activity", "meeting", "reading").pk,
                first_starts_at=at(_next(today + dt.timedelta(days=2), 5), dt.time(9, 30)),
                minutes=90,
                weeks=8,
            ),
        ),
        longzhu_staff,
    )
    crowd = [r for r in everyone if r.pk != mei.pk]
    for resident in rng.sample(crowd, k=min(26, len(crowd))):
        services.enrollment_create(
            user=resident.user, program_id=painting.pk, now=opened + dt.timedelta(seconds=20)
        )
    services.draw_run(program_id=painting.pk, now=opened + dt.timedelta(seconds=61))
    services.enrollment_create(user=mei.user, program_id=painting.pk, now=opened + dt.timedelta(hours=5))
    paid = Enrollment.objects.filter(program=painting, status="confirmed").order_by("pk")[:12]
    scope = staff_scope(longzhu_staff)
    assert scope is not None
    for enrollment in paid:
        services.payment_record(
            scope=scope, staff=longzhu_staff, enrollment_id=enrollment.pk, method="cash", amount_fen=9600
        )

    # 龙珠: calligraphy opens tomorrow at 09:00; the first 60 seconds are drawn by lot.
    _publish(
        teacher,
        services.ProgramDraft(
            center_id=longzhu.pk,
            organization_id=society.pk,
            title="书法提高班：楷书",
            category=Program.Category.CALLIGRAPHY,
            description="有一定基础的学员练习颜体楷书，每周日下午，共六次。",
            capacity=16,
            waitlist_size=8,
            market_price_fen=36000,
            price_fen=7200,
            enroll_opens_at=at(today + dt.timedelta(days=1), dt.time(9)),
            fair_seconds=60,
            sessions=services.weekly_sessions(
                space_id=_space(longzhu, "activity", "meeting", "reading").pk,
                first_starts_at=at(_next(today + dt.timedelta(days=4), 6), dt.time(14, 30)),
                minutes=90,
                weeks=6,
            ),
        ),
        longzhu_staff,
    )

    # 固戍: the youth night school (free, ages 18–35), Wednesday evenings in the youth room.
    youth_room = Space.objects.get(center=gushu, name="青年活动室")
    night = _publish(
        gushu_staff,
        services.ProgramDraft(
            center_id=gushu.pk,
            title="青年夜校：短视频拍摄与剪辑",
            category=Program.Category.NIGHT_SCHOOL,
            description="团区委青年夜校，手机拍摄、剪辑与直播入门，下班后来充电。",
            min_age=18,
            max_age=35,
            capacity=30,
            waitlist_size=15,
            market_price_fen=60000,
            price_fen=0,
            enroll_opens_at=now - dt.timedelta(days=1),
            fair_seconds=0,
            sessions=services.weekly_sessions(
                space_id=youth_room.pk,
                first_starts_at=at(_next(today + dt.timedelta(days=1), 2), dt.time(19)),
                minutes=90,
                weeks=6,
            ),
        ),
        gushu_staff,
    )
    young = [r for r in gushu_people if 18 <= r.age_on(today) <= 35 and r.pk != mei.pk]
    for resident in young[:12]:
        services.enrollment_create(user=resident.user, program_id=night.pk)

    # 固戍: resident talents; one teaches square dance, another's paper-cutting class waits for approval.
    others = [r for r in gushu_people if r.pk != mei.pk and r not in young[:12]]
    dancer = _talent(others[0], gushu_staff, Talent.Kind.ARTS, "广场舞、民族舞", "社区舞蹈队领队，带队十年。")
    cutter = _talent(others[1], gushu_staff, Talent.Kind.ARTS, "非遗剪纸", "宝安剪纸传承人的学生，擅长窗花。")
    _talent(
        others[2],
        gushu_staff,
        Talent.Kind.PROFESSIONAL,
        "理财规划",
        "银行理财经理，愿意讲讲防诈骗与家庭理财。",
    )
    services.talent_apply(
        user=others[3].user,
        kind=Talent.Kind.PROFESSIONAL,
        skills="育儿咨询",
        bio="儿科护士，可以讲婴幼儿护理。",
    )
    hall = Space.objects.get(center=gushu, name="多功能活动室")
    dance = _publish(
        dancer.resident.user,
        services.ProgramDraft(
            center_id=gushu.pk,
            title="广场舞基础班",
            category=Program.Category.FITNESS,
            description="零基础也能跟上，每周六早上一起跳。",
            capacity=25,
            waitlist_size=10,
            market_price_fen=20000,
            price_fen=0,
            enroll_opens_at=now - dt.timedelta(hours=3),
            fair_seconds=0,
            sessions=services.weekly_sessions(
                space_id=hall.pk,
                first_starts_at=at(_next(today + dt.timedelta(days=1), 5), dt.time(8, 30)),
                minutes=90,
                weeks=4,
            ),
        ),
        gushu_staff,
        talent=True,
    )
    for resident in others[4:10]:
        services.enrollment_create(user=resident.user, program_id=dance.pk)
    services.program_propose(
        actor=cutter.resident.user,
        scope=None,
        draft=services.ProgramDraft(
            center_id=gushu.pk,
            title="非遗剪纸体验课",
            category=Program.Category.HERITAGE,
            description="剪一对窗花带回家，适合亲子参加。",
            capacity=15,
            waitlist_size=5,
            market_price_fen=15000,
            price_fen=3000,
            enroll_opens_at=now + dt.timedelta(days=2),
            fair_seconds=60,
            sessions=services.weekly_sessions(
                space_id=hall.pk,
                first_starts_at=at(_next(today + dt.timedelta(days=7), 6), dt.time(15)),
                minutes=90,
                weeks=1,
            ),
        ),
    )

    # 固戍: a parent-and-child reading class for ages 3–6; 李晓梅 signs up her daughter.
    daughter = people_services.dependant_add(
        user=mei.user, name="李朵朵", birth_date=dt.date(today.year - 4, 6, 1), relation="child"
    )
    reading = _publish(
        gushu_staff,
        services.ProgramDraft(
            center_id=gushu.pk,
            title="亲子绘本共读",
            category=Program.Category.CHILDCARE,
            description="托育服务合作机构的老师带小朋友读绘本、做手工，家长陪同。",
            min_age=3,
            max_age=6,
            capacity=12,
            waitlist_size=6,
            market_price_fen=8000,
            price_fen=1600,
            enroll_opens_at=now - dt.timedelta(days=1),
            fair_seconds=0,
            sessions=services.weekly_sessions(
                space_id=Space.objects.get(center=gushu, name="阅读室").pk,
                first_starts_at=at(_next(today + dt.timedelta(days=1), 3), dt.time(16, 30)),
                minutes=60,
                weeks=4,
            ),
        ),
        gushu_staff,
    )
    services.enrollment_create(
        user=mei.user, program_id=reading.pk, include_self=False, dependant_ids=[daughter.pk]
    )

    finished = _smartphone_class(gushu, gushu_staff, gushu_people, rng, today)
    return {
        "programs": Program.objects.count(),
        "enrollments": Enrollment.objects.count(),
        "finished_sessions": finished,
    }


def _smartphone_class(
    center: Center, staff: User, people: list[Resident], rng: random.Random, today: dt.date
) -> int:
    """A smartphone class for the elderly: three weekly sessions held, the fourth today."""
    elders = [r for r in people if r.age_on(today) >= 60][:20] or people[:20]
    program = Program.objects.create(
        center=center,
        provider=Program.Provider.CENTER,
        title="长者智能手机课",
        category=Program.Category.ELDERLY,
        description="学会视频通话、扫码乘车、识别诈骗电话。",
        min_age=55,
        capacity=24,
        waitlist_size=6,
        seats_taken=len(elders),
        market_price_fen=20000,
        price_fen=0,
        enroll_opens_at=at(today - dt.timedelta(days=35), dt.time(9)),
        enroll_closes_at=at(today - dt.timedelta(days=21), dt.time(9)),
        fair_seconds=0,
        status=Program.Status.PUBLISHED,
        proposed_by=staff,
        decided_by=staff,
        decided_at=at(today - dt.timedelta(days=36), dt.time(10)),
        created_at=at(today - dt.timedelta(days=37), dt.time(10)),
    )
    room = Space.objects.get(center=center, name="长者服务站")
    sessions = [
        ProgramSession.objects.create(
            program=program,
            space=room,
            starts_at=at(today - dt.timedelta(weeks=w), dt.time(14)),
            ends_at=at(today - dt.timedelta(weeks=w), dt.time(15, 30)),
        )
        for w in (3, 2, 1, 0)
    ]
    enrollments = [
        Enrollment.objects.create(
            program=program,
            resident=r,
            party=f"demo{r.pk}",
            status=Enrollment.Status.CONFIRMED,
            requested_at=program.enroll_opens_at + dt.timedelta(minutes=i),
            confirmed_at=program.enroll_opens_at + dt.timedelta(minutes=i),
        )
        for i, r in enumerate(elders)
    ]
    for session in sessions[:3]:
        Attendance.objects.bulk_create(
            Attendance(
                session=session,
                enrollment=e,
                present=rng.random() < 0.85,
                via="staff",
                marked_by=staff,
                marked_at=session.starts_at,
            )
            for e in enrollments
        )
    for e in enrollments[:8]:
        Enrollment.objects.filter(pk=e.pk).update(
            rating=rng.choice([4, 5, 5, 5]), rated_at=sessions[2].ends_at, rating_comment="老师很耐心"
        )
    return 3
