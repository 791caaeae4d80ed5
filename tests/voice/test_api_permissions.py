"""Who may call which residents' voice endpoint, for every role, across communities.

The world: sub-district 1 holds communities c1 and c2, sub-district 2 holds c3; each community has
a center ``t`` (0, 1, 2). A partner organisation works at center 0 (the voice world's 物业服务中心,
its staff ``partner_here``) and another at center 2 (``partner_elsewhere``: it does not work at
center 0); center 1 has none. At each center ``t``:

* ``sug[t]``: the resident's open request, handed to the center's partner where there is one;
* ``waiting[t]``: another, in progress, with a pending extension ``ext[t]``;
* ``done[t]``: another, resolved (the resident may rate or reopen it);
* ``pub[t]``: a published survey for the community, ``draft[t]`` a draft one;
* ``eng[t]``: a forum recorded there.

and at center 0 ``shown``: a request the center kept, resolved and on the public board.

The resident lives in c1; ``other_resident`` in c2. Staff see (404 otherwise): district all; the
street official c1 and c2; the community worker c1; the other community's worker c3; the center
staff c2; partner staff the requests handed to their organisation at the centers it works at (and
that center's forums and rates), and no surveys. What partner staff record at their center belongs
to their organisation (首接负责), so they see it after recording it. Extensions are decided by
sub-district and district officials (403 ``not_supervisor`` for the others who see them).

Every refusal runs inside ``unchanged()``: no row written, no row changed. A guard test fails when
the OpenAPI schema gains a voice operation this table does not cover.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import load_workbook

from livingroom.people.models import Resident, StaffRole
from livingroom.people.scopes import staff_scope
from livingroom.places.models import Center, Organization
from livingroom.voice import services
from livingroom.voice.models import (
    Answer,
    DeadlineRule,
    Engagement,
    Extension,
    Participation,
    Photo,
    Question,
    Response,
    Suggestion,
    SuggestionEvent,
    Survey,
)
from livingroom.voice.services import QuestionDraft, SuggestionDraft, SurveyDraft
from tests import factories as f
from tests.conftest import Api, resident_api, staff_api
from tests.invariants import snapshot
from tests.openapi import (
    Matrix,
    Moved,
    Page,
    assert_table_covers,
    cells,
    console,
    open_page,
    page_browser,
    page_key,
    page_row,
    param_cells,
    play_cell,
    play_pages,
    resident_page,
    seen,
    tagged,
)
from tests.voice.conftest import jpeg_bytes, standard_questions

STAFF = (
    "district",
    "street",
    "community",
    "other_community",
    "center",
    "partner_here",
    "partner_elsewhere",
)
RESIDENTS = ("resident", "other_resident")
ROLES = ("anonymous", *RESIDENTS, *STAFF)
SEEN: dict[str, set[int]] = {
    "district": {0, 1, 2},
    "street": {0, 1},
    "community": {0},
    "other_community": {2},
    "center": {1},
    "partner_here": {0},
    "partner_elsewhere": {2},
}
SURVEYS_SEEN: dict[str, set[int]] = {**SEEN, "partner_here": set(), "partner_elsewhere": set()}
SUPERVISES: dict[str, set[int]] = {"district": {0, 1, 2}, "street": {0, 1}}
HOME = {"resident": 0, "other_resident": 1}  # the community each resident lives in
TARGETS = (0, 1, 2, None)  # None: an id that does not exist
MISSING_PK = 987654
MISSING_TRACKING_NO = "JY20000101ZZZZZ"
TAGS = {"voice", "staff: voice"}


# --- what a refusal must leave as it was -----------------------------------------------------------


def voice_facts() -> dict[str, Any]:
    """Every voice row a refused request could add, and what it could change in place."""
    return {
        "surveys": list(
            Survey.objects.order_by("pk").values_list("pk", "status", "responses_count", "title", "closes_at")
        ),
        "questions": Question.objects.count(),
        "participations": Participation.objects.count(),
        "responses": Response.objects.count(),
        "answers": Answer.objects.count(),
        "suggestions": list(
            Suggestion.objects.order_by("pk").values_list(
                "pk",
                "status",
                "owner_organization",
                "first_response_at",
                "resolved_at",
                "resolve_by",
                "reply",
                "rating",
                "reopen_count",
                "follow_up",
                "is_public",
                "public_summary",
                "done_note",
            )
        ),
        "events": SuggestionEvent.objects.count(),
        "extensions": list(Extension.objects.order_by("pk").values_list("pk", "status", "decided_at")),
        "photos": Photo.objects.count(),
        "engagements": Engagement.objects.count(),
        "deadline rules": list(
            DeadlineRule.objects.order_by("pk").values_list("pk", "respond_days", "resolve_days")
        ),
    }


@contextlib.contextmanager
def unchanged(ignore: tuple[str, ...] = ()) -> Iterator[None]:
    """``nothing_changes()`` of the foundation (audit events and notices included) plus every
    voice fact."""

    def state() -> dict[str, Any]:
        return {**snapshot(ignore), **{k: v for k, v in voice_facts().items() if k not in ignore}}

    before = state()
    yield
    after = state()
    assert {k: v for k, v in after.items() if v != before[k]} == {}, {
        k: before[k] for k in after if after[k] != before[k]
    }


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def multipart(client: Api, path: str, data: dict):
    headers = {"Authorization": f"Bearer {client.token}"} if client.token else {}
    return client.client.post("/api/v1" + path, data=data, headers=headers)


# --- the world ---------------------------------------------------------------------------------------


@dataclass
class Px:
    users: dict[str, Any]
    centers: list[Center]
    communities: list
    orgs: list[Organization | None]
    resident: Resident
    other_resident: Resident
    sug: list[Suggestion]
    waiting: list[Suggestion]
    done: list[Suggestion]
    ext: list[Extension]
    pub: list[Survey]
    draft: list[Survey]
    eng: list[Engagement]
    shown: Suggestion


@pytest.fixture
def px(voice_world, place, roles) -> Px:
    boss = roles["district"]
    scope = staff_scope(boss)
    assert scope is not None
    centers = list(place["centers"])
    communities = list(place["communities"])
    partner_elsewhere = roles["partner"]
    orgs: list[Organization | None] = [
        voice_world["org"],
        None,
        partner_elsewhere.staff_roles.get().organization,
    ]
    resident = voice_world["residents"][0]

    def submit(t: int, text: str) -> Suggestion:
        made = services.suggestion_submit(
            user=resident.user,
            draft=SuggestionDraft(
                center_id=centers[t].pk, kind="suggestion", category="facilities", text=text
            ),
        )
        if orgs[t] is not None:
            services.suggestion_assign(
                staff=boss, scope=scope, suggestion_id=made.pk, organization_id=orgs[t].pk
            )
        return made

    lists: dict[str, list] = {k: [] for k in ("sug", "waiting", "done", "ext", "pub", "draft", "eng")}
    for t, center in enumerate(centers):
        lists["sug"].append(submit(t, f"希望增设药箱{t}"))
        waiting = submit(t, f"希望增设饮水机{t}")
        services.suggestion_respond(staff=boss, scope=scope, suggestion_id=waiting.pk, message="正在处理")
        lists["waiting"].append(waiting)
        lists["ext"].append(
            services.extension_request(
                staff=boss, scope=scope, suggestion_id=waiting.pk, days=3, reason="待采购"
            )
        )
        done = submit(t, f"希望延长开放时间{t}")
        services.suggestion_resolve(staff=boss, scope=scope, suggestion_id=done.pk, reply="已延长到晚上九点")
        lists["done"].append(done)
        for publish, bucket in ((True, "pub"), (False, "draft")):
            survey = services.survey_create(
                staff=boss,
                scope=scope,
                draft=SurveyDraft(
                    title=f"需求调查{t}",
                    area="community",
                    community_id=communities[t].pk,
                    questions=standard_questions(),
                ),
            )
            if publish:
                survey = services.survey_publish(staff=boss, scope=scope, survey_id=survey.pk)
            lists[bucket].append(survey)
        lists["eng"].append(
            services.engagement_record(
                staff=boss,
                scope=scope,
                center_id=center.pk,
                kind="forum",
                held_on=timezone.localdate(),
                place="多功能室",
                participants=12,
                topics="客厅开放时间",
            )
        )
    shown = services.suggestion_submit(
        user=resident.user,
        draft=SuggestionDraft(
            center_id=centers[0].pk, kind="report", category="environment", text="门口路灯坏了"
        ),
    )
    services.suggestion_resolve(staff=boss, scope=scope, suggestion_id=shown.pk, reply="路灯已修好")
    services.suggestion_publish(
        staff=boss, scope=scope, suggestion_id=shown.pk, public=True, summary="居民反映门口路灯坏了"
    )
    users = {
        "resident": resident.user,
        "other_resident": voice_world["outsider"].user,
        **{role: roles[role] for role in ("district", "street", "community", "other_community", "center")},
        "partner_here": voice_world["partner"],
        "partner_elsewhere": partner_elsewhere,
    }
    return Px(
        users=users,
        centers=centers,
        communities=communities,
        orgs=orgs,
        resident=resident,
        other_resident=voice_world["outsider"],
        shown=shown,
        **lists,
    )


# --- expected answers ----------------------------------------------------------------------------

Expect = tuple[int, str | None]  # (status, code); code None for a success


def everyone(ok: int, missing: str | None = None) -> Callable[[str, int | None], Expect]:
    return lambda role, t: (404, missing) if t is None and missing else (ok, None)


def signed_in(ok: int) -> Callable[[str, int | None], Expect]:
    return lambda role, t: (401, "not_authenticated") if role == "anonymous" else (ok, None)


def owner_only(ok: int, missing: str) -> Callable[[str, int | None], Expect]:
    """The resident's own requests: anyone else signed in (staff included) finds nothing."""

    def expect(role: str, t: int | None) -> Expect:
        if role == "anonymous":
            return 401, "not_authenticated"
        return (ok, None) if role == "resident" and t is not None else (404, missing)

    return expect


