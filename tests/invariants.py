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
from livingroom.points.models import Account, Entry, Redemption, Reward, StockMove
from livingroom.programs.models import (
    Attendance,
    Draw,
    Enrollment,
    Payment,
    Program,
    ProgramSession,
    Talent,
)
from livingroom.volunteering.models import (
    Activity,
    Certificate,
    Correction,
    ServiceRecord,
    Shift,
    Signup,
    Volunteer,
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
    # volunteering
    Volunteer,
    Activity,
    Shift,
    Signup,
    ServiceRecord,
    Correction,
    Certificate,
    # points
    Account,
    Entry,
    Reward,
    Redemption,
    StockMove,
)


def snapshot(ignore: tuple[str, ...] = ()) -> dict[str, Any]:
    """Row counts of ``COUNTED`` (except ``ignore``), plus the facts a refusal could alter in place."""
    state: dict[str, Any] = {m.__name__: m.objects.count() for m in COUNTED if m.__name__ not in ignore}
    state["revoked tokens"] = ApiToken.objects.filter(revoked_at__isnull=False).count()
    state["residents"] = list(
        Resident.objects.order_by("pk").values_list("pk", "id_number_hash", "home_community_id", "real_name")
    )
    state["sms attempts"] = list(SmsCode.objects.order_by("pk").values_list("attempts", "consumed_at"))
    # Volunteering and points: what a refusal could move without adding a row.
    state["volunteers"] = list(Volunteer.objects.order_by("pk").values_list("pk", "status", "minutes_total"))
    state["shifts"] = list(Shift.objects.order_by("pk").values_list("pk", "taken", "status", "confirmed_at"))
    state["signups"] = list(
        Signup.objects.order_by("pk").values_list("pk", "status", "checked_in_at", "checked_out_at")
    )
    state["records"] = list(
        ServiceRecord.objects.order_by("pk").values_list("pk", "minutes", "points_awarded")
    )
    state["corrections"] = list(Correction.objects.order_by("pk").values_list("pk", "status"))
    state["balances"] = list(Account.objects.order_by("pk").values_list("pk", "balance"))
    state["stock"] = list(
        Reward.objects.order_by("pk").values_list("pk", "stock", "price_points", "is_active")
    )
    state["redemptions"] = list(Redemption.objects.order_by("pk").values_list("pk", "status"))
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
