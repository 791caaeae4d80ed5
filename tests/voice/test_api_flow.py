"""The whole story of residents' voice through /api/v1, told with exact values.

A desk worker of 固戍 builds a needs survey, publishes it; residents answer it (one is a rider,
one answers anonymously as a visitor in a second, anonymous survey); the live results count
every choice and the Excel export has one row per response. A resident submits a request with
photos and follows it by its tracking number; staff hand it to a partner, who answers, asks for
more days (the sub-district approves), resolves; the resident reopens it, it is resolved again
and rated; staff put it on the board with before/after photos, where anyone reads the public
view without the resident's words. A forum's raised points become tracked requests in one step,
and the rates of the center come out exactly.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import load_workbook

from livingroom.core.models import AuditEvent
from livingroom.places.workdays import WorkCalendar
from livingroom.voice import services
from livingroom.voice.models import (
    Answer,
    Engagement,
    Extension,
    Participation,
    Photo,
    Response,
    Suggestion,
    SuggestionEvent,
    Survey,
)
from tests import factories as f
from tests.conftest import Api, resident_api, staff_api
from tests.voice.conftest import at, jpeg_bytes

pytestmark = pytest.mark.django_db

SURVEY_BODY = {
    "title": "百姓客厅需求调查",
    "description": "请花两分钟告诉我们您的需要。",
    "area": "community",
    "audience": "everyone",
    "questions": [
        {
            "kind": "single",
            "text": "您多久来一次客厅？",
            "required": True,
            "choices": ["每天", "每周", "很少"],
        },
        {"kind": "multiple", "text": "您希望增加哪些服务？", "choices": ["自习室", "舞蹈室", "助餐", "康复"]},
        {"kind": "rating", "text": "您对客厅的满意度", "required": True, "scale_max": 5},
        {"kind": "short_text", "text": "每周来做什么？", "show_if_position": 1, "show_if_choice": "b"},
        {"kind": "long_text", "text": "其他建议"},
    ],
}
PUBLIC_KEYS = {
    "tracking_no",
    "kind",
    "category",
    "center_id",
    "center",
    "summary",
    "status",
    "received_at",
    "resolved_at",
    "reply",
    "done",
    "photos",
}


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def multipart(client: Api, path: str, data: dict):
    """A multipart POST to /api/v1 with the client's bearer token."""
    headers = {"Authorization": f"Bearer {client.token}"} if client.token else {}
    return client.client.post("/api/v1" + path, data=data, headers=headers)


def ok(response, status: int = 200) -> dict | list:
    assert response.status_code == status, response.content[:500]
    return response.json()


# --- surveys ---------------------------------------------------------------------------------------