def track(role: str, t: int | None) -> Expect:
    """By tracking number, signed in or not: the resident's own in full; it is not public yet."""
    return (200, None) if role == "resident" and t is not None else (404, "suggestion_not_found")


def answer(role: str, t: int | None) -> Expect:
    """A community survey: a missing one is not found for anyone; visitors must sign in; residents
    of that community answer, everyone else (staff have no home) is not its audience."""
    if t is None:
        return 404, "survey_not_found"
    if role == "anonymous":
        return 401, "not_authenticated"
    if role in HOME and HOME[role] == t:
        return 201, None
    return 403, "survey_not_for_you"


def submit(role: str, t: int | None) -> Expect:
    if role == "anonymous":
        return 401, "not_authenticated"
    if role in STAFF:
        return 409, "profile_incomplete"  # staff have no resident profile
    return (201, None) if t is not None else (404, "center_not_found")


def staff_only(ok: int) -> Callable[[str, int | None], Expect]:
    return lambda role, t: (ok, None) if role in STAFF else (401, "not_authenticated")


def staff_seen(
    ok: int, missing: str, seen: dict[str, set[int]] = SEEN
) -> Callable[[str, int | None], Expect]:
    def expect(role: str, t: int | None) -> Expect:
        if role not in STAFF:
            return 401, "not_authenticated"
        return (ok, None) if t is not None and t in seen[role] else (404, missing)

    return expect


