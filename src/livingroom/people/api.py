"""People API: sign-in, the caller's profile and pass, staff resident search, pass verification."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from livingroom.core.errors import NotAuthenticated
from livingroom.core.masking import mask_certificate
from livingroom.core.middleware import client_ip
from livingroom.core.permissions import staff_scope_of
from livingroom.core.schemas import DbId, ErrorOut
from livingroom.people import selectors, services
from livingroom.people.auth import ResidentSession, TokenAuth, acting_user
from livingroom.people.models import (
    ApiToken,
    Dependant,
    EligibilityVerification,
    ErasureRequest,
    Resident,
    User,
)
from livingroom.people.scopes import staff_scope
from livingroom.places.devices import device_of

auth_router = Router(tags=["auth"])
me_router = Router(tags=["me"])
staff_router = Router(tags=["staff: residents"])
device_router = Router(tags=["devices"])


class SmsCodeIn(Schema):
    phone: str = Field(..., max_length=32, examples=["13800138000"])


class SmsCodeOut(Schema):
    sent: bool
    expires_in: int
    resend_in: int


class LoginIn(Schema):
    phone: str = Field(..., max_length=32)
    code: str = Field(..., max_length=10)


class StaffLoginIn(Schema):
    username: str = Field(..., max_length=150)
    password: str = Field(..., max_length=200)
    totp: str = Field(..., max_length=10)


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_at: dt.datetime
    kind: str


class EligibilityOut(Schema):
    kind: str
    source: str
    valid_until: dt.date | None


class CommunityRef(Schema):
    id: int
    code: str
    name: str
    street: str
    center_id: int | None


class ProfileOut(Schema):
    real_name: str
    id_number_masked: str
    birth_date: dt.date
    sex: str
    home_community: CommunityRef
    consent_at: dt.datetime
    consent_version: str
    eligibilities: list[EligibilityOut]


class MeOut(Schema):
    id: int
    phone_masked: str
    username: str | None
    display_name: str
    is_staff_member: bool
    profile: ProfileOut | None


class ProfileIn(Schema):
    real_name: str = Field(..., max_length=50)
    id_number: str = Field(..., max_length=30)
    home_community_id: int = Field(..., ge=1)
    consent: bool = False


class PassOut(Schema):
    token: str
    issued_at: dt.datetime
    expires_at: dt.datetime


class PassVerifyIn(Schema):
    token: str = Field(..., max_length=120)
    purpose: str = Field("", max_length=40)


class ResidentOut(Schema):
    id: int
    name_masked: str
    id_number_masked: str
    phone_masked: str
    sex: str
    age: int
    home_community_id: int
    home_community: str
    eligibilities: list[EligibilityOut]


class RevealIn(Schema):
    reason: str = Field(..., max_length=200)


class RevealOut(Schema):
    id_number: str


class VerificationIn(Schema):
    kind: str = Field(..., max_length=20)
    platform: str = Field("", max_length=60)
    credential_number: str = Field("", max_length=60)
    evidence_note: str = Field("", max_length=1000)
    valid_until: dt.date | None = None


class VerificationOut(Schema):
    id: int
    kind: str
    platform: str
    credential_masked: str
    valid_until: dt.date | None
    verified_at: dt.datetime


def _profile(resident: Resident) -> ProfileOut:
    c = resident.home_community
    return ProfileOut(
        real_name=resident.real_name,  # the resident's own data, to the resident
        id_number_masked=resident.masked_id_number,
        birth_date=resident.birth_date,
        sex=resident.sex,
        home_community=CommunityRef(
            id=c.pk,
            code=c.code,
            name=c.name,
            street=c.street.name,
            center_id=getattr(getattr(c, "center", None), "pk", None),
        ),
        consent_at=resident.consent_at,
        consent_version=resident.consent_version,
        eligibilities=[
            EligibilityOut(kind=e.kind, source=e.source, valid_until=e.valid_until)
            for e in selectors.resident_eligibilities(resident)
        ],
    )


def _resident_out(resident: Resident) -> ResidentOut:
    return ResidentOut(
        id=resident.pk,
        name_masked=resident.masked_name,
        id_number_masked=resident.masked_id_number,
        phone_masked=resident.user.masked_phone,
        sex=resident.sex,
        age=resident.age_on(timezone.localdate()),
        home_community_id=resident.home_community_id,
        home_community=resident.home_community.name,
        eligibilities=[
            EligibilityOut(kind=e.kind, source=e.source, valid_until=e.valid_until)
            for e in selectors.resident_eligibilities(resident)
        ],
    )


# --- auth -------------------------------------------------------------------------------------


@auth_router.post(
    "/sms-code", response={202: SmsCodeOut, 400: ErrorOut, 429: ErrorOut}, summary="Send a sign-in code"
)
def sms_code(request: HttpRequest, payload: SmsCodeIn) -> Status[SmsCodeOut]:
    issued = services.sms_code_request(phone=payload.phone, ip=client_ip(request))
    return Status(202, SmsCodeOut(sent=True, expires_in=issued.expires_in, resend_in=issued.resend_in))


@auth_router.post(
    "/login",
    response={200: TokenOut, 400: ErrorOut, 401: ErrorOut, 429: ErrorOut},
    summary="Resident sign-in",
)
def login(request: HttpRequest, payload: LoginIn) -> TokenOut:
    user = services.resident_login_with_sms(phone=payload.phone, code=payload.code)
    raw, token = services.api_token_issue(user=user, kind=ApiToken.Kind.RESIDENT)
    return TokenOut(token=raw, expires_at=token.expires_at, kind=token.kind)


@auth_router.post(
    "/staff-login",
    response={200: TokenOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 423: ErrorOut, 429: ErrorOut},
    summary="Staff sign-in (password + TOTP)",
)
def staff_login(request: HttpRequest, payload: StaffLoginIn) -> TokenOut:
    user = services.staff_authenticate(
        username=payload.username, password=payload.password, totp=payload.totp
    )
    if staff_scope(user) is None:
        raise NotAuthenticated(code="not_staff")
    raw, token = services.api_token_issue(user=user, kind=ApiToken.Kind.STAFF)
    return TokenOut(token=raw, expires_at=token.expires_at, kind=token.kind)


# --- me ---------------------------------------------------------------------------------------


@me_router.get("/me", response=MeOut, summary="The signed-in user")
def me(request: HttpRequest) -> MeOut:
    user: User = acting_user(request)
    resident = selectors.resident_of(user)
    return MeOut(
        id=user.pk,
        phone_masked=user.masked_phone,
        username=user.username,
        display_name=user.display_name,
        is_staff_member=staff_scope(user) is not None,
        profile=_profile(resident) if resident else None,
    )


@me_router.put(
    "/me/profile",
    response={200: ProfileOut, 400: ErrorOut, 409: ErrorOut},
    summary="Create or update the real-name profile",
)
def put_profile(request: HttpRequest, payload: ProfileIn) -> ProfileOut:
    user: User = acting_user(request)
    services.resident_profile_update(
        user=user,
        real_name=payload.real_name,
        id_number=payload.id_number,
        home_community_id=payload.home_community_id,
        consent=payload.consent,
    )
    resident = selectors.resident_of(user)
    assert resident is not None
    return _profile(resident)


@me_router.get(
    "/me/pass", response={200: PassOut, 409: ErrorOut}, summary="A fresh resident pass (valid 60 s, once)"
)
def my_pass(request: HttpRequest) -> PassOut:
    issued = services.resident_pass_issue(user=acting_user(request))
    return PassOut(token=issued.token, issued_at=issued.issued_at, expires_at=issued.expires_at)


@me_router.post("/auth/logout", response={204: None}, summary="Revoke the bearer token in use")
def logout(request: HttpRequest) -> Status[None]:
    token = getattr(request, "api_token", None)
    if token is not None:
        services.api_token_revoke(token=token, actor=acting_user(request))
    return Status(204, None)


# --- staff ------------------------------------------------------------------------------------


@staff_router.get(
    "/residents",
    response={200: list[ResidentOut], 400: ErrorOut},
    summary="Search residents in scope (masked)",
)
def staff_residents(request: HttpRequest, q: str = "", limit: int = 50) -> list[ResidentOut]:
    limit = max(1, min(limit, 200))
    found = selectors.resident_search(staff_scope_of(request), q[:60], limit=limit)
    return [_resident_out(r) for r in found]


@staff_router.get("/residents/{resident_id}", response={200: ResidentOut, 400: ErrorOut, 404: ErrorOut})
def staff_resident(request: HttpRequest, resident_id: DbId) -> ResidentOut:
    return _resident_out(selectors.resident_for_staff(staff_scope_of(request), resident_id))


@staff_router.post(
    "/residents/{resident_id}/reveal",
    response={200: RevealOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Show the full ID number (audited)",
)
def staff_reveal(request: HttpRequest, resident_id: DbId, payload: RevealIn) -> RevealOut:
    scope = staff_scope_of(request)
    resident = selectors.resident_for_staff(scope, resident_id)
    number = services.resident_reveal_id_number(
        scope=scope,
        actor=acting_user(request),
        resident=resident,
        reason=payload.reason,
    )
    return RevealOut(id_number=number)


@staff_router.post(
    "/residents/{resident_id}/verifications",
    response={201: VerificationOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Verify an eligibility (rider, disabled, low income, park worker)",
)
def staff_verify(request: HttpRequest, resident_id: DbId, payload: VerificationIn) -> Status[VerificationOut]:
    scope = staff_scope_of(request)
    resident = selectors.resident_for_staff(scope, resident_id)
    v = services.eligibility_verify(
        scope=scope,
        actor=acting_user(request),
        resident=resident,
        kind=payload.kind,  # type: ignore[attr-defined]
        platform=payload.platform,
        credential_number=payload.credential_number,
        evidence_note=payload.evidence_note,
        valid_until=payload.valid_until,
    )
    return Status(201, _verification_out(v))


def _verification_out(v: EligibilityVerification) -> VerificationOut:
    return VerificationOut(
        id=v.pk,
        kind=v.kind,
        platform=v.platform,
        credential_masked=mask_certificate(v.credential_number),
        valid_until=v.valid_until,
        verified_at=v.verified_at,
    )


class VerifiedPassOut(Schema):
    resident_id: int
    name_masked: str
    home_community_id: int
    eligibilities: list[EligibilityOut]


def _verified(resident: Resident) -> VerifiedPassOut:
    return VerifiedPassOut(
        resident_id=resident.pk,
        name_masked=resident.masked_name,
        home_community_id=resident.home_community_id,
        eligibilities=[
            EligibilityOut(kind=e.kind, source=e.source, valid_until=e.valid_until)
            for e in selectors.resident_eligibilities(resident)
        ],
    )


@staff_router.post(
    "/passes/verify",
    response={200: VerifiedPassOut, 400: ErrorOut, 409: ErrorOut},
    summary="A staff scanner checks a resident pass",
)
def staff_pass_verify(request: HttpRequest, payload: PassVerifyIn) -> VerifiedPassOut:
    resident = services.resident_pass_verify(
        token=payload.token, staff=acting_user(request), purpose=payload.purpose
    )
    return _verified(resident)


@device_router.post(
    "/passes/verify",
    response={200: VerifiedPassOut, 400: ErrorOut, 401: ErrorOut, 409: ErrorOut},
    summary="A signed device checks a resident pass",
)
def device_pass_verify(request: HttpRequest, payload: PassVerifyIn) -> VerifiedPassOut:
    resident = services.resident_pass_verify(
        token=payload.token, device=device_of(request), purpose=payload.purpose
    )
    return _verified(resident)


# --- family members (dependants) ---------------------------------------------------------------


class DependantIn(Schema):
    name: str = Field(..., min_length=1, max_length=50)
    birth_date: dt.date
    relation: Literal["child", "grandchild", "parent", "spouse", "other"]


class DependantOut(Schema):
    id: int
    name: str
    birth_date: dt.date
    relation: str


def _dependant(d: Dependant) -> DependantOut:
    return DependantOut(id=d.pk, name=d.name, birth_date=d.birth_date, relation=d.relation)


@me_router.get(
    "/me/dependants", response=list[DependantOut], summary="My family members (I sign up for them)"
)
def my_dependants(request: HttpRequest) -> list[DependantOut]:
    resident = selectors.resident_of(acting_user(request))
    return [_dependant(d) for d in selectors.dependants_of(resident)] if resident else []


@me_router.post(
    "/me/dependants",
    response={201: DependantOut, 400: ErrorOut, 409: ErrorOut},
    summary="Add a family member (a child for a childcare class)",
)
def add_dependant(request: HttpRequest, payload: DependantIn) -> Status[DependantOut]:
    d = services.dependant_add(
        user=acting_user(request), name=payload.name, birth_date=payload.birth_date, relation=payload.relation
    )
    return Status(201, _dependant(d))


@me_router.delete(
    "/me/dependants/{dependant_id}",
    response={204: None, 400: ErrorOut, 404: ErrorOut},
    summary="Remove a family member from my list",
)
def remove_dependant(request: HttpRequest, dependant_id: DbId) -> Status[None]:
    services.dependant_remove(user=acting_user(request), dependant_id=dependant_id)
    return Status(204, None)


# --- personal data: download and erasure --------------------------------------------------------

# A resident's own token or browser session; a staff token is refused (401).
resident_only = [TokenAuth(kind=ApiToken.Kind.RESIDENT), ResidentSession()]


class ErasureOut(Schema):
    id: int
    status: str
    requested_at: dt.datetime
    due_at: dt.datetime
    cancelled_at: dt.datetime | None
    done_at: dt.datetime | None


def _erasure(e: ErasureRequest) -> ErasureOut:
    return ErasureOut(
        id=e.pk,
        status=e.status,
        requested_at=e.requested_at,
        due_at=e.due_at,
        cancelled_at=e.cancelled_at,
        done_at=e.done_at,
    )


@me_router.get(
    "/me/data",
    response={200: dict[str, Any], 401: ErrorOut},
    auth=resident_only,
    summary="Download everything held about me (audited)",
)
def my_data(request: HttpRequest) -> dict[str, Any]:
    return services.personal_data_export(user=acting_user(request))


@me_router.get(
    "/me/erasure",
    response={200: ErasureOut, 401: ErrorOut, 404: ErrorOut},
    auth=resident_only,
    summary="My erasure request waiting to be carried out",
)
def my_erasure(request: HttpRequest) -> ErasureOut:
    return _erasure(selectors.erasure_pending_of(acting_user(request)))


@me_router.post(
    "/me/erasure",
    response={201: ErasureOut, 401: ErrorOut, 409: ErrorOut},
    auth=resident_only,
    summary="Ask for my personal data to be erased (after 7 days to change my mind)",
)
def request_erasure(request: HttpRequest) -> Status[ErasureOut]:
    return Status(201, _erasure(services.erasure_request(user=acting_user(request))))


@me_router.delete(
    "/me/erasure",
    response={200: ErasureOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=resident_only,
    summary="Cancel my erasure request while it waits",
)
def cancel_erasure(request: HttpRequest) -> ErasureOut:
    return _erasure(services.erasure_cancel(user=acting_user(request)))
