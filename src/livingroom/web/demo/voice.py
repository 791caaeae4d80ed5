"""Demo residents' voice, after the source: the renovation began with questionnaires, forums and
home visits, and during the works opinions were answered one by one — a delivery rider asked for
a short rest spot and a medicine box, and got both.

* The working-day calendar of 2026 (the State Council's holiday schedule, with make-up days).
* A needs survey (anonymous, open to everyone) in each pilot community, held before the works,
  with a few hundred answers each; an open survey of 固戍 that 李晓梅 (13800138000) can answer,
  and an open district-wide survey for riders that 陈志强 (13800138001) can answer.
* 福中福: 陈志强's requests for a rest spot and a medicine box, resolved, rated and on the public
  board with before/after photos ("you said, we did"); a forum of riders with what they raised.
* 固戍: 李晓梅's requests in every state — one resolved and waiting for her rating, one in
  progress, one just received — and requests handed to a partner, overdue and escalated, with an
  extension waiting for 西乡街道, reopened, and followed up after a low rating.
* Every other pilot center: a dozen requests over the past three months answered at different
  speeds, so the rates page compares centers.

Requests go through the services with ``now=`` set in the past, so deadlines, events and the
rates obey the same rules as live ones. Survey answers to the old needs surveys are written in
bulk (no service answers a survey in the past), with the rules of the form respected.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import uuid

from django.utils import timezone
from PIL import Image, ImageDraw

from livingroom.booking.calendar import at as at_time
from livingroom.people.models import Resident, User
from livingroom.people.scopes import staff_scope
from livingroom.places.models import CalendarDay, Center, Organization
from livingroom.voice import services
from livingroom.voice.models import Answer, Response, Suggestion, Survey

# The 2026 holiday schedule (国务院办公厅关于2026年部分节假日安排的通知): days off and make-up working days.
HOLIDAYS_2026 = [
    ("元旦", dt.date(2026, 1, 1), dt.date(2026, 1, 3), [dt.date(2026, 1, 4)]),
    ("春节", dt.date(2026, 2, 15), dt.date(2026, 2, 23), [dt.date(2026, 2, 14), dt.date(2026, 2, 28)]),
    ("清明节", dt.date(2026, 4, 4), dt.date(2026, 4, 6), []),
    ("劳动节", dt.date(2026, 5, 1), dt.date(2026, 5, 5), [dt.date(2026, 5, 9)]),
    ("端午节", dt.date(2026, 6, 19), dt.date(2026, 6, 21), []),
    ("中秋节", dt.date(2026, 9, 25), dt.date(2026, 9, 27), []),
    ("国庆节", dt.date(2026, 10, 1), dt.date(2026, 10, 7), [dt.date(2026, 9, 20), dt.date(2026, 10, 10)]),
]

NEEDS_QUESTIONS = [
    services.QuestionDraft(
        kind="single",
        text="您多久来一次社区党群服务中心？",
        required=True,
        choices=["每天", "每周", "每月", "很少或从未"],
    ),
    services.QuestionDraft(
        kind="multiple",
        text="您希望客厅增加哪些空间或服务？（可多选）",
        required=True,
        choices=[
            "自习室",
            "舞蹈排练室",
            "长者助餐",
            "康复服务",
            "就业服务",
            "骑手驿站",
            "儿童托管",
            "书画课程",
        ],
    ),
    services.QuestionDraft(
        kind="single", text="您最方便的开放时间", choices=["工作日白天", "工作日晚上", "周末", "都可以"]
    ),
    services.QuestionDraft(
        kind="single", text="您是快递员、外卖骑手或园区职工吗？", choices=["是", "不是"], required=True
    ),
    services.QuestionDraft(
        kind="multiple",
        text="您在工作途中最需要什么？",
        choices=["歇脚休息", "饮水", "手机充电", "卫生间", "应急药箱", "热饭"],
        show_if_position=4,
        show_if_choice="a",
    ),
    services.QuestionDraft(kind="rating", text="您对目前中心服务的满意度（1–5）", required=True, scale_max=5),
    services.QuestionDraft(kind="long_text", text="您还有什么意见和建议？"),
]

TEXTS = [
    "希望晚上开放到十点，下班后可以来自习。",
    "办事大厅太大了，能不能腾出地方给老人活动。",
    "希望有舞蹈室，广场舞下雨天没地方跳。",
    "孩子放学后没人照看，希望有四点半课堂。",
    "骑手中午没有地方歇脚，希望能坐一会儿、喝口水。",
    "希望增加书法和国画课程，价格实惠一点。",
    "门口台阶太高，轮椅进出不方便。",
    "希望有免费的血压测量和健康讲座。",
    "能否提供打印复印服务。",
    "希望多组织邻里活动，认识一下邻居。",
]

BACKGROUND_REQUESTS = [
    ("suggestion", "facilities", "希望在阅览区增加几个充电插座。"),
    ("help", "services", "老人不会用手机预约，希望前台可以代为预约。"),
    ("complaint", "environment", "晚上活动室音乐声音太大，影响楼上居民休息。"),
    ("consultation", "activities", "请问书法课什么时候开始报名？"),
    ("report", "facilities", "二楼卫生间水龙头漏水。"),
    ("suggestion", "activities", "希望周末增加亲子活动。"),
    ("complaint", "staff", "周六下午前台没有人值班，等了很久。"),
    ("help", "services", "想了解如何申请长者助餐补贴。"),
    ("report", "environment", "门口共享单车乱停，挡住了无障碍通道。"),
    ("suggestion", "services", "希望自习室可以提前一天预约。"),
    ("consultation", "services", "就业服务站周几有招聘会？"),
    ("suggestion", "facilities", "舞蹈室希望装一面镜子。"),
]


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return at_time(day, dt.time(hour, minute))


def _photo(kind: str) -> bytes:
    """A plain drawing of a corner of the hall: empty before, with seats, water and a box after."""
    image = Image.new("RGB", (640, 420), (236, 233, 226))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 300, 640, 420), fill=(200, 190, 175))
    draw.rectangle((40, 60, 600, 300), outline=(170, 160, 150), width=4)
    if kind == "after":
        for x in (80, 200, 320):
            draw.rectangle((x, 220, x + 90, 260), fill=(7, 193, 96))
            draw.rectangle((x + 5, 260, x + 15, 300), fill=(90, 90, 90))
            draw.rectangle((x + 75, 260, x + 85, 300), fill=(90, 90, 90))
        draw.rectangle((460, 150, 540, 300), fill=(80, 150, 220))
        draw.rectangle((470, 90, 530, 140), fill=(230, 70, 60))
        draw.rectangle((494, 100, 506, 130), fill=(255, 255, 255))
        draw.rectangle((485, 109, 515, 121), fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _calendar() -> int:
    rows = []
    for name, first, last, workdays in HOLIDAYS_2026:
        day = first
        while day <= last:
            rows.append(CalendarDay(date=day, kind=CalendarDay.Kind.HOLIDAY, name=name))
            day += dt.timedelta(days=1)
        rows.extend(CalendarDay(date=d, kind=CalendarDay.Kind.WORKDAY, name=f"{name}调休") for d in workdays)
    CalendarDay.objects.bulk_create(rows)
    return len(rows)


def _needs_answers(survey: Survey, rng: random.Random, count: int, opened: dt.date) -> None:
    """``count`` anonymous answers of visitors, spread over the two weeks the survey was open."""
    questions = {q.position: q for q in survey.questions.all()}
    responses, answers = [], []
    for _i in range(count):
        response = Response(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            survey=survey,
            visitor_hash=f"{rng.getrandbits(256):064x}",
            given_on=opened + dt.timedelta(days=rng.randint(0, 13)),
        )
        responses.append(response)
        q1 = rng.choices(["a", "b", "c", "d"], weights=[2, 4, 3, 2])[0]
        answers.append(Answer(response=response, question=questions[1], choice=q1))
        wanted = rng.sample(["a", "b", "c", "d", "e", "f", "g", "h"], k=rng.randint(1, 3))
        if rng.random() < 0.35 and "a" not in wanted:
            wanted.append("a")
        answers.extend(Answer(response=response, question=questions[2], choice=k) for k in wanted)
        if rng.random() < 0.8:
            answers.append(Answer(response=response, question=questions[3], choice=rng.choice("abcd")))
        worker = rng.random() < 0.22
        answers.append(Answer(response=response, question=questions[4], choice="a" if worker else "b"))
        if worker:
            needs = rng.sample(["a", "b", "c", "d", "e", "f"], k=rng.randint(1, 3))
            answers.extend(Answer(response=response, question=questions[5], choice=k) for k in needs)
        answers.append(
            Answer(
                response=response,
                question=questions[6],
                number=rng.choices([1, 2, 3, 4, 5], [1, 3, 6, 5, 3])[0],
            )
        )
        if rng.random() < 0.3:
            answers.append(Answer(response=response, question=questions[7], text=rng.choice(TEXTS)))
    Response.objects.bulk_create(responses, batch_size=500)
    Answer.objects.bulk_create(answers, batch_size=2000)
    Survey.objects.filter(pk=survey.pk).update(responses_count=count)


def _surveys(rng: random.Random, district: User) -> dict[str, int]:
    scope = staff_scope(district)
    assert scope is not None
    now = timezone.now()
    opened = timezone.localdate() - dt.timedelta(days=75)
    answers = 0
    pilots = Center.objects.filter(is_pilot=True).select_related("community").order_by("community__code")
    for center in pilots:
        survey = services.survey_create(
            staff=district,
            scope=scope,
            draft=services.SurveyDraft(
                title=f"{center.community.name}百姓客厅改造需求调查",
                description="为把党群服务中心改造成群众爱来的“百姓客厅”，请告诉我们您的需求。匿名填写，约2分钟。",
                area=Survey.Area.COMMUNITY,
                community_id=center.community_id,
                anonymous=True,
                questions=NEEDS_QUESTIONS,
            ),
            now=now - dt.timedelta(days=76),
        )
        Survey.objects.filter(pk=survey.pk).update(
            status=Survey.Status.CLOSED,
            published_at=at(opened, 9),
            closed_at=at(opened + dt.timedelta(days=14), 18),
        )
        count = rng.randint(180, 320)
        _needs_answers(survey, rng, count, opened)
        answers += count
    gushu = User.objects.get(username="gushu")
    gs_scope = staff_scope(gushu)
    assert gs_scope is not None
    evening = services.survey_create(
        staff=gushu,
        scope=gs_scope,
        draft=services.SurveyDraft(
            title="固戍客厅夜间开放时间征求意见",
            description="自习室和舞蹈室准备延长开放时间，请选择您方便的时段。",
            area=Survey.Area.COMMUNITY,
            community_id=Center.objects.get(community__name="固戍社区").community_id,
            questions=[
                services.QuestionDraft(
                    kind="single",
                    text="您希望自习室晚上开到几点？",
                    required=True,
                    choices=["21:00", "22:00", "23:00"],
                ),
                services.QuestionDraft(
                    kind="multiple",
                    text="您晚上会使用哪些空间？",
                    choices=["自习室", "舞蹈排练室", "阅览区", "健身角"],
                ),
                services.QuestionDraft(kind="short_text", text="其他建议"),
            ],
            closes_at=now + dt.timedelta(days=14),
        ),
        now=now - dt.timedelta(days=2),
    )
    services.survey_publish(staff=gushu, scope=gs_scope, survey_id=evening.pk, now=now - dt.timedelta(days=2))
    riders = services.survey_create(
        staff=district,
        scope=scope,
        draft=services.SurveyDraft(
            title="新就业群体暖心驿站使用情况调查",
            description="请快递员、外卖骑手告诉我们驿站哪里好、哪里还要改。",
            area=Survey.Area.DISTRICT,
            audience="riders",
            questions=[
                services.QuestionDraft(
                    kind="multiple",
                    text="您用过驿站的哪些服务？",
                    required=True,
                    choices=["歇脚休息", "饮水", "手机充电", "应急药箱", "10元套餐"],
                ),
                services.QuestionDraft(
                    kind="rating", text="驿站对您有多大帮助？", required=True, scale_max=5
                ),
                services.QuestionDraft(kind="long_text", text="还希望增加什么？"),
            ],
            closes_at=now + dt.timedelta(days=30),
        ),
        now=now - dt.timedelta(days=1),
    )
    services.survey_publish(staff=district, scope=scope, survey_id=riders.pk, now=now - dt.timedelta(days=1))
    return {"surveys": pilots.count() + 2, "answers": answers}


def _flow(
    suggestion: Suggestion,
    staff: User,
    *,
    received: dt.datetime,
    respond_hours: float | None,
    resolve_days: float | None,
    rating: int | None = None,
    reply: str = "已安排工作人员处理，感谢您的意见。",
) -> Suggestion:
    scope = staff_scope(staff)
    assert scope is not None
    if respond_hours is not None:
        services.suggestion_respond(
            staff=staff,
            scope=scope,
            suggestion_id=suggestion.pk,
            message="您好，已收到您的意见，我们正在核实。",
            now=received + dt.timedelta(hours=respond_hours),
        )
    if resolve_days is not None:
        services.suggestion_resolve(
            staff=staff,
            scope=scope,
            suggestion_id=suggestion.pk,
            reply=reply,
            now=received + dt.timedelta(days=resolve_days),
        )
        if rating is not None and suggestion.resident_id:
            resident = Resident.objects.select_related("user").get(pk=suggestion.resident_id)
            services.suggestion_rate(
                user=resident.user,
                suggestion_id=suggestion.pk,
                rating=rating,
                now=received + dt.timedelta(days=resolve_days + 1),
            )
    suggestion.refresh_from_db()
    return suggestion


def _submit(
    resident: Resident,
    center: Center,
    kind: str,
    category: str,
    text: str,
    when: dt.datetime,
    photos: list[bytes] | None = None,
) -> Suggestion:
    return services.suggestion_submit(
        user=resident.user,
        draft=services.SuggestionDraft(
            center_id=center.pk, kind=kind, category=category, text=text, photos=photos or []
        ),
        now=when,
    )


def _riders_story(now: dt.datetime) -> None:
    """福中福: the rider's rest spot and medicine box, carried out and on the board."""
    center = Center.objects.select_related("community").get(community__name="福中福社区")
    staff = User.objects.get(username="fuzhongfu")
    scope = staff_scope(staff)
    assert scope is not None
    chen = User.objects.get_by_phone("13800138001").resident
    forum_day = timezone.localdate(now) - dt.timedelta(days=60)
    services.engagement_record(
        staff=staff,
        scope=scope,
        center_id=center.pk,
        kind="forum",
        held_on=forum_day,
        place="福中福社区党群服务中心一楼",
        participants=18,
        topics="新就业群体座谈会：骑手、快递员在社区的难处",
        notes="骑手反映午间无处歇脚、手机没电、受了小伤没有药；希望饭堂午餐更实惠。",
        raised=[
            services.RaisedPoint(
                kind="suggestion", category="services", text="希望饭堂有10元左右能吃饱的骑手套餐。"
            ),
            services.RaisedPoint(
                kind="suggestion", category="facilities", text="希望在门口设电动车临时停放点。"
            ),
        ],
        now=at(forum_day, 17),
    )
    received = at(forum_day + dt.timedelta(days=1), 12, 20)
    rest = _submit(
        chen,
        center,
        "suggestion",
        "facilities",
        "送餐间隙想找个地方歇一歇、喝口水、给手机充个电，能不能在客厅一楼留一个骑手歇脚的角落？",
        received,
    )
    box = _submit(
        chen,
        center,
        "help",
        "services",
        "跑单时偶尔擦伤，希望歇脚点放一个应急药箱，有创可贴和碘伏就好。",
        received + dt.timedelta(minutes=5),
    )
    _flow(
        rest,
        staff,
        received=received,
        respond_hours=3,
        resolve_days=12,
        rating=5,
        reply="一楼东侧已设“骑手驿站”：6个座位、饮水机和充电柜，每天8:00–22:00开放，欢迎歇脚。",
    )
    _flow(
        box,
        staff,
        received=received,
        respond_hours=3,
        resolve_days=6,
        rating=5,
        reply="驿站已配应急药箱（创可贴、碘伏、纱布、藿香正气水），由前台每周检查补充。",
    )
    for item, summary, done in (
        (rest, "骑手希望在客厅里有个歇脚、喝水、充电的地方。", "一楼东侧设骑手驿站：座位、饮水机、充电柜。"),
        (box, "骑手希望歇脚点配一个应急药箱。", "驿站配应急药箱，前台每周检查补充。"),
    ):
        for kind in ("before", "after"):
            services.photo_add(
                staff=staff,
                scope=scope,
                suggestion_id=item.pk,
                kind=kind,
                data=_photo(kind),
                now=now - dt.timedelta(days=40),
            )
        services.suggestion_publish(
            staff=staff,
            scope=scope,
            suggestion_id=item.pk,
            public=True,
            summary=summary,
            done_note=done,
            now=now - dt.timedelta(days=40),
        )