def test_a_survey_from_draft_to_results_and_excel(voice_world, place):
    desk = staff_api(voice_world["desk"])
    community = place["communities"][0]
    made = ok(desk.post("/staff/voice/surveys", {**SURVEY_BODY, "community_id": community.pk}), 201)
    survey_id = made["id"]
    assert (made["status"], made["area"], made["area_name"], made["responses"], made["link"]) == (
        "draft",
        "community",
        community.name,
        0,
        f"/surveys/{survey_id}/",
    )
    first, second, rider = (resident_api(r.user) for r in voice_world["residents"])
    # A draft is nobody's to answer.
    assert first.get(f"/surveys/{survey_id}").json()["code"] == "survey_not_found"

    published = ok(desk.post(f"/staff/voice/surveys/{survey_id}/publish"))
    assert published["status"] == "published"
    shown = ok(first.get(f"/surveys/{survey_id}"))
    assert (shown["title"], shown["status"], shown["answered"], shown["open_to_visitors"]) == (
        "百姓客厅需求调查",
        "published",
        False,
        False,
    )
    questions = shown["questions"]
    assert [q["position"] for q in questions] == [1, 2, 3, 4, 5]
    assert questions[0]["choices"] == [
        {"key": "a", "label": "每天"},
        {"key": "b", "label": "每周"},
        {"key": "c", "label": "很少"},
    ]
    assert [c["key"] for c in questions[1]["choices"]] == ["a", "b", "c", "d"]
    assert (questions[3]["show_if_position"], questions[3]["show_if_choice"]) == (1, "b")
    q1, q2, q3, q4, q5 = (str(q["id"]) for q in questions)

    answers = [
        (first, {q1: "b", q2: ["a", "c"], q3: 4, q4: "下午来看书", q5: "希望周末也开放"}),
        # q4 is not shown after "每天": an answer sent anyway is not kept.
        (second, {q1: "a", q2: ["a"], q3: 5, q4: "不该保存", q5: ""}),
        (rider, {q1: "b", q3: 2, q4: "送餐间隙歇脚"}),
    ]
    for client, values in answers:
        body = ok(client.post(f"/surveys/{survey_id}/responses", {"answers": values}), 201)
        assert body == {"survey_id": survey_id, "given_on": str(timezone.localdate()), "anonymous": False}
    assert ok(first.get(f"/surveys/{survey_id}"))["answered"] is True
    assert ok(first.get(f"/surveys/{survey_id}"))["responses"] == 3
    survey = Survey.objects.get(pk=survey_id)
    assert survey.responses_count == 3
    assert Participation.objects.filter(survey=survey).count() == 3
    assert set(Response.objects.filter(survey=survey).values_list("respondent", flat=True)) == {
        r.user.pk for r in voice_world["residents"]
    }
    assert not Answer.objects.filter(text="不该保存").exists()

    results = ok(desk.get(f"/staff/voice/surveys/{survey_id}/results"))
    assert results["survey"]["responses"] == 3
    by_position = {r["position"]: r for r in results["questions"]}
    assert by_position[1]["answered"] == 3
    assert [(c["key"], c["count"], c["percent"]) for c in by_position[1]["choices"]] == [
        ("a", 1, 33.3),
        ("b", 2, 66.7),
        ("c", 0, 0.0),
    ]
    assert by_position[2]["answered"] == 2
    assert [(c["label"], c["count"], c["percent"]) for c in by_position[2]["choices"]] == [
        ("自习室", 2, 100.0),
        ("舞蹈室", 0, 0.0),
        ("助餐", 1, 50.0),
        ("康复", 0, 0.0),
    ]
    assert by_position[3]["answered"] == 3
    assert [(c["key"], c["count"]) for c in by_position[3]["scale"]] == [
        ("1", 0),
        ("2", 1),
        ("3", 0),
        ("4", 1),
        ("5", 1),
    ]
    assert by_position[3]["average"] == round((2 + 4 + 5) / 3, 2) == 3.67
    assert by_position[4]["answered"] == 2
    assert sorted(by_position[4]["texts"]) == sorted(["下午来看书", "送餐间隙歇脚"])
    assert by_position[5]["texts"] == ["希望周末也开放"]

    export = desk.get(f"/staff/voice/surveys/{survey_id}/export.xlsx")
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f"survey-{survey_id}.xlsx" in export["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "#",
        "given_on",
        "1. 您多久来一次客厅？",
        "2. 您希望增加哪些服务？",
        "3. 您对客厅的满意度",
        "4. 每周来做什么？",
        "5. 其他建议",
    )
    assert len(rows) == 1 + 3
    assert sorted(row[0] for row in rows[1:]) == [1, 2, 3]
    today = f"{timezone.localdate():%Y-%m-%d}"
    assert {row[1:] for row in rows[1:]} == {
        (today, "每周", "自习室; 助餐", "4", "下午来看书", "希望周末也开放"),
        (today, "每天", "自习室", "5", None, None),
        (today, "每周", None, "2", "送餐间隙歇脚", None),
    }

    closed = ok(desk.post(f"/staff/voice/surveys/{survey_id}/close"))
    assert closed["status"] == "closed"
    listed = ok(desk.get("/staff/voice/surveys"))
    assert [(s["id"], s["status"], s["responses"]) for s in listed] == [(survey_id, "closed", 3)]