def decide(role: str, t: int | None) -> Expect:
    if role not in STAFF:
        return 401, "not_authenticated"
    if t is None or t not in SEEN[role]:
        return 404, "extension_not_found"
    return (200, None) if t in SUPERVISES.get(role, set()) else (403, "not_supervisor")


# --- checks of what a success did ------------------------------------------------------------------


def _pk(objs: list, t: int | None) -> int:
    return MISSING_PK if t is None else objs[t].pk


def _ids(response) -> set[int]:
    return {row["id"] for row in response.json()}


def _visible_requests(m: Px, role: str) -> set[int]:
    ids = {s.pk for t in SEEN[role] for s in (m.sug[t], m.waiting[t], m.done[t])}
    if 0 in SEEN[role] and not role.startswith("partner"):
        ids.add(m.shown.pk)  # the center kept it: not the partner's
    return ids


def _survey_shown(m: Px, role: str, t: int, response) -> None:
    body = response.json()
    assert (body["id"], body["title"], body["status"], body["answered"]) == (
        m.pub[t].pk,
        f"需求调查{t}",
        "published",
        False,
    )
    assert len(body["questions"]) == 5


def _answered(m: Px, role: str, t: int, response) -> None:
    assert response.json() == {
        "survey_id": m.pub[t].pk,
        "given_on": str(timezone.localdate()),
        "anonymous": False,
    }
    assert Response.objects.get(survey=m.pub[t]).respondent == m.users[role]
    assert Survey.objects.get(pk=m.pub[t].pk).responses_count == 1


def _board(m: Px, role: str, t: Any, response) -> None:
    assert [row["tracking_no"] for row in response.json()] == [m.shown.tracking_no]
    assert "text" not in response.json()[0]


def _tracked(m: Px, role: str, t: int, response) -> None:
    body = response.json()
    status = "assigned" if m.orgs[t] else "received"
    assert (body["id"], body["text"], body["status"], body["owner"]) == (
        m.sug[t].pk,
        f"希望增设药箱{t}",
        status,
        m.orgs[t].name if m.orgs[t] else m.centers[t].name,
    )


def _submitted(m: Px, role: str, t: int, response) -> None:
    made = Suggestion.objects.get(tracking_no=response.json()["tracking_no"])
    assert (made.center, made.resident.user, made.status, made.photos.count()) == (
        m.centers[t],
        m.users[role],
        "received",
        1,
    )


def _mine(m: Px, role: str, t: Any, response) -> None:
    expected = set(Suggestion.objects.filter(resident__user=m.users[role]).values_list("pk", flat=True))
    assert _ids(response) == expected
    assert len(expected) == (10 if role == "resident" else 0)


def _rated(m: Px, role: str, t: int, response) -> None:
    assert (response.json()["status"], response.json()["rating"]) == ("closed", 4)
    assert Suggestion.objects.get(pk=m.done[t].pk).rating == 4


def _reopened(m: Px, role: str, t: int, response) -> None:
    assert Suggestion.objects.get(pk=m.done[t].pk).status == response.json()["status"] == "in_progress"
    assert response.json()["reopen_count"] == 1


def _staff_surveys(m: Px, role: str, t: Any, response) -> None:
    assert _ids(response) == {s.pk for i in SURVEYS_SEEN[role] for s in (m.pub[i], m.draft[i])}


def _survey_made(m: Px, role: str, t: int, response) -> None:
    made = Survey.objects.get(pk=response.json()["id"])
    assert (made.community, made.created_by, made.status, made.questions.count()) == (
        m.communities[t],
        m.users[role],
        "draft",
        1,
    )


def _survey_replaced(m: Px, role: str, t: int, response) -> None:
    survey = Survey.objects.get(pk=m.draft[t].pk)
    assert (survey.title, survey.questions.count()) == ("新的调查", 1)


def _survey_published(m: Px, role: str, t: int, response) -> None:
    assert Survey.objects.get(pk=m.draft[t].pk).status == response.json()["status"] == "published"


def _survey_closed(m: Px, role: str, t: int, response) -> None:
    assert Survey.objects.get(pk=m.pub[t].pk).status == response.json()["status"] == "closed"


def _results(m: Px, role: str, t: int, response) -> None:
    body = response.json()
    assert body["survey"]["id"] == m.pub[t].pk
    assert [q["answered"] for q in body["questions"]] == [0, 0, 0, 0, 0]


def _export(m: Px, role: str, t: int, response) -> None:
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 1 and rows[0][:2] == ("#", "given_on")


def _queue(m: Px, role: str, t: Any, response) -> None:
    assert _ids(response) == _visible_requests(m, role)


def _first_owner(m: Px, role: str, t: int) -> Organization | None:
    """Who receives first owns it (首接负责): partner staff through their organisation working at
    the center; everyone else leaves it with the center."""
    return m.orgs[t] if role.startswith("partner") else None


def _recorded(m: Px, role: str, t: int, response) -> None:
    body = response.json()
    made = Suggestion.objects.get(pk=body["id"])
    owner = _first_owner(m, role, t)
    assert owner is not None or not role.startswith("partner")
    assert (made.center, made.channel, made.recorded_by, made.resident, made.owner_organization) == (
        m.centers[t],
        "desk",
        m.users[role],
        None,
        owner,
    )
    assert (body["status"], body["owner"], body["owner_organization_id"], body["text"]) == (
        "received",
        owner.name if owner else m.centers[t].name,
        owner.pk if owner else None,
        "来电咨询开放时间",
    )
    # The recorder finds it again in their own queue.
    assert made.pk in _ids(client_for(role, m).get("/staff/voice/suggestions"))


