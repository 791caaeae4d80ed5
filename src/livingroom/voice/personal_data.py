"""What residents' voice holds about a resident, for their data download and their erasure
(registered with ``people.personal_data`` in ``VoiceConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q

from livingroom.core.audit import audit_log
from livingroom.people.models import Resident
from livingroom.people.personal_data import register
from livingroom.voice.models import Answer, Photo, Response, Suggestion, SuggestionEvent

# What a request erased at its author's request says instead of their words.
ERASED_TEXT = "（内容已应提出人要求删除）"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def export(resident: Resident) -> dict[str, Any]:
    suggestions = (
        Suggestion.objects.filter(resident=resident).select_related("center").order_by("received_at", "id")
    )
    responses = Response.objects.filter(respondent_id=resident.user_id).select_related("survey")
    return {
        "suggestions": [
            {
                "tracking_no": s.tracking_no,
                "center": s.center.name,
                "kind": s.kind,
                "category": s.category,
                "text": s.text,
                "status": s.status,
                "received_at": _iso(s.received_at),
                "reply": s.reply,
                "rating": s.rating,
                "rating_comment": s.rating_comment,
                "photos": s.photos.filter(kind=Photo.Kind.REPORT).count(),
            }
            for s in suggestions
        ],
        "survey_responses": [
            {
                "survey": r.survey.title,
                "given_on": _iso(r.given_on),
                "answers": [
                    {"question": a.question.text, "choice": a.choice, "number": a.number, "text": a.text}
                    for a in Answer.objects.filter(response=r)
                    .select_related("question")
                    .order_by("question__position")
                ],
            }
            for r in responses.order_by("given_on")
        ],
    }


def erase(resident: Resident) -> dict[str, int]:
    """The resident's words and photos go: the text of their requests, their comments, the notes of
    their reopenings and follow-ups, the photos sent with a request. The requests stay (the
    center's rates count them), as do staff replies and before/after photos. Named survey answers
    lose their name, as anonymous ones never had one."""
    with transaction.atomic(durable=True):
        mine = Suggestion.objects.filter(resident=resident)
        texts = mine.update(text=ERASED_TEXT, rating_comment="")
        notes = (
            SuggestionEvent.objects.filter(suggestion__in=mine)
            .filter(Q(actor_id=resident.user_id) | Q(kind=SuggestionEvent.Kind.FOLLOW_UP))
            .exclude(note="")
            .update(note="")
        )
        photos, _ = Photo.objects.filter(suggestion__in=mine, kind=Photo.Kind.REPORT).delete()
        responses = Response.objects.filter(respondent_id=resident.user_id).update(respondent=None)
        audit_log(
            "voice.resident.erased",
            obj=resident,
            data={"suggestions": texts, "notes": notes, "photos": photos, "responses": responses},
        )
    return {
        "suggestions_cleared": texts,
        "notes_cleared": notes,
        "photos_deleted": photos,
        "responses_unlinked": responses,
    }


register("voice", export=export, erase=erase)