def test_an_anonymous_survey_keeps_no_link_to_anyone(voice_world, place, api):
    desk = staff_api(voice_world["desk"])
    body = {
        **SURVEY_BODY,
        "title": "匿名满意度调查",
        "anonymous": True,
        "community_id": place["communities"][0].pk,
        "questions": [{"kind": "rating", "text": "满意度", "required": True, "scale_max": 5}],
    }
    survey_id = ok(desk.post("/staff/voice/surveys", body), 201)["id"]
    ok(desk.post(f"/staff/voice/surveys/{survey_id}/publish"))
    shown = ok(api.get(f"/surveys/{survey_id}"))
    assert (shown["anonymous"], shown["open_to_visitors"], shown["answered"]) == (True, True, False)
    q = str(shown["questions"][0]["id"])

    visitor = ok(
        api.post(f"/surveys/{survey_id}/responses", {"answers": {q: 3}, "visitor_token": "v" * 32}), 201
    )
    assert visitor["anonymous"] is True
    resident = voice_world["residents"][0]
    me = resident_api(resident.user)
    mine = ok(me.post(f"/surveys/{survey_id}/responses", {"answers": {q: 5}}), 201)
    assert mine["anonymous"] is True
    assert ok(me.get(f"/surveys/{survey_id}"))["answered"] is True

    rows = list(Response.objects.filter(survey_id=survey_id).values("respondent", "visitor_hash"))
    assert sorted(r["respondent"] is None for r in rows) == [True, True]
    assert sorted(r["visitor_hash"] is None for r in rows) == [False, True]
    # That the resident answered is kept (once per person), what they answered is not linked.
    assert list(Participation.objects.filter(survey_id=survey_id).values_list("user", flat=True)) == [
        resident.user.pk
    ]
    answered = AuditEvent.objects.filter(action="voice.survey.answered")
    assert answered.count() == 2
    for event in answered:
        assert str(event.object_id) == str(survey_id)
        for response in Response.objects.filter(survey_id=survey_id):
            assert str(response.pk) not in str(event.data)
    results = ok(desk.get(f"/staff/voice/surveys/{survey_id}/results"))
    assert [(c["key"], c["count"]) for c in results["questions"][0]["scale"]] == [
        ("1", 0),
        ("2", 0),
        ("3", 1),
        ("4", 0),
        ("5", 1),
    ]
    assert results["questions"][0]["average"] == 4.0


# --- suggestions ----------------------------------------------------------------------------------


