"""What must not change when a request is refused, and the shape every API refusal has.

Later modules add their scarce rows (bookings, enrolments, meals, point movements) to ``COUNTED``
so that every refusal test in the suite also proves nothing was half-written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from livingroom.booking.models import (
    Booking,
    BookingRules,
    BookingSeries,
    BookingSuspension,
    Closure,
    RehabNote,
    Resource,
    SpaceHours,
)
from livingroom.core.models import AuditEvent, RequestNonce
from livingroom.notices.models import Notice
from livingroom.people.models import (
    ApiToken,
    Dependant,
    EligibilityVerification,
    PassUse,
    Resident,
    SmsCode,
    SmsOutbox,
    User,
)
from livingroom.programs.models import (
    Attendance,
    Draw,
    Enrollment,
    Payment,
    Program,
    ProgramSession,
    Talent,
)

COUNTED = (
    AuditEvent,
    Resident,
    EligibilityVerification,
    PassUse,
    SmsCode,
    SmsOutbox,
    ApiToken,
    User,
    RequestNonce,
    # booking
    Booking,
    BookingSeries,
    BookingSuspension,
    RehabNote,
    Closure,
    BookingRules,
    Resource,
    SpaceHours,
    # notices
    Notice,
    # programs
    Dependant,
    Program,
    ProgramSession,
    Enrollment,
    Attendance,
    Payment,
    Talent,
    Draw,
)


def snapshot(ignore: tuple[str, ...] = ()) -> dict[str, Any]:
    """Row counts of ``COUNTED`` (except ``ignore``), plus the facts a refusal could alter in place."""
    state: dict[str, Any] = {m.__name__: m.objects.count() for m in COUNTED if m.__name__ not in ignore}
    state["revoked tokens"] = ApiToken.objects.filter(revoked_at__isnull=False).count()
    state["residents"] = list(
        Resident.objects.order_by("pk").values_list("pk", "id_number_hash", "home_community_id", "real_name")
    )
    state["sms attempts"] = list(SmsCode.objects.order_by("pk").values_list("attempts", "consumed_at"))
    return state


@contextlib.contextmanager
def nothing_changes(ignore: tuple[str, ...] = ()) -> Iterator[None]:
    before = snapshot(ignore)
    yield
    assert snapshot(ignore) == before


def assert_error(response, status: int, code: str, field: str | None = "-") -> dict:  # type: ignore[no-untyped-def]
    """A JSON refusal ``{code, message, field}`` with this status and code (and field, if given)."""
    assert response.status_code == status, response.content[:400]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "field"} and body["message"], body
    assert body["code"] == code, body
    if field != "-":
        assert body["field"] == field, body
    return body