def _gushu_story(now: dt.datetime) -> None:
    """固戍: 李晓梅's requests in every state, and the harder cases of the workflow."""
    center = Center.objects.select_related("community").get(community__name="固戍社区")
    staff = User.objects.get(username="gushu")
    scope = staff_scope(staff)
    assert scope is not None
    li = User.objects.get_by_phone("13800138000").resident
    neighbours = list(
        Resident.objects.filter(home_community=center.community).exclude(pk=li.pk).order_by("pk")[:6]
    )
    today = timezone.localdate(now)

    # Resolved and waiting for her rating.
    done = _submit(
        li,
        center,
        "suggestion",
        "facilities",
        "自习室的台灯有两盏不亮了，晚上看书很暗。",
        at(today - dt.timedelta(days=4), 20, 10),
    )
    _flow(
        done,
        staff,
        received=done.received_at,
        respond_hours=14,
        resolve_days=2,
        reply="已更换自习室全部台灯灯管，并请保洁每周巡查。",
    )
    # In progress.
    going = _submit(
        li,
        center,
        "suggestion",
        "activities",
        "希望周末增加亲子阅读活动，孩子们很喜欢绘本角。",
        at(today - dt.timedelta(days=2), 10),
    )
    _flow(going, staff, received=going.received_at, respond_hours=5, resolve_days=None)
    # Just received.
    _submit(
        li,
        center,
        "consultation",
        "services",
        "请问舞蹈排练室晚上可以预约到几点？",
        now - dt.timedelta(hours=3),
    )

    if len(neighbours) < 5:
        return
    # Handed to a partner organisation working at the center.
    partner = Organization.objects.create(
        name="（示例）固戍物业服务中心",
        kind=Organization.Kind.COMPANY,
        description="中心大楼的物业与设备维护",
    )
    partner.centers.add(center)
    handed = _submit(
        neighbours[0],
        center,
        "report",
        "facilities",
        "儿童托管室的空调遥控器不见了，空调一直开着。",
        at(today - dt.timedelta(days=3), 15),
    )
    services.suggestion_assign(
        staff=staff,
        scope=scope,
        suggestion_id=handed.pk,
        organization_id=partner.pk,
        note="请物业协助",
        now=handed.received_at + dt.timedelta(hours=1),
    )
    # Overdue and escalated; an extension waiting for 西乡街道.
    late = _submit(
        neighbours[1],
        center,
        "complaint",
        "environment",
        "门口的垃圾桶满了没人清，夏天味道很大。",
        at(today - dt.timedelta(days=21), 9),
    )
    _flow(late, staff, received=late.received_at, respond_hours=30, resolve_days=None)
    services.voice_tick(now=now)
    services.extension_request(
        staff=staff,
        scope=scope,
        suggestion_id=late.pk,
        days=5,
        reason="需要街道环卫所调整清运班次",
        now=now - dt.timedelta(hours=2),
    )
    # Reopened once, then resolved again and rated.
    again = _submit(
        neighbours[2],
        center,
        "report",
        "facilities",
        "无障碍通道的坡道扶手松动了。",
        at(today - dt.timedelta(days=30), 11),
    )
    _flow(again, staff, received=again.received_at, respond_hours=2, resolve_days=2, reply="已紧固扶手螺丝。")
    services.suggestion_reopen(
        user=neighbours[2].user,
        suggestion_id=again.pk,
        reason="扶手还是晃，另一侧也松了。",
        now=again.received_at + dt.timedelta(days=3),
    )
    services.suggestion_resolve(
        staff=staff,
        scope=scope,
        suggestion_id=again.pk,
        reply="已请施工队更换两侧扶手底座，并做了承重测试。",
        now=again.received_at + dt.timedelta(days=8),
    )
    services.suggestion_rate(
        user=neighbours[2].user,
        suggestion_id=again.pk,
        rating=4,
        now=again.received_at + dt.timedelta(days=9),
    )
    # A low rating opened a follow-up that is still running.
    low = _submit(
        neighbours[3],
        center,
        "complaint",
        "staff",
        "周六下午前台没人，等了四十分钟。",
        at(today - dt.timedelta(days=12), 16),
    )
    _flow(
        low,
        staff,
        received=low.received_at,
        respond_hours=20,
        resolve_days=3,
        rating=2,
        reply="已提醒值班人员，周末安排两人轮班。",
    )
    # A home visit whose points became requests.
    services.engagement_record(
        staff=staff,
        scope=scope,
        center_id=center.pk,
        kind="visit",
        held_on=today - dt.timedelta(days=9),
        place="固戍二村",
        participants=6,
        topics="走访独居长者：助餐和上门服务",
        notes="三位老人腿脚不便，希望有送餐或上门理发。",
        raised=[services.RaisedPoint(kind="help", category="services", text="独居老人希望助餐可以送上门。")],
        now=at(today - dt.timedelta(days=9), 17),
    )