def test_a_request_from_submission_to_the_public_board(voice_world, api):
    center = voice_world["center"]
    resident = voice_world["residents"][0]
    me = resident_api(resident.user)
    neighbour = resident_api(voice_world["outsider"].user)
    desk = staff_api(voice_world["desk"])
    partner = staff_api(voice_world["partner"])
    street = staff_api(voice_world["roles"]["street"])
    org = voice_world["org"]

    submitted = multipart(
        me,
        "/suggestions",
        {
            "center_id": center.pk,
            "kind": "suggestion",
            "category": "facilities",
            "text": "  希望在二楼增设一个药箱，\n 方便外卖骑手应急。 ",
            "photos": [
                upload(jpeg_bytes(800, 600)),
                upload(jpeg_bytes(40, 30, fmt="PNG"), "p.png", "image/png"),
            ],
        },
    )
    body = ok(submitted, 201)
    tracking_no = body["tracking_no"]
    assert tracking_no.startswith(f"JY{timezone.localdate():%Y%m%d}") and len(tracking_no) == 15
    assert (body["status"], body["kind"], body["category"], body["channel"], body["center_id"]) == (
        "received",
        "suggestion",
        "facilities",
        "online",
        center.pk,
    )
    assert body["text"] == "希望在二楼增设一个药箱，\n方便外卖骑手应急。"
    assert (body["owner"], body["center"]) == (center.name, center.name)
    assert [(p["kind"], p["width"], p["height"]) for p in body["photos"]] == [
        ("report", 800, 600),
        ("report", 40, 30),
    ]
    suggestion = Suggestion.objects.get(tracking_no=tracking_no)
    assert body["id"] == suggestion.pk
    assert suggestion.resident == resident
    calendar = WorkCalendar()
    assert suggestion.respond_by == calendar.deadline(suggestion.received_at, 2)
    assert suggestion.resolve_by == calendar.deadline(suggestion.received_at, 15)
    assert [p["url"] for p in body["photos"]] == [
        f"/voice/photos/{p.pk}.jpg" for p in suggestion.photos.all()
    ]
    assert all(p.content[:3] == b"\xff\xd8\xff" for p in Photo.objects.filter(suggestion=suggestion))

    mine = ok(me.get("/me/suggestions"))
    assert [(s["tracking_no"], s["status"], len(s["photos"])) for s in mine] == [(tracking_no, "received", 2)]
    assert ok(neighbour.get("/me/suggestions")) == []
    # The owner sees it all (the number is read case-blind); nobody else sees it before it is public.
    full = ok(me.get(f"/suggestions/{tracking_no.lower()}"))
    assert (full["text"], full["can_rate"], full["can_reopen"]) == (body["text"], False, False)
    for other in (neighbour, api, desk):
        refused = other.get(f"/suggestions/{tracking_no}")
        assert (refused.status_code, refused.json()["code"]) == (404, "suggestion_not_found")

    # Staff: the desk sees it in the queue; the partner does not until it is handed to them.
    assert [row["tracking_no"] for row in ok(desk.get("/staff/voice/suggestions", status="open"))] == [
        tracking_no
    ]
    assert ok(partner.get("/staff/voice/suggestions")) == []
    path = f"/staff/voice/suggestions/{suggestion.pk}"
    assert partner.get(path).status_code == 404
    detail = ok(desk.get(path))
    assert detail["resident"] == "张*"
    assert [e["kind"] for e in detail["events"]] == ["received"]

    assigned = ok(desk.post(f"{path}/assign", {"organization_id": org.pk, "note": "请物业跟进"}))
    assert (assigned["status"], assigned["owner"], assigned["owner_organization_id"]) == (
        "assigned",
        org.name,
        org.pk,
    )
    handover = assigned["events"][-1]
    assert (handover["kind"], handover["from_owner"], handover["to_owner"], handover["note"]) == (
        "assigned",
        center.name,
        org.name,
        "请物业跟进",
    )
    assert [row["tracking_no"] for row in ok(partner.get("/staff/voice/suggestions"))] == [tracking_no]

    responded = ok(partner.post(f"{path}/respond", {"message": "已收到，正在采购药箱。"}))
    assert responded["status"] == "in_progress" and responded["first_response_at"] is not None

    ext = ok(partner.post(f"{path}/extensions", {"days": 3, "reason": "等待采购审批"}), 201)
    assert (ext["days"], ext["status"], ext["tracking_no"], ext["suggestion_id"]) == (
        3,
        "pending",
        tracking_no,
        suggestion.pk,
    )
    assert [e["id"] for e in ok(street.get("/staff/voice/extensions"))] == [ext["id"]]
    before = Suggestion.objects.get(pk=suggestion.pk).resolve_by
    # The desk may not decide (403), the sub-district may.
    refused = desk.post(f"/staff/voice/extensions/{ext['id']}/decision", {"approve": True})
    assert (refused.status_code, refused.json()["code"]) == (403, "not_supervisor")
    decided = ok(
        street.post(f"/staff/voice/extensions/{ext['id']}/decision", {"approve": True, "note": "同意"})
    )
    assert (decided["status"], decided["decision_note"]) == ("approved", "同意")
    assert Suggestion.objects.get(pk=suggestion.pk).resolve_by == calendar.deadline(before, 3)
    assert ok(street.get("/staff/voice/extensions")) == []

    resolved = ok(
        partner.post(
            f"{path}/resolve", {"reply": "药箱已放在二楼服务台。", "done_note": "二楼服务台配备药箱"}
        )
    )
    assert (resolved["status"], resolved["reply"], resolved["done_note"]) == (
        "resolved",
        "药箱已放在二楼服务台。",
        "二楼服务台配备药箱",
    )
    seen = ok(me.get(f"/suggestions/{tracking_no}"))
    assert (seen["status"], seen["reply"], seen["can_rate"], seen["can_reopen"]) == (
        "resolved",
        "药箱已放在二楼服务台。",
        True,
        True,
    )
    # The resident's timeline holds the public steps only (no hand-over notes, no extension).
    assert [e["kind"] for e in seen["events"]] == ["responded", "resolved"]

    reopened = ok(me.post(f"/suggestions/{suggestion.pk}/reopen", {"reason": "药箱里没有创可贴。"}))
    assert (reopened["status"], reopened["reopen_count"], reopened["can_rate"]) == ("in_progress", 1, False)
    ok(partner.post(f"{path}/resolve", {"reply": "已补充创可贴和碘伏。"}))
    rated = ok(me.post(f"/suggestions/{suggestion.pk}/rating", {"rating": 5, "comment": "很及时"}))
    assert (rated["status"], rated["rating"], rated["follow_up"], rated["can_rate"]) == (
        "closed",
        5,
        False,
        False,
    )
    assert [e["kind"] for e in rated["events"]] == [
        "responded",
        "resolved",
        "reopened",
        "resolved",
        "rated",
        "closed",
    ]

    # Staff put it on the board, with a before and an after photo.
    published = ok(
        desk.post(
            f"{path}/publish",
            {"summary": "居民建议二楼增设药箱 13812345678", "done_note": "二楼服务台已配药箱"},
        )
    )
    assert (published["is_public"], published["done_note"]) == (True, "二楼服务台已配药箱")
    assert "13812345678" not in published["public_summary"]
    for kind, color in (("before", "gray"), ("after", "green")):
        photo = ok(
            multipart(desk, f"{path}/photos", {"kind": kind, "photo": upload(jpeg_bytes(color=color))}), 201
        )
        assert (photo["kind"], photo["width"], photo["height"]) == (kind, 64, 48)
    assert list(Photo.objects.filter(suggestion=suggestion).values_list("kind", flat=True)) == [
        "report",
        "report",
        "before",
        "after",
    ]

    for other in (neighbour, api, desk):
        public = ok(other.get(f"/suggestions/{tracking_no}"))
        assert set(public) == PUBLIC_KEYS
        assert (public["summary"], public["reply"], public["done"], public["status"]) == (
            published["public_summary"],
            "已补充创可贴和碘伏。",
            "二楼服务台已配药箱",
            "closed",
        )
        assert [p["kind"] for p in public["photos"]] == ["before", "after"]
        assert "药箱，" not in str(public) and "张" not in str(public)
    assert ok(me.get(f"/suggestions/{tracking_no}"))["text"] == body["text"]

    board = ok(api.get("/suggestions/board"))
    assert [b["tracking_no"] for b in board] == [tracking_no]
    assert ok(api.get("/suggestions/board", center=center.pk)) == board
    assert ok(api.get("/suggestions/board", center=voice_world["other_center"].pk)) == []

    # The rates of today at this center: one request, responded and resolved in time, reopened once,
    # rated very satisfied.
    today = str(timezone.localdate())
    rates = ok(desk.get("/staff/voice/rates", scope=f"center:{center.pk}", **{"from": today, "to": today}))
    assert {k: v for k, v in rates.items() if k != "average_response_hours"} == {
        "scope": f"center:{center.pk}",
        "name": center.name,
        "start": today,
        "end": today,
        "received": 1,
        "responded": 1,
        "responded_on_time": 1,
        "resolved": 1,
        "resolved_on_time": 1,
        "rated": 1,
        "satisfied": 1,
        "reopened": 1,
        "overdue_open": 0,
        "response_rate": 100.0,
        "resolution_rate": 100.0,
        "satisfaction_rate": 100.0,
        "on_time_rate": 100.0,
        "reopen_rate": 100.0,
    }
    assert rates["average_response_hours"] == 0.0