def _detail(m: Px, role: str, t: int, response) -> None:
    body = response.json()
    assert (body["id"], body["resident"]) == (m.sug[t].pk, "张*")


def _assigned(m: Px, role: str, t: int, response) -> None:
    org = m.orgs[t]
    assert Suggestion.objects.get(pk=m.sug[t].pk).owner_organization == org
    assert response.json()["owner"] == (org.name if org else m.centers[t].name)
    assert response.json()["events"][-1]["kind"] == "assigned"


def _responded(m: Px, role: str, t: int, response) -> None:
    s = Suggestion.objects.get(pk=m.sug[t].pk)
    assert s.status == response.json()["status"] == "in_progress" and s.first_response_at is not None


def _extension_asked(m: Px, role: str, t: int, response) -> None:
    e = Extension.objects.get(pk=response.json()["id"])
    assert (e.suggestion_id, e.days, e.status, e.requested_by) == (m.sug[t].pk, 5, "pending", m.users[role])


def _extensions(m: Px, role: str, t: Any, response) -> None:
    assert _ids(response) == {m.ext[i].pk for i in SEEN[role]}


def _decided(m: Px, role: str, t: int, response) -> None:
    e = Extension.objects.get(pk=m.ext[t].pk)
    assert (e.status, e.decided_by) == ("refused", m.users[role])
    assert Suggestion.objects.get(pk=m.waiting[t].pk).resolve_by == m.waiting[t].resolve_by


def _resolved(m: Px, role: str, t: int, response) -> None:
    s = Suggestion.objects.get(pk=m.sug[t].pk)
    assert (s.status, s.reply) == ("resolved", "已处理完毕")


def _published(m: Px, role: str, t: int, response) -> None:
    s = Suggestion.objects.get(pk=m.sug[t].pk)
    assert (s.is_public, s.public_summary) == (True, "居民建议增设药箱")


def _photo_added(m: Px, role: str, t: int, response) -> None:
    photo = Photo.objects.get(pk=response.json()["id"])
    assert (photo.suggestion_id, photo.kind, photo.uploaded_by) == (m.sug[t].pk, "after", m.users[role])


def _engagement_made(m: Px, role: str, t: int, response) -> None:
    made = Engagement.objects.get(pk=response.json()["id"])
    assert (made.center, made.recorded_by, made.suggestions.count()) == (m.centers[t], m.users[role], 1)
    raised = made.suggestions.get()
    assert (raised.channel, raised.status, raised.owner_organization) == (
        "visit",
        "received",
        _first_owner(m, role, t),
    )


def _engagements(m: Px, role: str, t: Any, response) -> None:
    assert _ids(response) == {m.eng[i].pk for i in SEEN[role]}


def _rates(m: Px, role: str, t: int, response) -> None:
    body = response.json()
    assert (body["scope"], body["name"]) == (f"center:{m.centers[t].pk}", m.centers[t].name)
    # sug, waiting, done (+ shown at center 0, which the partner does not see); done and shown resolved
    shown = 1 if t == 0 and not role.startswith("partner") else 0
    assert (body["received"], body["resolved"], body["responded"]) == (3 + shown, 1 + shown, 2 + shown)


# --- the table ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    method: str
    template: str  # as in the OpenAPI schema, without /api/v1
    expect: Callable[[str, int | None], Expect]
    path: Callable[[Px, int | None], str]
    body: Callable[[Px, int | None], dict] | None = None
    query: Callable[[Px, int | None], dict] | None = None
    check: Callable[[Px, str, Any, Any], None] | None = None
    targeted: bool = True
    form: bool = False  # multipart

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


def _answers(m: Px, t: int | None) -> dict:
    if t is None:
        return {"answers": {"1": "a"}}
    q = list(m.pub[t].questions.order_by("position"))
    return {"answers": {str(q[0].pk): "a", str(q[2].pk): 4}}


def _new_survey(m: Px, t: int | None, title: str = "居民需求调查") -> dict:
    return {
        "title": title,
        "area": "community",
        "community_id": _pk(m.communities, t),
        "questions": [
            {"kind": "single", "text": "您多久来一次？", "required": True, "choices": ["每天", "每周"]}
        ],
    }


def _new_request(m: Px, t: int | None) -> dict:
    return {
        "center_id": _pk(m.centers, t),
        "kind": "help",
        "category": "services",
        "text": "希望帮忙预约上门理发",
        "photos": [upload(jpeg_bytes())],
    }


def _today(m: Px, t: int | None) -> dict:
    today = str(timezone.localdate())
    return {"scope": f"center:{_pk(m.centers, t)}", "from": today, "to": today}