def _background(rng: random.Random, now: dt.datetime) -> int:
    """A dozen requests in each other pilot center over three months, answered at different speeds."""
    district = User.objects.get(username="district")
    count = 0
    pilots = (
        Center.objects.filter(is_pilot=True)
        .exclude(community__name__in=["固戍社区", "福中福社区"])
        .select_related("community")
        .order_by("community__code")
    )
    for index, center in enumerate(pilots):
        people = list(Resident.objects.filter(home_community=center.community).select_related("user")[:8])
        if not people:
            continue
        speed = [0.5, 1.0, 1.5, 2.5][index % 4]  # some centers answer fast, some slowly
        for _n in range(rng.randint(8, 14)):
            kind, category, text = rng.choice(BACKGROUND_REQUESTS)
            received = now - dt.timedelta(days=rng.randint(5, 90), hours=rng.randint(0, 10))
            suggestion = _submit(rng.choice(people), center, kind, category, text, received)
            outcome = rng.random()
            respond = rng.uniform(2, 40) * speed
            if outcome < 0.1:
                _flow(suggestion, district, received=received, respond_hours=None, resolve_days=None)
            elif outcome < 0.25:
                _flow(suggestion, district, received=received, respond_hours=respond, resolve_days=None)
            else:
                resolve = min(rng.uniform(1, 12) * speed, (now - received).days - 1.5)
                rating = rng.choices([5, 4, 3, 2, 1, None], [5, 4, 2, 1, 1, 2])[0]
                if resolve <= respond / 24:
                    resolve = respond / 24 + 0.5
                if received + dt.timedelta(days=resolve + 1) >= now:
                    rating = None
                _flow(
                    suggestion,
                    district,
                    received=received,
                    respond_hours=respond,
                    resolve_days=resolve,
                    rating=rating,
                )
            count += 1
    return count


def load_voice(rng: random.Random) -> dict[str, int]:
    now = timezone.now()
    days = _calendar()
    district = User.objects.get(username="district")
    numbers = _surveys(rng, district)
    _riders_story(now)
    _gushu_story(now)
    background = _background(rng, now)
    services.voice_tick(now=now)
    return {
        "calendar_days": days,
        **numbers,
        "suggestions": Suggestion.objects.count(),
        "background": background,
    }