def test_a_low_rating_opens_a_follow_up_of_fifteen_working_days(voice_world):
    created = voice_world["suggestion"](kind="complaint", category="staff", text="前台工作人员态度不好")
    desk = staff_api(voice_world["desk"])
    ok(desk.post(f"/staff/voice/suggestions/{created.pk}/resolve", {"reply": "已批评教育并道歉。"}))
    me = resident_api(voice_world["residents"][0].user)
    rated = ok(me.post(f"/suggestions/{created.pk}/rating", {"rating": 1, "comment": "没有改进"}))
    assert (rated["status"], rated["rating"], rated["follow_up"]) == ("in_progress", 1, True)
    suggestion = Suggestion.objects.get(pk=created.pk)
    assert suggestion.resolve_by == WorkCalendar().deadline(suggestion.rated_at, 15)
    assert [e["kind"] for e in rated["events"]] == ["resolved", "rated", "follow_up"]
    # The follow-up is resolved and rated again; this time it closes.
    ok(desk.post(f"/staff/voice/suggestions/{created.pk}/resolve", {"reply": "已调整岗位。"}))
    again = ok(me.post(f"/suggestions/{created.pk}/rating", {"rating": 4}))
    assert (again["status"], again["rating"], again["follow_up"]) == ("closed", 4, True)