OPS: list[Op] = [
    # --- surveys: anyone ---
    Op(
        "GET",
        "/surveys/{survey_id}",
        everyone(200, "survey_not_found"),
        lambda m, t: f"/surveys/{_pk(m.pub, t)}",
        check=_survey_shown,
    ),
    Op(
        "POST",
        "/surveys/{survey_id}/responses",
        answer,
        lambda m, t: f"/surveys/{_pk(m.pub, t)}/responses",
        body=_answers,
        check=_answered,
    ),
    # --- suggestions: the public and residents ---
    Op(
        "GET",
        "/suggestions/board",
        everyone(200),
        lambda m, t: "/suggestions/board",
        check=_board,
        targeted=False,
    ),
    Op(
        "GET",
        "/suggestions/{tracking_no}",
        track,
        lambda m, t: f"/suggestions/{MISSING_TRACKING_NO if t is None else m.sug[t].tracking_no}",
        check=_tracked,
    ),
    Op(
        "POST",
        "/suggestions",
        submit,
        lambda m, t: "/suggestions",
        body=_new_request,
        check=_submitted,
        form=True,
    ),
    Op("GET", "/me/suggestions", signed_in(200), lambda m, t: "/me/suggestions", check=_mine, targeted=False),
    Op(
        "POST",
        "/suggestions/{suggestion_id}/rating",
        owner_only(200, "suggestion_not_found"),
        lambda m, t: f"/suggestions/{_pk(m.done, t)}/rating",
        body=lambda m, t: {"rating": 4},
        check=_rated,
    ),
    Op(
        "POST",
        "/suggestions/{suggestion_id}/reopen",
        owner_only(200, "suggestion_not_found"),
        lambda m, t: f"/suggestions/{_pk(m.done, t)}/reopen",
        body=lambda m, t: {"reason": "晚上还是关门了"},
        check=_reopened,
    ),
    # --- staff: surveys ---
    Op(
        "GET",
        "/staff/voice/surveys",
        staff_only(200),
        lambda m, t: "/staff/voice/surveys",
        check=_staff_surveys,
        targeted=False,
    ),
    Op(
        "POST",
        "/staff/voice/surveys",
        staff_seen(201, "not_found", SURVEYS_SEEN),
        lambda m, t: "/staff/voice/surveys",
        body=_new_survey,
        check=_survey_made,
    ),
    Op(
        "PUT",
        "/staff/voice/surveys/{survey_id}",
        staff_seen(200, "survey_not_found", SURVEYS_SEEN),
        lambda m, t: f"/staff/voice/surveys/{_pk(m.draft, t)}",
        # the draft's own community: a target out of sight is not found by its id
        body=lambda m, t: _new_survey(m, 0 if t is None else t, "新的调查"),
        check=_survey_replaced,
    ),
    Op(
        "POST",
        "/staff/voice/surveys/{survey_id}/publish",
        staff_seen(200, "survey_not_found", SURVEYS_SEEN),
        lambda m, t: f"/staff/voice/surveys/{_pk(m.draft, t)}/publish",
        check=_survey_published,
    ),
    Op(
        "POST",
        "/staff/voice/surveys/{survey_id}/close",
        staff_seen(200, "survey_not_found", SURVEYS_SEEN),
        lambda m, t: f"/staff/voice/surveys/{_pk(m.pub, t)}/close",
        check=_survey_closed,
    ),
    Op(
        "GET",
        "/staff/voice/surveys/{survey_id}/results",
        staff_seen(200, "survey_not_found", SURVEYS_SEEN),
        lambda m, t: f"/staff/voice/surveys/{_pk(m.pub, t)}/results",
        check=_results,
    ),
    Op(
        "GET",
        "/staff/voice/surveys/{survey_id}/export.xlsx",
        staff_seen(200, "survey_not_found", SURVEYS_SEEN),
        lambda m, t: f"/staff/voice/surveys/{_pk(m.pub, t)}/export.xlsx",
        check=_export,
    ),
    # --- staff: suggestions ---
    Op(
        "GET",
        "/staff/voice/suggestions",
        staff_only(200),
        lambda m, t: "/staff/voice/suggestions",
        check=_queue,
        targeted=False,
    ),
    Op(
        "POST",
        "/staff/voice/suggestions",
        staff_seen(201, "center_not_found"),
        lambda m, t: "/staff/voice/suggestions",
        body=lambda m, t: {
            "center_id": _pk(m.centers, t),
            "kind": "consultation",
            "category": "services",
            "text": "来电咨询开放时间",
        },
        check=_recorded,
    ),
    Op(
        "GET",
        "/staff/voice/suggestions/{suggestion_id}",
        staff_seen(200, "suggestion_not_found"),
        lambda m, t: f"/staff/voice/suggestions/{_pk(m.sug, t)}",
        check=_detail,
    ),
    Op(
        "POST",
        "/staff/voice/suggestions/{suggestion_id}/assign",
        staff_seen(200, "suggestion_not_found"),
        lambda m, t: f"/staff/voice/suggestions/{_pk(m.sug, t)}/assign",
        body=lambda m, t: {
            "organization_id": m.orgs[t].pk if t is not None and m.orgs[t] else None,
            "note": "请跟进",
        },
        check=_assigned,
    ),
    Op(
        "POST",
        "/staff/voice/suggestions/{suggestion_id}/respond",
        staff_seen(200, "suggestion_not_found"),
        lambda m, t: f"/staff/voice/suggestions/{_pk(m.sug, t)}/respond",
        body=lambda m, t: {"message": "已收到，正在处理"},
        check=_responded,
    ),
    Op(
        "POST",
        "/staff/voice/suggestions/{suggestion_id}/extensions",
        staff_seen(201, "suggestion_not_found"),
        lambda m, t: f"/staff/voice/suggestions/{_pk(m.sug, t)}/extensions",
        body=lambda m, t: {"days": 5, "reason": "需要采购"},
        check=_extension_asked,
    ),
    Op(
        "GET",
        "/staff/voice/extensions",
        staff_only(200),
        lambda m, t: "/staff/voice/extensions",
        check=_extensions,
        targeted=False,
    ),
    Op(
        "POST",
        "/staff/voice/extensions/{extension_id}/decision",
        decide,
        lambda m, t: f"/staff/voice/extensions/{_pk(m.ext, t)}/decision",
        body=lambda m, t: {"approve": False, "note": "请按期完成"},
        check=_decided,
    ),
    Op(
        "POST",
        "/staff/voice/suggestions/{suggestion_id}/resolve",
        staff_seen(200, "suggestion_not_found"),
        lambda m, t: f"/staff/voice/suggestions/{_pk(m.sug, t)}/resolve",
        body=lambda m, t: {"reply": "已处理完毕"},
        check=_resolved,
    ),
    Op(
        "POST",
        "/staff/voice/suggestions/{suggestion_id}/publish",
        staff_seen(200, "suggestion_not_found"),
        lambda m, t: f"/staff/voice/suggestions/{_pk(m.sug, t)}/publish",
        body=lambda m, t: {"summary": "居民建议增设药箱"},
        check=_published,
    ),
    Op(
        "POST",
        "/staff/voice/suggestions/{suggestion_id}/photos",
        staff_seen(201, "suggestion_not_found"),
        lambda m, t: f"/staff/voice/suggestions/{_pk(m.sug, t)}/photos",
        body=lambda m, t: {"kind": "after", "photo": upload(jpeg_bytes())},
        check=_photo_added,
        form=True,
    ),
    # --- staff: forums and visits, rates ---
    Op(
        "POST",
        "/staff/voice/engagements",
        staff_seen(201, "center_not_found"),
        lambda m, t: "/staff/voice/engagements",
        body=lambda m, t: {
            "center_id": _pk(m.centers, t),
            "kind": "visit",
            "held_on": str(timezone.localdate()),
            "place": "独居老人家中",
            "participants": 2,
            "topics": "助餐",
            "raised": [{"kind": "help", "category": "services", "text": "希望送餐上门"}],
        },
        check=_engagement_made,
    ),
    Op(
        "GET",
        "/staff/voice/engagements",
        staff_only(200),
        lambda m, t: "/staff/voice/engagements",
        check=_engagements,
        targeted=False,
    ),
    Op(
        "GET",
        "/staff/voice/rates",
        staff_seen(200, "not_found"),
        lambda m, t: "/staff/voice/rates",
        query=_today,
        check=_rates,
    ),
]

