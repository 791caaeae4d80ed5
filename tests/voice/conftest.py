"""A world for residents' voice: 固戍's center (the ``place`` fixture's first) with its desk worker,
a partner organisation working there, residents of 固戍 and of 龙珠, a rider, and helpers to
build surveys and suggestions in one line."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from PIL import Image

from livingroom.people.models import EligibilityVerification, StaffRole
from livingroom.people.scopes import staff_scope
from livingroom.voice import services
from livingroom.voice.services import QuestionDraft, SuggestionDraft, SurveyDraft
from tests import factories as f


def at(days: int = 0, hour: int = 9, minute: int = 0) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_default_timezone())


def jpeg_bytes(width: int = 64, height: int = 48, color: str = "red", fmt: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format=fmt)
    return out.getvalue()


def standard_questions() -> list[QuestionDraft]:
    """1 single (required), 2 multiple, 3 rating (required), 4 short text shown only if 1 = "b",
    5 long text."""
    return [
        QuestionDraft(
            kind="single", text="您多久来一次客厅？", required=True, choices=["每天", "每周", "很少"]
        ),
        QuestionDraft(
            kind="multiple", text="您希望增加哪些服务？", choices=["自习室", "舞蹈室", "助餐", "康复"]
        ),
        QuestionDraft(kind="rating", text="您对客厅的满意度", required=True, scale_max=5),
        QuestionDraft(kind="short_text", text="每周来做什么？", show_if_position=1, show_if_choice="b"),
        QuestionDraft(kind="long_text", text="其他建议"),
    ]


@pytest.fixture
def voice_world(place, roles):
    center = place["centers"][0]
    desk = roles["community"]
    org = f.OrganizationFactory(name="物业服务中心")
    org.centers.add(center)
    partner = f.staff_with_role(StaffRole.Role.PARTNER_STAFF, organization=org)
    residents = [f.ResidentFactory(home_community=place["communities"][0]) for _ in range(3)]
    outsider = f.ResidentFactory(home_community=place["communities"][1])
    far = f.ResidentFactory(home_community=place["communities"][2])
    rider = residents[2]
    EligibilityVerification.objects.create(
        resident=rider, kind=EligibilityVerification.Kind.RIDER, platform="美团", verified_by=desk
    )

    def survey(
        *,
        publish: bool = True,
        anonymous: bool = False,
        audience: str = "everyone",
        area: str = "community",
        questions=None,
        by=None,
    ):
        staff = by or desk
        draft = SurveyDraft(
            title="百姓客厅需求调查",
            area=area,
            community_id=place["communities"][0].pk if area == "community" else None,
            street_id=place["streets"][0].pk if area == "street" else None,
            audience=audience,
            anonymous=anonymous,
            questions=questions or standard_questions(),
        )
        created = services.survey_create(staff=staff, scope=staff_scope(staff), draft=draft)
        if publish:
            created = services.survey_publish(staff=staff, scope=staff_scope(staff), survey_id=created.pk)
        return created

    def suggestion(
        resident=None,
        *,
        kind: str = "suggestion",
        category: str = "facilities",
        text: str = "希望在二楼增设一个药箱",
        now=None,
        photos=(),
    ):
        who = resident or residents[0]
        return services.suggestion_submit(
            user=who.user,
            draft=SuggestionDraft(
                center_id=center.pk, kind=kind, category=category, text=text, photos=list(photos)
            ),
            now=now,
        )

    return {
        "center": center,
        "other_center": place["centers"][2],
        "desk": desk,
        "scope": staff_scope(desk),
        "org": org,
        "partner": partner,
        "residents": residents,
        "rider": rider,
        "outsider": outsider,
        "far": far,
        "roles": roles,
        "place": place,
        "survey": survey,
        "suggestion": suggestion,
    }