def test_staff_record_a_desk_request_and_a_forum(voice_world):
    center = voice_world["center"]
    desk = staff_api(voice_world["desk"])
    resident = voice_world["residents"][1]
    recorded = ok(
        desk.post(
            "/staff/voice/suggestions",
            {
                "center_id": center.pk,
                "kind": "help",
                "category": "services",
                "text": "老人来电希望上门理发",
                "channel": "phone",
                "resident_id": resident.pk,
            },
        ),
        201,
    )
    assert (recorded["channel"], recorded["status"], recorded["resident"]) == ("phone", "received", "张*")
    # The center's own staff received it: it stays with the center.
    assert (recorded["owner"], recorded["owner_organization_id"]) == (center.name, None)
    row = Suggestion.objects.get(pk=recorded["id"])
    assert (row.recorded_by, row.owner_organization) == (voice_world["desk"], None)
    # The resident follows it like their own.
    me = resident_api(resident.user)
    assert [s["tracking_no"] for s in ok(me.get("/me/suggestions"))] == [recorded["tracking_no"]]

    held_on = str(timezone.localdate() - dt.timedelta(days=2))
    made = ok(
        desk.post(
            "/staff/voice/engagements",
            {
                "center_id": center.pk,
                "kind": "forum",
                "held_on": held_on,
                "place": "客厅多功能室",
                "participants": 18,
                "topics": "骑手驿站",
                "notes": "外卖骑手代表参加",
                "raised": [
                    {"kind": "suggestion", "category": "facilities", "text": "希望有一个能歇脚的地方"},
                    {"kind": "help", "category": "services", "text": "希望配一个药箱"},
                ],
            },
        ),
        201,
    )
    assert (made["kind"], made["held_on"], made["participants"], made["center"]) == (
        "forum",
        held_on,
        18,
        center.name,
    )
    assert len(made["suggestions"]) == 2
    raised = Suggestion.objects.filter(tracking_no__in=made["suggestions"]).order_by("text")
    assert [(s.channel, s.resident, s.status, s.engagement_id) for s in raised] == [
        ("forum", None, "received", made["id"]),
        ("forum", None, "received", made["id"]),
    ]
    assert sorted(s.text for s in raised) == sorted(["希望有一个能歇脚的地方", "希望配一个药箱"])
    assert [s.owner_organization for s in raised] == [None, None]
    assert [e["id"] for e in ok(desk.get("/staff/voice/engagements"))] == [made["id"]]
    assert ok(staff_api(voice_world["roles"]["other_community"]).get("/staff/voice/engagements")) == []
    assert Engagement.objects.get(pk=made["id"]).recorded_by == voice_world["desk"]
    queue = {row["tracking_no"]: row for row in ok(desk.get("/staff/voice/suggestions"))}
    assert set(queue) == {recorded["tracking_no"], *made["suggestions"]}
    assert {queue[no]["channel"] for no in made["suggestions"]} == {"forum"}


# --- the rates --------------------------------------------------------------------------------------