# Known bugs (reported to the lead): (role, "METHOD /template") -> reason. These cases fail until
# they are fixed, then the strict xfail turns red to say the mark must go. None are known now.
KNOWN_BUGS: dict[tuple[str, str], str] = {}
CASES = [
    pytest.param(
        role,
        op,
        id=f"{role}:{op}",
        marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[(role, str(op))])]
        if (role, str(op)) in KNOWN_BUGS
        else [],
    )
    for op in OPS
    for role in ROLES
]


def client_for(role: str, m: Px) -> Api:
    if role == "anonymous":
        return Api()
    return resident_api(m.users[role]) if role in RESIDENTS else staff_api(m.users[role])


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "op"), CASES)
def test_voice_api_permissions(px, role, op):
    client = client_for(role, px)
    targets = TARGETS if op.targeted else (0,)
    if op.expect(role, 0)[0] == 401:
        targets = (0,)  # refused before any object is looked up: one target says it all
    for target in targets:
        status, code = op.expect(role, target)
        path = op.path(px, target)
        body = op.body(px, target) if op.body else None

        def call(path=path, body=body, target=target):
            if op.method == "GET":
                return client.get(path, **(op.query(px, target) if op.query else {}))
            if op.form:
                return multipart(client, path, body or {})
            return client.send(op.method, path, body)

        play_cell(
            call,
            status,
            code,
            where=target,
            guard=lambda: unchanged(),
            check=(lambda response, t=target: op.check(px, role, t, response)) if op.check else None,
        )


@pytest.mark.django_db
def test_the_table_covers_every_voice_operation(api):
    assert_table_covers(api, tagged(*TAGS), [(op.method, op.template) for op in OPS], "voice")


# --- beyond the table ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_partner_staff_see_only_what_was_handed_to_their_organisation(px, voice_world):
    partner = staff_api(px.users["partner_here"])
    desk = staff_api(px.users["community"])
    # The center kept ``shown``: the partner working there does not see it, nor its extensions.
    with unchanged():
        response = partner.get(f"/staff/voice/suggestions/{px.shown.pk}")
    assert (response.status_code, response.json()["code"]) == (404, "suggestion_not_found")
    fresh = voice_world["suggestion"]()
    assert partner.get(f"/staff/voice/suggestions/{fresh.pk}").status_code == 404
    assert fresh.pk not in _ids(partner.get("/staff/voice/suggestions"))
    handed = desk.post(f"/staff/voice/suggestions/{fresh.pk}/assign", {"organization_id": px.orgs[0].pk})
    assert handed.status_code == 200, handed.content
    assert partner.get(f"/staff/voice/suggestions/{fresh.pk}").json()["owner"] == px.orgs[0].name
    assert fresh.pk in _ids(partner.get("/staff/voice/suggestions"))
    # Handed to another organisation working at the same center: out of the partner's sight again.
    rival = Organization.objects.create(name="社工站", kind=Organization.Kind.SOCIAL_ORG)
    rival.centers.add(px.centers[0])
    assert (
        desk.post(f"/staff/voice/suggestions/{fresh.pk}/assign", {"organization_id": rival.pk}).status_code
        == 200
    )
    assert partner.get(f"/staff/voice/suggestions/{fresh.pk}").status_code == 404


