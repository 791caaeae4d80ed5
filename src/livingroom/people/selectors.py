"""Reads about people, already limited to what the caller may see."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from livingroom.core.errors import InvalidInput, NotFound
from livingroom.core.scopes import StaffScope
from livingroom.core.validators import normalize_phone, search_text
from livingroom.people import errors, passes
from livingroom.people.models import (
    Dependant,
    EligibilityVerification,
    ErasureRequest,
    PassUse,
    Resident,
    User,
    id_number_index,
    phone_index,
)

ELDERLY_BANDS = ((80, "elderly_80"), (70, "elderly_70"), (60, "elderly_60"))


@dataclass(frozen=True)
class Eligibility:
    kind: str
    source: str  # "age" or "verified"
    valid_until: dt.date | None
    platform: str = ""


def resident_of(user: User) -> Resident | None:
    if not user.is_authenticated:
        return None
    return (
        Resident.objects.select_related("home_community__street", "home_community__center")
        .filter(user=user)
        .first()
    )


def resident_eligibilities(resident: Resident, *, on: dt.date | None = None) -> list[Eligibility]:
    """The groups a resident belongs to on a day: elderly by age, the rest by valid verifications."""
    day = on or timezone.localdate()
    found: list[Eligibility] = []
    age = resident.age_on(day)
    for threshold, kind in ELDERLY_BANDS:
        if age >= threshold:
            found.append(Eligibility(kind=kind, source="age", valid_until=None))
            break
    for v in resident.verifications.filter(revoked_at__isnull=True).order_by("kind"):
        if v.is_valid_on(day):
            found.append(
                Eligibility(kind=v.kind, source="verified", valid_until=v.valid_until, platform=v.platform)
            )
    return found


def residents_for_staff(scope: StaffScope) -> QuerySet[Resident]:
    return scope.filter(
        Resident.objects.select_related("user", "home_community__street"),
        community="home_community",
        residents=True,
    )


def resident_search(scope: StaffScope, q: str, *, limit: int = 50) -> QuerySet[Resident]:
    """By name, pinyin initials (``zs``), full pinyin, the last 4 digits of a phone, a whole phone
    or a whole ID number."""
    qs = residents_for_staff(scope)
    q = search_text(q, max_length=60)
    if not q:
        return qs.order_by("-created_at")[:limit]
    if re.fullmatch(r"[0-9]{4}", q):
        qs = qs.filter(user__phone_tail=q)
    elif re.fullmatch(r"\+?[0-9 -]{11,16}", q):
        try:
            qs = qs.filter(user__phone_hash=phone_index(normalize_phone(q)))
        except InvalidInput:
            qs = qs.none()
    elif re.fullmatch(r"[0-9]{17}[0-9Xx]", q):
        qs = qs.filter(id_number_hash=id_number_index(q.upper()))
    elif re.fullmatch(r"[A-Za-z]{1,30}", q):
        low = q.lower()
        qs = qs.filter(name_initials__startswith=low) | qs.filter(name_pinyin__startswith=low)
    else:
        qs = qs.filter(real_name__contains=q[:30])
    return qs.order_by("real_name", "id")[:limit]


def resident_for_staff(scope: StaffScope, resident_id: int) -> Resident:
    """One resident in scope; another community's resident is simply not found."""
    resident = residents_for_staff(scope).filter(pk=resident_id).first()
    if resident is None:
        raise NotFound()
    return resident


def verifications_of(resident: Resident) -> QuerySet[EligibilityVerification]:
    return resident.verifications.select_related("verified_by").order_by("-verified_at")


def dependants_of(resident: Resident) -> QuerySet[Dependant]:
    return resident.dependants.filter(removed_at__isnull=True).order_by("birth_date", "id")


def resident_by_pass(token: str, *, now: float | None = None) -> Resident:
    """Who shows this pass, without using it up: a counter previews the eater's price first and
    the serving that follows accepts the pass once (``services.resident_pass_verify``)."""
    claims = passes.fresh_claims(token, shown_at=now)
    if PassUse.objects.filter(nonce=claims.nonce).exists():
        raise errors.PassReplayed(field="token")
    found = Resident.objects.select_related("user", "home_community__street")
    resident = found.filter(pk=claims.resident_id).first()
    if resident is None or not resident.user.is_active:
        raise errors.PassInvalid(field="token")
    return resident


def erasure_pending_of(user: User) -> ErasureRequest:
    """The caller's erasure request that still waits; none is not found."""
    found = ErasureRequest.objects.filter(user=user, status=ErasureRequest.Status.PENDING).first()
    if found is None:
        raise errors.ErasureNotFound()
    return found