@pytest.fixture
def rated_world(voice_world, place):
    """Five requests received at 固戍's center within the period (60 to 56 days ago), one before it
    and one at another center, moved through the services at known moments:

    A  responded after 1 h, resolved after 2 h, rated 5: closed
    B  responded after 20 days + 1 h (late), resolved after 40 days (late), rated 2: follow-up
    C  resolved directly after 3 h (that is its first response), rated 4: closed
    D  responded after 1 h, resolved the next day, reopened the day after: in progress, overdue
    E  nothing done: open, overdue
    """
    desk = voice_world["desk"]
    scope = voice_world["scope"]
    user = voice_world["residents"][0].user
    make = voice_world["suggestion"]
    hour = dt.timedelta(hours=1)

    def respond(s, when):
        services.suggestion_respond(staff=desk, scope=scope, suggestion_id=s.pk, message="已收到", now=when)

    def resolve(s, when):
        services.suggestion_resolve(staff=desk, scope=scope, suggestion_id=s.pk, reply="已处理", now=when)

    def rate(s, rating, when):
        services.suggestion_rate(user=user, suggestion_id=s.pk, rating=rating, now=when)

    a = make(now=at(-60, 9))
    respond(a, at(-60, 10))
    resolve(a, at(-60, 11))
    rate(a, 5, at(-59, 9))
    b = make(now=at(-59, 9))
    respond(b, at(-59, 9) + dt.timedelta(days=20) + hour)
    resolve(b, at(-59, 9) + dt.timedelta(days=40))
    rate(b, 2, at(-18, 9))
    c = make(now=at(-58, 9))
    resolve(c, at(-58, 12))
    rate(c, 4, at(-57, 9))
    d = make(now=at(-57, 9))
    respond(d, at(-57, 10))
    resolve(d, at(-56, 9))
    services.suggestion_reopen(user=user, suggestion_id=d.pk, reason="问题又出现了", now=at(-55, 9))
    e = make(now=at(-56, 9))
    make(now=at(-70, 9))  # before the period
    far = voice_world["far"]
    services.suggestion_submit(
        user=far.user,
        draft=services.SuggestionDraft(
            center_id=voice_world["other_center"].pk,
            kind="suggestion",
            category="other",
            text="别的中心的建议",
        ),
        now=at(-57, 9),
    )
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


CENTER_RATES = {
    "received": 5,
    "responded": 4,
    "responded_on_time": 3,
    "resolved": 2,
    "resolved_on_time": 2,
    "rated": 3,
    "satisfied": 2,
    "reopened": 1,
    "overdue_open": 2,
    "response_rate": 60.0,
    "resolution_rate": 40.0,
    "satisfaction_rate": 66.7,
    "on_time_rate": 100.0,
    "reopen_rate": 25.0,
    "average_response_hours": round((1 + 481 + 3 + 1) / 4, 1),
}


def test_the_rates_of_a_center_a_sub_district_and_the_district(rated_world, voice_world, place):
    period = {"from": str(at(-60).date()), "to": str(at(-56).date())}
    center = voice_world["center"]
    desk = staff_api(voice_world["desk"])
    rates = ok(desk.get("/staff/voice/rates", scope=f"center:{center.pk}", **period))
    assert (rates["scope"], rates["name"], rates["start"], rates["end"]) == (
        f"center:{center.pk}",
        center.name,
        period["from"],
        period["to"],
    )
    assert {k: rates[k] for k in CENTER_RATES} == CENTER_RATES
    assert CENTER_RATES["average_response_hours"] == 121.5
    community = ok(desk.get("/staff/voice/rates", scope=f"community:{place['communities'][0].pk}", **period))
    assert {k: community[k] for k in CENTER_RATES} == CENTER_RATES

    street = staff_api(voice_world["roles"]["street"])
    s1 = ok(street.get("/staff/voice/rates", scope=f"street:{place['streets'][0].pk}", **period))
    assert {k: s1[k] for k in CENTER_RATES} == CENTER_RATES
    assert s1["name"] == place["streets"][0].name

    district = ok(
        staff_api(voice_world["roles"]["district"]).get("/staff/voice/rates", scope="district", **period)
    )
    assert (district["received"], district["responded"], district["overdue_open"]) == (6, 4, 3)
    assert district["response_rate"] == round(100 * 3 / 6, 1) == 50.0
    assert district["resolution_rate"] == round(100 * 2 / 6, 1) == 33.3

    # One day holds A only; a period with nothing received has no rates at all (not 0 %).
    day = str(at(-60).date())
    only_a = ok(desk.get("/staff/voice/rates", scope=f"center:{center.pk}", **{"from": day, "to": day}))
    assert (only_a["received"], only_a["response_rate"], only_a["satisfaction_rate"]) == (1, 100.0, 100.0)
    empty_day = str(at(-65).date())
    empty = ok(
        desk.get("/staff/voice/rates", scope=f"center:{center.pk}", **{"from": empty_day, "to": empty_day})
    )
    assert empty["received"] == 0
    assert [empty[k] for k in ("response_rate", "resolution_rate", "satisfaction_rate", "on_time_rate")] == [
        None
    ] * 4
    assert empty["average_response_hours"] is None