@pytest.mark.django_db
def test_a_partner_hands_a_request_back_to_the_center(px):
    """The hand-over takes the request out of the partner's sight; the answer is still the request
    as it now stands (200), and from then on the partner finds nothing."""
    partner = staff_api(px.users["partner_here"])
    center = px.centers[0]
    path = f"/staff/voice/suggestions/{px.sug[0].pk}"
    response = partner.post(f"{path}/assign", {"organization_id": None, "note": "不属于物业"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["status"], body["owner"], body["owner_organization_id"]) == (
        px.sug[0].pk,
        "assigned",
        center.name,
        None,
    )
    handover = body["events"][-1]
    assert (handover["kind"], handover["from_owner"], handover["to_owner"], handover["note"]) == (
        "assigned",
        px.orgs[0].name,
        center.name,
        "不属于物业",
    )
    row = Suggestion.objects.get(pk=px.sug[0].pk)
    assert (row.owner_organization, row.status) == (None, "assigned")
    assert SuggestionEvent.objects.filter(suggestion=row, kind="assigned").count() == 2
    with unchanged():
        gone = partner.get(path)
        again = partner.post(f"{path}/respond", {"message": "收到"})
    assert (gone.status_code, gone.json()["code"]) == (404, "suggestion_not_found")
    assert (again.status_code, again.json()["code"]) == (404, "suggestion_not_found")
    assert px.sug[0].pk not in _ids(partner.get("/staff/voice/suggestions"))
    # The center's community worker has it back.
    desk = staff_api(px.users["community"])
    assert desk.get(path).json()["owner"] == center.name


@pytest.mark.django_db
def test_a_partner_records_at_their_center_and_owns_it(px):
    """首接负责: a desk request and a forum's raised point recorded by partner staff belong to their
    organisation; the center's staff see them too; a partner working elsewhere cannot record there."""
    partner = staff_api(px.users["partner_here"])
    org = px.orgs[0]
    made = partner.post(
        "/staff/voice/suggestions",
        {"center_id": px.centers[0].pk, "kind": "help", "category": "services", "text": "来电希望上门理发"},
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["owner"], body["owner_organization_id"], body["channel"]) == (org.name, org.pk, "desk")
    assert [e["kind"] for e in body["events"]] == ["received"]
    assert partner.get(f"/staff/voice/suggestions/{body['id']}").json()["owner"] == org.name
    desk = staff_api(px.users["community"])
    assert desk.get(f"/staff/voice/suggestions/{body['id']}").json()["owner"] == org.name
    # A second partner organisation at the same center does not see the first one's record.
    rival_org = Organization.objects.create(name="社工站", kind=Organization.Kind.SOCIAL_ORG)
    rival_org.centers.add(px.centers[0])
    rival = staff_api(f.staff_with_role(StaffRole.Role.PARTNER_STAFF, organization=rival_org))
    with unchanged():
        hidden = rival.get(f"/staff/voice/suggestions/{body['id']}")
    assert (hidden.status_code, hidden.json()["code"]) == (404, "suggestion_not_found")

    forum = partner.post(
        "/staff/voice/engagements",
        {
            "center_id": px.centers[0].pk,
            "kind": "forum",
            "held_on": str(timezone.localdate()),
            "place": "多功能室",
            "participants": 9,
            "topics": "停车",
            "raised": [
                {"kind": "suggestion", "category": "environment", "text": "希望划出电动车停放区"},
                {"kind": "complaint", "category": "facilities", "text": "楼道灯经常不亮"},
            ],
        },
    )
    assert forum.status_code == 201, forum.content
    raised = Suggestion.objects.filter(tracking_no__in=forum.json()["suggestions"])
    assert (
        sorted((s.channel, s.owner_organization_id, s.recorded_by_id) for s in raised)
        == [("forum", org.pk, px.users["partner_here"].pk)] * 2
    )
    assert {s.pk for s in raised} <= _ids(partner.get("/staff/voice/suggestions"))
    # Partner staff of the organisation working at center 2 may not record at center 0.
    elsewhere = staff_api(px.users["partner_elsewhere"])
    with unchanged():
        refused = elsewhere.post(
            "/staff/voice/suggestions",
            {
                "center_id": px.centers[0].pk,
                "kind": "help",
                "category": "services",
                "text": "来电希望上门理发",
            },
        )
    assert (refused.status_code, refused.json()["code"]) == (404, "center_not_found")


@pytest.mark.django_db
def test_staff_filters_cannot_widen_the_scope(px):
    desk = staff_api(px.users["community"])
    for center in (px.centers[1].pk, px.centers[2].pk):
        assert desk.get("/staff/voice/suggestions", center=center).json() == []
    assert desk.get("/staff/voice/suggestions", q=px.sug[2].tracking_no).json() == []
    assert _ids(desk.get("/staff/voice/suggestions", q=px.sug[0].tracking_no)) == {px.sug[0].pk}
    assert _ids(desk.get("/staff/voice/suggestions", status="resolved")) == {px.done[0].pk, px.shown.pk}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_a_request_on_the_board_is_public(px, role):
    """Anyone reads the public view of ``shown`` by its number; its resident reads it all."""
    body = client_for(role, px).get(f"/suggestions/{px.shown.tracking_no}").json()
    if role == "resident":
        assert (body["id"], body["text"]) == (px.shown.pk, "门口路灯坏了")
    else:
        assert "text" not in body and "id" not in body
        assert (body["summary"], body["reply"], body["status"]) == (
            "居民反映门口路灯坏了",
            "路灯已修好",
            "resolved",
        )


@pytest.mark.django_db
def test_a_district_wide_survey(px, place):
    boss = px.users["district"]
    survey = services.survey_create(
        staff=boss,
        scope=staff_scope(boss),
        draft=SurveyDraft(
            title="全区需求调查",
            area="district",
            questions=[QuestionDraft(kind="rating", text="满意度", required=True)],
        ),
    )
    services.survey_publish(staff=boss, scope=staff_scope(boss), survey_id=survey.pk)
    # Only the district sees it among staff surveys.
    for role in STAFF:
        listed = survey.pk in _ids(staff_api(px.users[role]).get("/staff/voice/surveys"))
        assert listed == (role == "district"), role
    q = str(survey.questions.get().pk)
    # Every resident answers it, wherever they live; so does anyone signed in (it is for everyone).
    for role in ("resident", "other_resident", "community"):
        response = client_for(role, px).post(f"/surveys/{survey.pk}/responses", {"answers": {q: 4}})
        assert response.status_code == 201, (role, response.content)
    response = Api().post(f"/surveys/{survey.pk}/responses", {"answers": {q: 4}})
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
    assert Survey.objects.get(pk=survey.pk).responses_count == 3


# --- pages ---------------------------------------------------------------------------------------------

PAGE_ROLES = ("anonymous", *RESIDENTS, *STAFF)


PAGES: list[Page] = [
    page_row("GET", "surveys/", open_page(200), lambda m, t: "/surveys/"),
    page_row(
        "GET",
        "surveys/<id:survey_id>/",
        resident_page(200, staff=200),
        lambda m, t: f"/surveys/{m.pub[t].pk}/",
        True,
    ),
    page_row(
        "GET", "surveys/<id:survey_id>/", open_page(404), lambda m, t: f"/surveys/{m.draft[t].pk}/", True
    ),  # a draft
    page_row("GET", "suggestions/new/", resident_page(200), lambda m, t: "/suggestions/new/"),
    page_row("GET", "me/suggestions/", resident_page(200, staff=200), lambda m, t: "/me/suggestions/"),
    page_row(
        "POST",
        "suggestions/<id:suggestion_id>/rate/",
        resident_page(Moved("/suggestions/"), other=404, staff=404),
        lambda m, t: f"/suggestions/{m.done[t].pk}/rate/",
        True,
        body=lambda m, t: {"rating": "5"},
    ),
    page_row(
        "POST",
        "suggestions/<id:suggestion_id>/reopen/",
        resident_page(400, other=404, staff=404),
        lambda m, t: f"/suggestions/{m.done[t].pk}/reopen/",
        True,
        body=lambda m, t: {"reason": "没修好"},
    ),
    page_row(
        "GET",
        "suggestions/<str:tracking_no>/",
        resident_page(200, other=404, staff=404),
        lambda m, t: f"/suggestions/{m.sug[t].tracking_no}/",
        True,
    ),
    page_row("GET", "board/", open_page(200), lambda m, t: "/board/"),
    page_row(
        "GET",
        "centers/<id:center_id>/board/",
        open_page(200),
        lambda m, t: f"/centers/{m.centers[t].pk}/board/",
        True,
    ),
    page_row(
        "GET",
        "voice/photos/<id:photo_id>.jpg",
        open_page(404),
        lambda m, t: f"/voice/photos/{MISSING_PK}.jpg",
    ),
    page_row("GET", "console/voice/", console(), lambda m, t: "/console/voice/"),
    page_row("GET", "console/voice/export/", console(), lambda m, t: "/console/voice/export/"),
    page_row(
        "GET", "console/voice/suggestions/new/", console(), lambda m, t: "/console/voice/suggestions/new/"
    ),
    page_row(
        "GET",
        "console/voice/suggestions/<id:suggestion_id>/",
        console(seen(SEEN)),
        lambda m, t: f"/console/voice/suggestions/{m.sug[t].pk}/",
        True,
    ),
    page_row("GET", "console/voice/extensions/", console(), lambda m, t: "/console/voice/extensions/"),
    page_row("GET", "console/voice/surveys/", console(), lambda m, t: "/console/voice/surveys/"),
    page_row("GET", "console/voice/surveys/new/", console(), lambda m, t: "/console/voice/surveys/new/"),
    page_row(
        "GET",
        "console/voice/surveys/<id:survey_id>/",
        console(seen(SURVEYS_SEEN)),
        lambda m, t: f"/console/voice/surveys/{m.pub[t].pk}/",
        True,
    ),
    page_row(
        "GET",
        "console/voice/surveys/<id:survey_id>/edit/",
        console(seen(SURVEYS_SEEN)),
        lambda m, t: f"/console/voice/surveys/{m.draft[t].pk}/edit/",
        True,
    ),
    page_row(
        "GET",
        "console/voice/surveys/<id:survey_id>/export/",
        console(seen(SURVEYS_SEEN)),
        lambda m, t: f"/console/voice/surveys/{m.pub[t].pk}/export/",
        True,
    ),
    page_row(
        "GET",
        "console/voice/surveys/<id:survey_id>/poster/",
        console(seen(SURVEYS_SEEN)),
        lambda m, t: f"/console/voice/surveys/{m.pub[t].pk}/poster/",
        True,
    ),
    page_row("GET", "console/voice/engagements/", console(), lambda m, t: "/console/voice/engagements/"),
    page_row(
        "GET", "console/voice/engagements/new/", console(), lambda m, t: "/console/voice/engagements/new/"
    ),
    page_row(
        "GET",
        "console/voice/engagements/<id:engagement_id>/",
        console(seen(SEEN)),
        lambda m, t: f"/console/voice/engagements/{m.eng[t].pk}/",
        True,
    ),
    page_row("GET", "console/voice/rates/", console(), lambda m, t: "/console/voice/rates/"),
    page_row("GET", "console/voice/settings/", console(), lambda m, t: "/console/voice/settings/"),
]


@pytest.mark.django_db
def test_voice_pages_for_every_role(px):
    play_pages(
        px,
        PAGES,
        PAGE_ROLES,
        lambda role: page_browser(role, px.users.__getitem__, RESIDENTS),
        guard=unchanged,
    )


MATRIX = Matrix(
    api_roles=ROLES,
    api_cells=param_cells(CASES, lambda op: (op.method, op.template)),
    page_roles=PAGE_ROLES,
    page_cells=cells(PAGES, PAGE_ROLES, page_key),
)