def test_the_rates_default_to_this_month(voice_world):
    voice_world["suggestion"]()
    desk = staff_api(voice_world["desk"])
    rates = ok(desk.get("/staff/voice/rates", scope=f"center:{voice_world['center'].pk}"))
    today = timezone.localdate()
    assert (rates["start"], rates["end"], rates["received"]) == (str(today.replace(day=1)), str(today), 1)


def test_the_rates_default_to_the_callers_widest_scope(voice_world, place, roles):
    """Without ``scope``: the district for district officials, else their first sub-district, else
    their first center (the desk's, the partner's); a blank scope is no scope."""
    voice_world["suggestion"]()
    center = voice_world["center"]
    s1, s2 = place["streets"]
    centers = place["centers"]
    expected = [
        (roles["district"], "district", "全区", 1),
        (roles["street"], f"street:{s1.pk}", s1.name, 1),
        (roles["community"], f"center:{center.pk}", center.name, 1),  # 固戍 alone is not all of 西乡
        (roles["other_community"], f"street:{s2.pk}", s2.name, 0),  # 宝民 is all of 新安
        (roles["center"], f"center:{centers[1].pk}", centers[1].name, 0),
        (roles["partner"], f"center:{centers[2].pk}", centers[2].name, 0),
        (voice_world["partner"], f"center:{center.pk}", center.name, 0),  # nothing handed to it
    ]
    today = timezone.localdate()
    for user, scope, name, received in expected:
        client = staff_api(user)
        for params in ({}, {"scope": ""}, {"scope": "  "}):
            rates = ok(client.get("/staff/voice/rates", **params))
            assert (rates["scope"], rates["name"], rates["received"], rates["start"], rates["end"]) == (
                scope,
                name,
                received,
                str(today.replace(day=1)),
                str(today),
            ), (user, params)
        # The default is exactly what asking for that scope answers.
        assert ok(client.get("/staff/voice/rates")) == ok(client.get("/staff/voice/rates", scope=scope))


def test_nothing_about_the_flow_needs_a_resident_name_in_clear(voice_world):
    """Staff views mask the resident's name, the extension and steps carry none."""
    resident = voice_world["residents"][0]
    created = voice_world["suggestion"]()
    desk = staff_api(voice_world["desk"])
    detail = desk.get(f"/staff/voice/suggestions/{created.pk}")
    assert resident.real_name not in detail.content.decode()
    assert detail.json()["resident"] == "张*"
    assert SuggestionEvent.objects.filter(suggestion=created).count() == 1
    assert Extension.objects.count() == 0


def test_a_resident_without_a_profile_cannot_submit(voice_world):
    user = f.UserFactory()
    me = resident_api(user)
    response = multipart(
        me,
        "/suggestions",
        {
            "center_id": voice_world["center"].pk,
            "kind": "help",
            "category": "other",
            "text": "需要帮助的事情",
        },
    )
    assert (response.status_code, response.json()["code"]) == (409, "profile_incomplete")
    assert Suggestion.objects.count() == 0
