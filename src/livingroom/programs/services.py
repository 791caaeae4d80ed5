"""Every change to courses, enrolments, attendance, payments and talents.

Each function owns its transaction and writes an audit event. Seats and waiting-list places are
taken with conditional UPDATEs of the program row (see ``models``); that row is the one lock
every change of a program's seats takes, first, so enrolments, cancellations, promotions and
the opening draw of one program run one after another, and never deadlock on each other.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from livingroom.booking.calendar import FIRST_YEAR, LAST_YEAR, local_day, when_label
from livingroom.booking.services import (
    ReservationRequest,
    program_reservations_cancel,
    program_reservations_make,
)
from livingroom.core.audit import audit_log
from livingroom.core.errors import NotFound
from livingroom.core.scopes import StaffScope
from livingroom.notices.services import notice_send, notices_send_many
from livingroom.people import errors as people_errors
from livingroom.people.models import Dependant, EligibilityVerification, Resident, User
from livingroom.people.services import resident_pass_verify
from livingroom.places.models import Center, Community, Device, Organization, Space
from livingroom.programs import errors, payments
from livingroom.programs.models import (
    MAX_CAPACITY,
    MAX_PRICE_FEN,
    MAX_WAITLIST,
    Attendance,
    Draw,
    Enrollment,
    Payment,
    Program,
    ProgramSession,
    Talent,
)

logger = logging.getLogger(__name__)

MAX_SESSIONS = 52
MAX_SESSION_MINUTES = 12 * 60
MAX_PARTY = 6
MAX_FAIR_SECONDS = 600
VERIFIED_KINDS = frozenset(EligibilityVerification.Kind.values)


# --- helpers ------------------------------------------------------------------------------------


def _resident_of(user: User) -> Resident:
    resident = Resident.objects.select_related("home_community", "user").filter(user=user).first()
    if resident is None:
        raise people_errors.ProfileIncomplete()
    return resident


def _yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"


def _first_session(program: Program) -> ProgramSession | None:
    return program.sessions.filter(status=ProgramSession.Status.SCHEDULED).order_by("starts_at").first()


def _when(program: Program) -> str:
    first = _first_session(program)
    return when_label(first.starts_at, first.ends_at) if first else ""


def _params(enrollment: Enrollment, **extra: str) -> dict[str, str]:
    """A notice's words; callers that tell many people at once pass ``when`` (the first
    session) so it is looked up once."""
    program = enrollment.program
    if "when" not in extra:
        extra["when"] = _when(program)
    return {
        "program": program.title,
        "center": program.center.name,
        "who": enrollment.participant_name,
        **extra,
    }


def _notify(enrollment: Enrollment, kind: str, *, sms: bool = False, **extra: str) -> None:
    notice_send(
        user=enrollment.resident.user,
        kind=kind,
        params=_params(enrollment, **extra),
        link=f"/programs/{enrollment.program_id}/",
        sms=sms,
    )


def draw_key(seed: str, party: str) -> str:
    """A party's place in the opening draw: ascending ``sha256("<seed>:<party>")``."""
    return hashlib.sha256(f"{seed}:{party}".encode()).hexdigest()


def _lock_program(program_id: int) -> Program:
    program = (
        Program.objects.select_for_update(of=("self",)).select_related("center").filter(pk=program_id).first()
    )
    if program is None:
        raise errors.ProgramNotFound()
    return program


# The two statements of a rush, written out: one round trip each, nothing for the ORM to build.
# RETURNING works on PostgreSQL and on SQLite 3.35+ (as Django itself requires).
TAKE_SEAT = (
    "UPDATE programs_program SET seats_taken = seats_taken + 1 WHERE id = %s AND seats_taken < capacity"
)
TAKE_PLACE = (
    "UPDATE programs_program SET waitlist_count = waitlist_count + 1"
    " WHERE id = %s AND waitlist_count < waitlist_size RETURNING waitlist_count"
)
DRAW_PENDING = "SELECT draw_done_at FROM programs_program WHERE id = %s"


def _take_seat(program_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(TAKE_SEAT, [program_id])
        return cursor.rowcount == 1


def _take_waitlist_place(program_id: int) -> int | None:
    """The next waiting-list position, or None when the list is full (the UPDATE's own value)."""
    with connection.cursor() as cursor:
        cursor.execute(TAKE_PLACE, [program_id])
        row = cursor.fetchone()
    return int(row[0]) if row else None


class _DrawMade(Exception):
    """Rolls back a request that found the opening draw made meanwhile (it is tried again)."""


def _draw_pending(program_id: int) -> bool:
    """Whether the opening draw is still to come, read under a lock the draw waits for.

    On PostgreSQL a shared lock (``FOR SHARE``): requests in the window do not queue on each
    other, only the draw's ``FOR UPDATE`` waits for them (and they for it). SQLite's writers run
    one at a time anyway (``BEGIN IMMEDIATE``)."""
    sql = DRAW_PENDING + " FOR SHARE" if connection.vendor == "postgresql" else DRAW_PENDING
    with connection.cursor() as cursor:
        cursor.execute(sql, [program_id])
        row = cursor.fetchone()
    return row is not None and row[0] is None


def _free_seat(program_id: int) -> None:
    Program.objects.filter(pk=program_id, seats_taken__gt=0).update(seats_taken=F("seats_taken") - 1)


def _close_gap(program_id: int, position: int) -> None:
    """Removes ``position`` from a program's waiting list: everyone behind moves up one, so the
    positions stay 1..n. Two statements through negative numbers, so that no two waiting rows
    ever share a position (the unique constraint is checked row by row on every database)."""
    behind = Enrollment.objects.filter(
        program_id=program_id, status=Enrollment.Status.WAITLISTED, position__gt=position
    )
    behind.update(position=-(F("position") - 1))
    Enrollment.objects.filter(
        program_id=program_id, status=Enrollment.Status.WAITLISTED, position__lt=0
    ).update(position=-F("position"))
    Program.objects.filter(pk=program_id, waitlist_count__gt=0).update(waitlist_count=F("waitlist_count") - 1)


def _fill(program: Program, now: dt.datetime) -> list[Enrollment]:
    """Gives free seats to the head of the waiting list, with the same guard as an enrolment.
    The caller holds the program row. Confirmed at once, or offered until a deadline."""
    promoted: list[Enrollment] = []
    while True:
        head = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("resident__user", "dependant", "program__center")
            .filter(program_id=program.pk, status=Enrollment.Status.WAITLISTED, position=1)
            .first()
        )
        if head is None or not _take_seat(program.pk):
            return promoted
        if program.promotion == Program.Promotion.OFFER:
            head.status = Enrollment.Status.OFFERED
            head.offer_expires_at = now + dt.timedelta(hours=program.offer_hours)
        else:
            head.status = Enrollment.Status.CONFIRMED
            head.confirmed_at = now
        head.position = None
        head.save(update_fields=["status", "position", "offer_expires_at", "confirmed_at"])
        _close_gap(program.pk, 1)
        audit_log("programs.enrollment.promoted", obj=head, data={"status": head.status})
        if head.status == Enrollment.Status.OFFERED:
            _notify(
                head,
                "programs.offered",
                sms=True,
                until=timezone.localtime(head.offer_expires_at).strftime("%Y-%m-%d %H:%M"),  # type: ignore[arg-type]
            )
        else:
            _notify(head, "programs.promoted", sms=True)
        promoted.append(head)


def _refund(enrollment: Enrollment, amount_fen: int, *, by: User | None, reason: str) -> list[Payment]:
    """Gives back up to what was paid, each part through the adapter that took it (cash at the
    desk, an external payment by its reference): new ledger entries, the newest charges first."""
    amount = min(amount_fen, enrollment.paid_fen)
    if amount <= 0:
        return []
    ledger = list(enrollment.payments.order_by("created_at", "id"))
    given_back = sum(p.amount_fen for p in ledger if p.kind == Payment.Kind.REFUND)
    refunds: list[Payment] = []
    for charge in reversed([p for p in ledger if p.kind == Payment.Kind.CHARGE]):
        # Earlier refunds gave back the newest charges first, as this one does.
        already = min(charge.amount_fen, given_back)
        given_back -= already
        part = min(charge.amount_fen - already, amount)
        if part <= 0:
            continue
        reference = payments.adapter(charge.method).refund(
            enrollment_id=enrollment.pk, amount_fen=part, charge_reference=charge.reference
        )
        refunds.append(
            Payment.objects.create(
                enrollment=enrollment,
                kind=Payment.Kind.REFUND,
                amount_fen=part,
                method=charge.method,
                reference=reference,
                reason=reason[:200],
                recorded_by=by,
            )
        )
        audit_log(
            "programs.payment.refunded", actor=by, obj=enrollment, data={"fen": part, "method": charge.method}
        )
        amount -= part
        if amount == 0:
            break
    total = sum(r.amount_fen for r in refunds)
    Enrollment.objects.filter(pk=enrollment.pk).update(paid_fen=F("paid_fen") - total)
    enrollment.paid_fen -= total
    return refunds


def _end(enrollment: Enrollment, status: str, *, by: User | None, reason: str, now: dt.datetime) -> None:
    """Ends an active enrolment and gives back what it held (seat or waiting place). The caller
    holds the program row; it fills freed seats afterwards."""
    before = enrollment.status
    if before == Enrollment.Status.WAITLISTED and enrollment.position is not None:
        position = enrollment.position
        Enrollment.objects.filter(pk=enrollment.pk).update(status=status, position=None)
        _close_gap(enrollment.program_id, position)
    elif before in Enrollment.HOLDS_SEAT:
        _free_seat(enrollment.program_id)
    enrollment.status, enrollment.position = status, None
    enrollment.ended_at, enrollment.ended_by, enrollment.end_reason = now, by, reason[:200]
    enrollment.save(update_fields=["status", "position", "ended_at", "ended_by", "end_reason"])


# --- audience -----------------------------------------------------------------------------------


def audience_problem(
    program: Program, resident: Resident, dependant: Dependant | None, *, on: dt.date
) -> str | None:
    """Why this person may not take part, in words for them; None when they may."""
    person_age = (dependant or resident).age_on(on)
    if program.min_age is not None and person_age < program.min_age:
        return str(_("from age %(n)s") % {"n": program.min_age})
    if program.max_age is not None and person_age > program.max_age:
        return str(_("up to age %(n)s") % {"n": program.max_age})
    communities = list(program.communities.all()) if getattr(program, "limited", True) else []
    if communities and resident.home_community_id not in {c.pk for c in communities}:
        return str(_("residents of %(names)s") % {"names": "、".join(c.name for c in communities)})
    if program.eligibility_kinds:
        held = set(
            resident.verifications.filter(revoked_at__isnull=True, kind__in=program.eligibility_kinds)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))
            .values_list("kind", flat=True)
        )
        if not held:
            labels = dict(EligibilityVerification.Kind.choices)
            return str(
                _("residents verified as %(groups)s")
                % {"groups": "、".join(str(labels.get(k, k)) for k in program.eligibility_kinds)}
            )
    return None


# --- proposals and approval ----------------------------------------------------------------------


@dataclass
class SessionDraft:
    space_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime


@dataclass
class ProgramDraft:
    center_id: int
    title: str
    category: str
    capacity: int
    sessions: list[SessionDraft]
    enroll_opens_at: dt.datetime
    enroll_closes_at: dt.datetime | None = None
    description: str = ""
    organization_id: int | None = None
    min_age: int | None = None
    max_age: int | None = None
    community_ids: list[int] = field(default_factory=list)
    eligibility_kinds: list[str] = field(default_factory=list)
    waitlist_size: int = 0
    market_price_fen: int = 0
    price_fen: int = 0
    public_welfare: bool = True
    fair_seconds: int = 60
    promotion: str = Program.Promotion.AUTO
    offer_hours: int = 24
    cancel_cutoff_hours: int = 24


def weekly_sessions(
    *, space_id: int, first_starts_at: dt.datetime, minutes: int, weeks: int
) -> list[SessionDraft]:
    """A series: the same time on the same weekday for ``weeks`` weeks (local wall-clock time)."""
    if not 1 <= weeks <= MAX_SESSIONS:
        raise errors.invalid(code="invalid_series", field="series.weeks")
    if not 15 <= minutes <= MAX_SESSION_MINUTES:
        raise errors.invalid(code="invalid_series", field="series.minutes")
    if not FIRST_YEAR <= first_starts_at.year <= LAST_YEAR:  # before any arithmetic can overflow
        raise errors.invalid(code="invalid_date", field="series.first_starts_at")
    local = timezone.localtime(first_starts_at)
    out = []
    for week in range(weeks):
        naive = local.replace(tzinfo=None) + dt.timedelta(weeks=week)
        start = timezone.make_aware(naive)
        out.append(
            SessionDraft(space_id=space_id, starts_at=start, ends_at=start + dt.timedelta(minutes=minutes))
        )
    return out


def _welfare_share() -> int:
    return int(getattr(settings, "LIVINGROOM_PUBLIC_WELFARE_SHARE_PCT", 20))


def check_prices(*, market_price_fen: int, price_fen: int, public_welfare: bool) -> None:
    if not 0 <= market_price_fen <= MAX_PRICE_FEN:
        raise errors.invalid(code="invalid_price", field="market_price_fen")
    if not 0 <= price_fen <= MAX_PRICE_FEN:
        raise errors.invalid(code="invalid_price", field="price_fen")
    if price_fen > market_price_fen:
        raise errors.PriceAboveMarket(field="price_fen")
    share = _welfare_share()
    if public_welfare and price_fen * 100 > market_price_fen * share:
        raise errors.PriceAboveWelfareShare(
            field="price_fen", share=share, max=_yuan(market_price_fen * share // 100)
        )


def _check_draft(draft: ProgramDraft, center: Center, now: dt.datetime) -> list[SessionDraft]:
    title = (draft.title or "").strip()
    if not title or len(title) > 100:
        raise errors.invalid(code="title_required", field="title")
    draft.title = title
    if len(draft.description or "") > 4000:
        raise errors.invalid(code="description_too_long", field="description")
    if draft.category not in Program.Category.values:
        raise errors.invalid(code="invalid_category", field="category")
    if not 1 <= draft.capacity <= MAX_CAPACITY:
        raise errors.invalid(code="invalid_capacity", field="capacity", max=MAX_CAPACITY)
    if not 0 <= draft.waitlist_size <= MAX_WAITLIST:
        raise errors.invalid(code="invalid_waitlist_size", field="waitlist_size", max=MAX_WAITLIST)
    check_prices(
        market_price_fen=draft.market_price_fen,
        price_fen=draft.price_fen,
        public_welfare=draft.public_welfare,
    )
    for name in ("min_age", "max_age"):
        value = getattr(draft, name)
        if value is not None and not 0 <= value <= 120:
            raise errors.invalid(code="invalid_age", field=name)
    if draft.min_age is not None and draft.max_age is not None and draft.max_age < draft.min_age:
        raise errors.invalid(code="invalid_age", field="max_age")
    unknown = set(draft.eligibility_kinds) - VERIFIED_KINDS
    if unknown:
        raise errors.invalid(code="invalid_eligibility", field="eligibility_kinds")
    if draft.community_ids and Community.objects.filter(pk__in=draft.community_ids).count() != len(
        set(draft.community_ids)
    ):
        raise errors.not_found(code="community_not_found", field="community_ids")
    if not 0 <= draft.fair_seconds <= MAX_FAIR_SECONDS:
        raise errors.invalid(code="invalid_fair_seconds", field="fair_seconds", max=MAX_FAIR_SECONDS)
    if draft.promotion not in Program.Promotion.values:
        raise errors.invalid(code="invalid_promotion", field="promotion")
    if not 1 <= draft.offer_hours <= 72:
        raise errors.invalid(code="invalid_offer_hours", field="offer_hours")
    if not 0 <= draft.cancel_cutoff_hours <= 24 * 14:
        raise errors.invalid(code="invalid_cancel_cutoff", field="cancel_cutoff_hours")
    sessions = sorted(draft.sessions, key=lambda s: s.starts_at)
    if not 1 <= len(sessions) <= MAX_SESSIONS:
        raise errors.invalid(code="invalid_sessions", field="sessions", max=MAX_SESSIONS)
    spaces = set(Space.objects.filter(center=center).values_list("pk", flat=True))
    for index, s in enumerate(sessions):
        where = f"sessions.{index}"
        for moment in (s.starts_at, s.ends_at):
            if not FIRST_YEAR <= moment.year <= LAST_YEAR:
                raise errors.invalid(code="invalid_date", field=where)
        if s.ends_at <= s.starts_at or (s.ends_at - s.starts_at).total_seconds() > MAX_SESSION_MINUTES * 60:
            raise errors.invalid(code="session_times_invalid", field=where)
        if s.starts_at <= now:
            raise errors.invalid(code="session_in_past", field=where)
        if s.space_id not in spaces:
            raise errors.not_found(code="space_not_found", field=where)
        if index and s.starts_at < sessions[index - 1].ends_at:
            raise errors.invalid(code="sessions_overlap", field=where)
    closes = draft.enroll_closes_at or sessions[0].starts_at
    if (
        not FIRST_YEAR <= draft.enroll_opens_at.year <= LAST_YEAR
        or not FIRST_YEAR <= closes.year <= LAST_YEAR
    ):
        raise errors.invalid(code="invalid_date", field="enroll_opens_at")
    if closes <= draft.enroll_opens_at:
        raise errors.invalid(code="enrollment_window_invalid", field="enroll_closes_at")
    if closes > sessions[-1].starts_at:
        raise errors.invalid(code="enrollment_window_invalid", field="enroll_closes_at")
    if closes <= now:
        raise errors.invalid(code="enrollment_window_invalid", field="enroll_closes_at")
    draft.enroll_closes_at = closes
    return sessions


def _proposer(
    actor: User, scope: StaffScope | None, center: Center, organization_id: int | None
) -> tuple[str, Organization | None, Talent | None]:
    """Who may propose at this center, and as what: desk staff for the center, partner staff for
    their organisation (working at that center), an approved talent for their community."""
    if scope is not None:
        if organization_id is not None:
            org = Organization.objects.filter(pk=organization_id, centers=center).first()
            if org is None or (
                org.pk not in scope.organization_ids and not scope.works_at(center.community_id)
            ):
                raise errors.not_found(code="organization_not_found", field="organization_id")
            return Program.Provider.ORGANIZATION, org, None
        if scope.works_at(center.community_id):
            return Program.Provider.CENTER, None, None
        raise errors.denied(code="not_a_provider_here")
    resident = _resident_of(actor)
    talent = Talent.objects.filter(resident=resident, status=Talent.Status.APPROVED).first()
    if talent is None:
        raise errors.NotTalent()
    if center.community_id != talent.community_id:
        raise errors.not_found(code="center_not_found", field="center_id")
    return Program.Provider.TALENT, None, talent


def _visible_center(scope: StaffScope | None, center_id: int) -> Center:
    qs = Center.objects.select_related("community")
    if scope is not None:
        qs = scope.filter(qs, community="community", center="")
    center = qs.filter(pk=center_id).first()
    if center is None:
        raise errors.not_found(code="center_not_found", field="center_id")
    return center


def program_propose(
    *, actor: User, scope: StaffScope | None, draft: ProgramDraft, now: dt.datetime | None = None
) -> Program:
    """A provider proposes a course: staff (``scope``) for their center or organisation, or an
    approved talent (``scope=None``). It waits for the center's approval."""
    now = now or timezone.now()
    center = _visible_center(scope, draft.center_id)
    provider, org, talent = _proposer(actor, scope, center, draft.organization_id)
    sessions = _check_draft(draft, center, now)
    seed = secrets.token_hex(16)
    with transaction.atomic(durable=True):
        program = Program.objects.create(
            center=center,
            provider=provider,
            organization=org,
            talent=talent,
            title=draft.title,
            category=draft.category,
            description=draft.description.strip(),
            min_age=draft.min_age,
            max_age=draft.max_age,
            eligibility_kinds=sorted(set(draft.eligibility_kinds)),
            capacity=draft.capacity,
            waitlist_size=draft.waitlist_size,
            market_price_fen=draft.market_price_fen,
            price_fen=draft.price_fen,
            public_welfare=draft.public_welfare,
            welfare_share_pct=_welfare_share(),
            enroll_opens_at=draft.enroll_opens_at,
            enroll_closes_at=draft.enroll_closes_at or sessions[0].starts_at,
            fair_seconds=draft.fair_seconds,
            draw_seed=seed,
            draw_seed_sha256=hashlib.sha256(seed.encode()).hexdigest(),
            promotion=draft.promotion,
            offer_hours=draft.offer_hours,
            cancel_cutoff_hours=draft.cancel_cutoff_hours,
            proposed_by=actor,
            created_at=now,
        )
        if draft.community_ids:
            program.communities.set(draft.community_ids)
        ProgramSession.objects.bulk_create(
            ProgramSession(program=program, space_id=s.space_id, starts_at=s.starts_at, ends_at=s.ends_at)
            for s in sessions
        )
        audit_log(
            "programs.program.proposed",
            actor=actor,
            obj=program,
            data={"provider": provider, "sessions": len(sessions), "capacity": program.capacity},
        )
    return program


def _desk_program(
    scope: StaffScope,
    program_id: int,
    *,
    lock: bool = False,
    missing: type[NotFound] = errors.ProgramNotFound,
) -> Program:
    """A program at a center where this member of staff works the desk; others' are 404, and
    read-only staff (officials, partners) get 403 for what they can see. ``missing`` is the 404
    of the object asked for (a session, an enrolment), so that one out of scope answers exactly as
    one that does not exist."""
    qs = scope.filter(
        Program.objects.select_related("center"), community="center__community", center="center"
    )
    if lock:
        qs = qs.select_for_update(of=("self",))
    program = qs.filter(pk=program_id).first()
    if program is None:
        raise missing()
    if not scope.works_at(program.center.community_id):
        raise errors.denied(code="desk_staff_only")
    return program


def _notify_proposer(program: Program, kind: str, **extra: str) -> None:
    notice_send(
        user=program.proposed_by,
        kind=kind,
        params={"program": program.title, "center": program.center.name, **extra},
        link=f"/programs/{program.pk}/",
    )


def program_approve(
    *, scope: StaffScope, staff: User, program_id: int, now: dt.datetime | None = None
) -> Program:
    """Publishes a proposed course and reserves its spaces for every session (the booking
    module's guard: a session can never collide with a room booking)."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        program = _desk_program(scope, program_id, lock=True)
        if program.status != Program.Status.PENDING:
            raise errors.NotDecidable()
        sessions = list(program.sessions.filter(status=ProgramSession.Status.SCHEDULED).order_by("starts_at"))
        if any(s.starts_at <= now for s in sessions):
            raise errors.invalid(code="session_in_past", field="sessions")
        if program.enroll_closes_at <= now:
            raise errors.invalid(code="enrollment_window_invalid", field="enroll_closes_at")
        made = program_reservations_make(
            staff=staff,
            requests=[ReservationRequest(s.space_id, s.starts_at, s.ends_at) for s in sessions],
            purpose=program.title,
            organization_id=program.organization_id,
            now=now,
        )
        for session, booking in zip(sessions, made, strict=True):
            session.booking_id = booking.pk
            session.save(update_fields=["booking_id"])
        program.status = Program.Status.PUBLISHED
        program.decided_at, program.decided_by = now, staff
        program.save(update_fields=["status", "decided_at", "decided_by"])
        audit_log(
            "programs.program.approved", actor=staff, obj=program, data={"reservations": [b.pk for b in made]}
        )
        _notify_proposer(program, "programs.approved")
    return program


def program_reject(
    *, scope: StaffScope, staff: User, program_id: int, reason: str, now: dt.datetime | None = None
) -> Program:
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise errors.invalid(code="reason_required", field="reason")
    with transaction.atomic(durable=True):
        program = _desk_program(scope, program_id, lock=True)
        if program.status != Program.Status.PENDING:
            raise errors.NotDecidable()
        program.status = Program.Status.REJECTED
        program.decided_at, program.decided_by, program.decision_reason = now, staff, reason[:200]
        program.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
        audit_log("programs.program.rejected", actor=staff, obj=program, data={"reason": reason[:200]})
        _notify_proposer(program, "programs.rejected", reason=reason[:200])
    return program


def program_limits_set(
    *,
    scope: StaffScope,
    staff: User,
    program_id: int,
    capacity: int | None = None,
    waitlist_size: int | None = None,
    now: dt.datetime | None = None,
) -> Program:
    """Changes seats or waiting-list places; never below what is taken. More seats go to the
    waiting list at once."""
    now = now or timezone.now()
    if capacity is not None and not 1 <= capacity <= MAX_CAPACITY:
        raise errors.invalid(code="invalid_capacity", field="capacity", max=MAX_CAPACITY)
    if waitlist_size is not None and not 0 <= waitlist_size <= MAX_WAITLIST:
        raise errors.invalid(code="invalid_waitlist_size", field="waitlist_size", max=MAX_WAITLIST)
    if capacity is None and waitlist_size is None:
        raise errors.invalid(code="nothing_to_change", field="capacity")
    with transaction.atomic(durable=True):
        program = _desk_program(scope, program_id, lock=True)
        if program.status in (Program.Status.CANCELLED, Program.Status.REJECTED):
            raise errors.ProgramCancelled()
        before = {"capacity": program.capacity, "waitlist_size": program.waitlist_size}
        if capacity is not None:
            if capacity < program.seats_taken:
                raise errors.CapacityBelowEnrolled(field="capacity", taken=program.seats_taken)
            program.capacity = capacity
        if waitlist_size is not None:
            if waitlist_size < program.waitlist_count:
                raise errors.WaitlistBelowWaiting(field="waitlist_size", waiting=program.waitlist_count)
            program.waitlist_size = waitlist_size
        program.save(update_fields=["capacity", "waitlist_size"])
        audit_log(
            "programs.program.limits_set",
            actor=staff,
            obj=program,
            data={"before": before, "capacity": program.capacity, "waitlist_size": program.waitlist_size},
        )
        if program.status == Program.Status.PUBLISHED and _draw_settled(program, now):
            _fill(program, now)
    program.refresh_from_db()
    return program


def program_cancel(
    *, scope: StaffScope, staff: User, program_id: int, reason: str, now: dt.datetime | None = None
) -> Program:
    """Cancels a whole course: every enrolment ends, paid fees are refunded in full, the spaces'
    reservations are released and everyone signed up is told."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise errors.invalid(code="reason_required", field="reason")
    with transaction.atomic(durable=True):
        program = _desk_program(scope, program_id, lock=True)
        if program.status in (Program.Status.CANCELLED, Program.Status.REJECTED):
            raise errors.ProgramCancelled()
        active = list(
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("resident__user", "dependant", "program__center")
            .filter(program=program, status__in=Enrollment.ACTIVE)
        )
        for enrollment in active:
            enrollment.status, enrollment.position = Enrollment.Status.CANCELLED, None
            enrollment.ended_at, enrollment.ended_by, enrollment.end_reason = now, staff, reason[:200]
            enrollment.save(update_fields=["status", "position", "ended_at", "ended_by", "end_reason"])
            _refund(enrollment, enrollment.paid_fen, by=staff, reason=reason)
            _notify(enrollment, "programs.cancelled", sms=True, reason=reason[:200])
        sessions = list(program.sessions.filter(status=ProgramSession.Status.SCHEDULED, ends_at__gt=now))
        program_reservations_cancel(
            booking_ids=[s.booking_id for s in sessions if s.booking_id], by=staff, reason=reason, now=now
        )
        ProgramSession.objects.filter(pk__in=[s.pk for s in sessions]).update(
            status=ProgramSession.Status.CANCELLED, cancelled_at=now, cancel_reason=reason[:200]
        )
        program.status = Program.Status.CANCELLED
        program.cancelled_at, program.cancel_reason = now, reason[:200]
        program.seats_taken = program.waitlist_count = 0
        program.save(
            update_fields=["status", "cancelled_at", "cancel_reason", "seats_taken", "waitlist_count"]
        )
        audit_log(
            "programs.program.cancelled",
            actor=staff,
            obj=program,
            data={"enrollments": len(active), "sessions": len(sessions), "reason": reason[:200]},
        )
    return program


def session_cancel(
    *, scope: StaffScope, staff: User, session_id: int, reason: str, now: dt.datetime | None = None
) -> ProgramSession:
    """Cancels one session: its space is released, enrolled residents are told, and a share of
    each paid fee (fee ÷ sessions) is refunded."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise errors.invalid(code="reason_required", field="reason")
    session = ProgramSession.objects.filter(pk=session_id).first()
    if session is None:
        raise errors.SessionNotFound()
    with transaction.atomic(durable=True):
        program = _desk_program(scope, session.program_id, lock=True, missing=errors.SessionNotFound)
        session = ProgramSession.objects.select_for_update().get(pk=session_id)
        if session.status == ProgramSession.Status.CANCELLED:
            raise errors.SessionCancelled()
        if session.ends_at <= now:
            raise errors.invalid(code="session_in_past", field="session_id")
        sessions_total = program.sessions.count()
        session.status, session.cancelled_at, session.cancel_reason = (
            ProgramSession.Status.CANCELLED,
            now,
            reason[:200],
        )
        session.save(update_fields=["status", "cancelled_at", "cancel_reason"])
        if session.booking_id:
            program_reservations_cancel(booking_ids=[session.booking_id], by=staff, reason=reason, now=now)
        told = 0
        for enrollment in (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("resident__user", "dependant", "program__center")
            .filter(program=program, status__in=Enrollment.HOLDS_SEAT)
        ):
            if enrollment.paid_fen:
                _refund(enrollment, enrollment.price_fen // max(sessions_total, 1), by=staff, reason=reason)
            notice_send(
                user=enrollment.resident.user,
                kind="programs.session_cancelled",
                params={
                    "program": program.title,
                    "who": enrollment.participant_name,
                    "when": when_label(session.starts_at, session.ends_at),
                    "reason": reason[:200],
                },
                link=f"/programs/{program.pk}/",
                sms=True,
            )
            told += 1
        audit_log(
            "programs.session.cancelled",
            actor=staff,
            obj=session,
            data={"told": told, "reason": reason[:200]},
        )
    return session


# --- enrolment -----------------------------------------------------------------------------------


def _draw_settled(program: Program, now: dt.datetime) -> bool:
    """Whether first-come-first-served applies: no draw, or the draw has been made."""
    return program.fair_seconds == 0 or program.draw_done_at is not None


def _in_fair_window(program: Program, now: dt.datetime) -> bool:
    return program.fair_seconds > 0 and program.draw_done_at is None and now < program.fair_until


def _open_program(program_id: int) -> Program:
    """A course open to residents, with its first session's times (``first_starts_at``,
    ``first_ends_at``) and whether it is limited to some communities (``limited``), in one query:
    this runs on every enrolment of a rush."""
    first = ProgramSession.objects.filter(
        program_id=OuterRef("pk"), status=ProgramSession.Status.SCHEDULED
    ).order_by("starts_at")
    program = (
        Program.objects.select_related("center")
        .annotate(
            first_starts_at=Subquery(first.values("starts_at")[:1]),
            first_ends_at=Subquery(first.values("ends_at")[:1]),
            limited=Exists(Program.communities.through.objects.filter(program_id=OuterRef("pk"))),
        )
        .filter(pk=program_id)
        .first()
    )
    if program is None or program.status in (Program.Status.PENDING, Program.Status.REJECTED):
        raise errors.ProgramNotFound()
    if program.status == Program.Status.CANCELLED:
        raise errors.ProgramCancelled()
    return program


def _participants(
    resident: Resident, include_self: bool, dependant_ids: Iterable[int]
) -> list[Dependant | None]:
    ids = list(dict.fromkeys(dependant_ids))
    if not include_self and not ids:
        raise errors.invalid(code="participants_required", field="participants")
    if len(ids) + int(include_self) > MAX_PARTY:
        raise errors.invalid(code="party_too_large", field="participants", max=MAX_PARTY)
    found = {
        d.pk: d for d in Dependant.objects.filter(pk__in=ids, resident=resident, removed_at__isnull=True)
    }
    if len(found) != len(ids):
        raise NotFound(_("No such family member."), code="dependant_not_found", field="participants")
    people: list[Dependant | None] = [None] if include_self else []
    return people + [found[i] for i in ids]


def enrollment_create(
    *,
    user: User,
    program_id: int,
    include_self: bool = True,
    dependant_ids: Iterable[int] = (),
    now: dt.datetime | None = None,
) -> list[Enrollment]:
    """Signs the resident (and/or their dependants) up for a course.

    In the opening draw's window the request is recorded and drawn by lot when it closes; after
    it, each person gets a seat while one is free (conditional UPDATE), else the next waiting-list
    place, else ``waitlist_full`` and nothing is written.
    """
    now = now or timezone.now()
    # Only what enrolment reads (no ID number to decrypt); the user is the caller.
    resident = (
        Resident.objects.only("id", "user_id", "real_name", "birth_date", "home_community_id")
        .filter(user=user)
        .first()
    )
    if resident is None:
        raise people_errors.ProfileIncomplete()
    resident.user = user
    program = _open_program(program_id)
    if now < program.enroll_opens_at:
        raise errors.EnrollmentNotOpen(
            opens_at=timezone.localtime(program.enroll_opens_at).strftime("%Y-%m-%d %H:%M")
        )
    if now >= program.enroll_closes_at:
        raise errors.EnrollmentClosed()
    people = _participants(resident, include_self, dependant_ids)
    first_start: dt.datetime | None = program.first_starts_at  # type: ignore[attr-defined]
    day = local_day(first_start) if first_start else local_day(now)
    for person in people:
        problem = audience_problem(program, resident, person, on=day)
        if problem:
            raise errors.NotInAudience(why=problem, field="participants")
    party = uuid.uuid4().hex
    made: list[Enrollment] = []
    drawing = _in_fair_window(program, now)
    if not drawing and not _draw_settled(program, now):
        draw_run(program_id=program.pk, now=now)  # the window has closed: draw before serving anyone
    while True:
        made = []
        try:
            with transaction.atomic(durable=True):
                if drawing and not _draw_pending(program.pk):
                    # The draw was made since this request looked: start again, first come first
                    # served after it. (Taking a seat while holding the shared lock could deadlock
                    # with another request doing the same.)
                    raise _DrawMade()
                # A second active enrolment of the same person is refused by the partial unique
                # constraints (IntegrityError below); the seat or place taken first rolls back with it.
                for person in people:
                    enrollment = Enrollment(
                        program=program,
                        resident=resident,
                        dependant=person,
                        party=party,
                        requested_at=now,
                        price_fen=program.price_fen,
                    )
                    if drawing:
                        enrollment.status = Enrollment.Status.REQUESTED
                    elif _take_seat(program.pk):
                        enrollment.status, enrollment.confirmed_at = Enrollment.Status.CONFIRMED, now
                    else:
                        position = _take_waitlist_place(program.pk)
                        if position is None:
                            raise errors.WaitlistFull()
                        enrollment.status, enrollment.position = Enrollment.Status.WAITLISTED, position
                    enrollment.save(force_insert=True)
                    made.append(enrollment)
                audit_log(
                    "programs.enrollment.created",
                    actor=user,
                    obj=program,
                    data={"enrollments": [e.pk for e in made], "statuses": [e.status for e in made]},
                )
                when = when_label(first_start, program.first_ends_at) if first_start else ""  # type: ignore[attr-defined]
                for e in made:
                    if e.status == Enrollment.Status.CONFIRMED:
                        _notify(e, "programs.enrolled", sms=True, when=when)
                    elif e.status == Enrollment.Status.WAITLISTED:
                        _notify(e, "programs.waitlisted", when=when, position=str(e.position))
            return made
        except _DrawMade:
            drawing = False
        except IntegrityError:
            # Two requests for the same person at the same moment: the unique constraint keeps one.
            raise errors.AlreadyEnrolled() from None


def _program_of_own(user: User, enrollment_id: int) -> int:
    """The program of one of the caller's enrolments; someone else's is not found."""
    found = (
        Enrollment.objects.filter(pk=enrollment_id, resident__user=user)
        .values_list("program_id", flat=True)
        .first()
    )
    if found is None:
        raise errors.EnrollmentNotFound()
    return found


def cancel_cutoff(program: Program, first_starts_at: dt.datetime | None) -> dt.datetime | None:
    """Until when a resident may give back a seat: ``cancel_cutoff_hours`` before the first session."""
    if first_starts_at is None:
        return None
    return first_starts_at - dt.timedelta(hours=program.cancel_cutoff_hours)


def _cancel_cutoff(program: Program) -> dt.datetime | None:
    first = _first_session(program)
    return cancel_cutoff(program, first.starts_at if first else None)


def enrollment_cancel(*, user: User, enrollment_id: int, now: dt.datetime | None = None) -> Enrollment:
    """The resident leaves: a waiting-list place or an opening-draw request at any time, a seat
    until the cut-off (the fee is refunded). A freed seat goes to the next in line."""
    now = now or timezone.now()
    program_id = _program_of_own(user, enrollment_id)
    with transaction.atomic(durable=True):
        program = _lock_program(program_id)
        enrollment = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("resident__user", "dependant", "program__center")
            .get(pk=enrollment_id)
        )
        if not enrollment.is_active:
            raise errors.NotCancellable()
        if enrollment.status == Enrollment.Status.CONFIRMED:
            cutoff = _cancel_cutoff(program)
            if cutoff is not None and now > cutoff:
                raise errors.CancelCutoffPassed()
        held_seat = enrollment.status in Enrollment.HOLDS_SEAT
        _end(enrollment, Enrollment.Status.CANCELLED, by=user, reason="", now=now)
        _refund(enrollment, enrollment.paid_fen, by=user, reason="cancelled by the resident")
        audit_log("programs.enrollment.cancelled", actor=user, obj=enrollment, data={"by": "resident"})
        if held_seat and program.status == Program.Status.PUBLISHED:
            program.refresh_from_db(fields=["seats_taken", "waitlist_count"])
            _fill(program, now)
    return enrollment


def offer_accept(*, user: User, enrollment_id: int, now: dt.datetime | None = None) -> Enrollment:
    now = now or timezone.now()
    program_id = _program_of_own(user, enrollment_id)
    with transaction.atomic(durable=True):
        _lock_program(program_id)
        enrollment = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("resident__user", "dependant", "program__center")
            .get(pk=enrollment_id)
        )
        if enrollment.status != Enrollment.Status.OFFERED or (
            enrollment.offer_expires_at is not None and enrollment.offer_expires_at <= now
        ):
            raise errors.NoOffer()
        enrollment.status, enrollment.confirmed_at = Enrollment.Status.CONFIRMED, now
        enrollment.save(update_fields=["status", "confirmed_at"])
        audit_log("programs.enrollment.offer_accepted", actor=user, obj=enrollment, data={})
        _notify(enrollment, "programs.enrolled")
    return enrollment


def enrollment_rate(
    *, user: User, enrollment_id: int, rating: int, comment: str = "", now: dt.datetime | None = None
) -> Enrollment:
    """Rates a course once, after taking part in at least one session."""
    now = now or timezone.now()
    if not 1 <= rating <= 5:
        raise errors.invalid(code="invalid_rating", field="rating")
    comment = (comment or "").strip()
    if len(comment) > 500:
        raise errors.invalid(code="comment_too_long", field="comment")
    with transaction.atomic(durable=True):
        enrollment = (
            Enrollment.objects.select_for_update(of=("self",))
            .filter(pk=enrollment_id, resident__user=user)
            .first()
        )
        if enrollment is None:
            raise errors.EnrollmentNotFound()
        if enrollment.rated_at is not None:
            raise errors.AlreadyRated()
        if not enrollment.attendances.filter(present=True).exists():
            raise errors.NotAttended()
        enrollment.rating, enrollment.rating_comment, enrollment.rated_at = rating, comment, now
        enrollment.save(update_fields=["rating", "rating_comment", "rated_at"])
        audit_log("programs.enrollment.rated", actor=user, obj=enrollment, data={"rating": rating})
    return enrollment


# --- the opening draw ----------------------------------------------------------------------------


def draw_run(*, program_id: int, now: dt.datetime | None = None, inner: bool = False) -> Draw | None:
    """Draws the requests of the opening window by lot (once). Parties are served in ascending
    ``draw_key(seed, party)``: seats first, then waiting-list places, then "no place left"."""
    now = now or timezone.now()
    with transaction.atomic(durable=not inner):
        program = _lock_program(program_id)
        if program.fair_seconds == 0 or program.draw_done_at is not None or now < program.fair_until:
            return None
        entrants = list(
            Enrollment.objects.filter(program=program, status=Enrollment.Status.REQUESTED)
            .order_by("id")
            .values_list("id", "party")
        )
        seed = program.draw_seed or secrets.token_hex(16)
        by_party: dict[str, list[int]] = {}
        for eid, party in entrants:
            by_party.setdefault(party, []).append(eid)
        order = [
            eid for party in sorted(by_party, key=lambda p: draw_key(seed, p)) for eid in by_party[party]
        ]
        seats = max(program.capacity - program.seats_taken, 0)
        places = max(program.waitlist_size - program.waitlist_count, 0)
        confirmed = order[:seats]
        waitlisted = order[seats : seats + places]
        unsuccessful = order[seats + places :]
        Enrollment.objects.filter(pk__in=confirmed).update(
            status=Enrollment.Status.CONFIRMED, confirmed_at=now
        )
        rows = []
        for offset, eid in enumerate(waitlisted, start=program.waitlist_count + 1):
            rows.append(Enrollment(pk=eid, status=Enrollment.Status.WAITLISTED, position=offset))
        Enrollment.objects.bulk_update(rows, ["status", "position"], batch_size=500)
        Enrollment.objects.filter(pk__in=unsuccessful).update(
            status=Enrollment.Status.UNSUCCESSFUL, ended_at=now, end_reason="draw"
        )
        Program.objects.filter(pk=program.pk).update(
            seats_taken=F("seats_taken") + len(confirmed),
            waitlist_count=F("waitlist_count") + len(waitlisted),
            draw_done_at=now,
        )
        outcome = {"confirmed": confirmed, "waitlisted": waitlisted, "unsuccessful": unsuccessful}
        draw = Draw.objects.create(
            program=program,
            seed=seed,
            drawn_at=now,
            entrants=[[eid, party] for eid, party in entrants],
            order=order,
            outcome=outcome,
        )
        audit_log(
            "programs.draw.made",
            obj=program,
            data={
                "entrants": len(entrants),
                "confirmed": len(confirmed),
                "waitlisted": len(waitlisted),
                "seed_sha256": hashlib.sha256(seed.encode()).hexdigest(),
            },
        )
        positions = {eid: i for i, eid in enumerate(waitlisted, start=program.waitlist_count + 1)}
        when = _when(program)
        won = set(confirmed)
        told = []
        for enrollment in Enrollment.objects.select_related("resident__user", "dependant").filter(
            pk__in=order
        ):
            enrollment.program = program
            if enrollment.pk in positions:
                kind, sms, extra = (
                    "programs.draw_waitlisted",
                    False,
                    {"position": str(positions[enrollment.pk])},
                )
            elif enrollment.pk in won:
                kind, sms, extra = "programs.draw_won", True, {}
            else:
                kind, sms, extra = "programs.draw_lost", False, {}
            params = _params(enrollment, when=when, **extra)
            told.append((enrollment.resident.user, kind, params, f"/programs/{program.pk}/", sms))
        notices_send_many(told)  # thousands at once in a rush: one INSERT per thousand
    return draw


@dataclass(frozen=True)
class DrawReplay:
    seed: str
    entrants: int
    order: list[int]
    keys: dict[str, str]
    order_matches: bool
    outcome_matches: bool
    seed_matches_commitment: bool | None  # None: no commitment was published (older courses)


def draw_replay(draw: Draw, *, capacity: int, waitlist_size: int, commitment: str = "") -> DrawReplay:
    """Recomputes a draw from its seed and entrants, as an auditor would, and compares; with the
    seed's published SHA-256 (``commitment``), also checks the seed is the one fixed in advance."""
    by_party: dict[str, list[int]] = {}
    for eid, party in draw.entrants:
        by_party.setdefault(party, []).append(eid)
    keys = {party: draw_key(draw.seed, party) for party in by_party}
    order = [eid for party in sorted(by_party, key=keys.__getitem__) for eid in by_party[party]]
    out = draw.outcome or {}
    seats = len(out.get("confirmed", []))
    places = len(out.get("waitlisted", []))
    outcome_matches = (
        out.get("confirmed") == order[:seats]
        and out.get("waitlisted") == order[seats : seats + places]
        and out.get("unsuccessful") == order[seats + places :]
        and seats <= capacity
        and places <= waitlist_size
    )
    return DrawReplay(
        seed=draw.seed,
        entrants=len(draw.entrants),
        order=order,
        keys=keys,
        order_matches=order == draw.order,
        outcome_matches=outcome_matches,
        seed_matches_commitment=(hashlib.sha256(draw.seed.encode()).hexdigest() == commitment)
        if commitment
        else None,
    )


# --- attendance ----------------------------------------------------------------------------------


def _session_today(session: ProgramSession, now: dt.datetime) -> None:
    if session.status == ProgramSession.Status.CANCELLED:
        raise errors.SessionCancelled()
    if local_day(session.starts_at) != local_day(now):
        raise errors.SessionNotToday()


def attendance_check_in_at_device(
    *, device: Device, session_id: int, token: str, now: dt.datetime | None = None
) -> list[Attendance]:
    """A kiosk of the session's center reads a resident pass: everyone that resident enrolled
    (themselves and their dependants) is marked present. Showing the pass twice is harmless."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        session = (
            ProgramSession.objects.select_related("program")
            .filter(
                pk=session_id, program__center_id=device.center_id, program__status=Program.Status.PUBLISHED
            )
            .first()
        )
        if session is None:
            raise errors.SessionNotFound()
        _session_today(session, now)
        resident = resident_pass_verify(token=token, device=device, purpose="programs.attendance")
        enrollments = list(
            Enrollment.objects.filter(
                program_id=session.program_id, resident=resident, status=Enrollment.Status.CONFIRMED
            )
        )
        if not enrollments:
            raise errors.NotEnrolled()
        marked = []
        for enrollment in enrollments:
            attendance, created = Attendance.objects.get_or_create(
                session=session,
                enrollment=enrollment,
                defaults={"present": True, "via": "device", "marked_at": now},
            )
            if not created and not attendance.present:
                attendance.present, attendance.via, attendance.marked_at = True, "device", now
                attendance.save(update_fields=["present", "via", "marked_at"])
            marked.append(attendance)
        audit_log(
            "programs.attendance.checked_in",
            device=device,
            obj=session,
            data={"enrollments": [e.pk for e in enrollments]},
        )
    return marked


@dataclass(frozen=True)
class Mark:
    enrollment_id: int
    present: bool


def attendance_mark(
    *, scope: StaffScope, staff: User, session_id: int, marks: list[Mark], now: dt.datetime | None = None
) -> list[Attendance]:
    """Desk staff mark who came (and who did not) on the day of the session."""
    now = now or timezone.now()
    if not marks or len(marks) > MAX_CAPACITY:
        raise errors.invalid(code="marks_required", field="marks")
    session = ProgramSession.objects.filter(pk=session_id).first()
    if session is None:
        raise errors.SessionNotFound()
    with transaction.atomic(durable=True):
        program = _desk_program(scope, session.program_id, missing=errors.SessionNotFound)
        _session_today(session, now)
        ids = [m.enrollment_id for m in marks]
        enrolled = set(
            Enrollment.objects.filter(
                program=program, pk__in=ids, status=Enrollment.Status.CONFIRMED
            ).values_list("pk", flat=True)
        )
        missing = [i for i in ids if i not in enrolled]
        if missing:
            raise errors.NotEnrolled(field="marks")
        out = []
        for mark in marks:
            attendance, _created = Attendance.objects.update_or_create(
                session=session,
                enrollment_id=mark.enrollment_id,
                defaults={"present": mark.present, "via": "staff", "marked_at": now, "marked_by": staff},
            )
            out.append(attendance)
        audit_log(
            "programs.attendance.marked",
            actor=staff,
            obj=session,
            data={"present": sum(m.present for m in marks), "absent": sum(not m.present for m in marks)},
        )
    return out


# --- payments ------------------------------------------------------------------------------------


def payment_record(
    *,
    scope: StaffScope,
    staff: User,
    enrollment_id: int,
    method: str,
    amount_fen: int,
    reference: str = "",
) -> Payment:
    """Records a fee paid at the desk or elsewhere (never more than the enrolment's price)."""
    adapter = payments.adapter(method)
    if not 0 < amount_fen <= MAX_PRICE_FEN:
        raise errors.PaymentInvalid(why=_("the amount must be positive"), field="amount_fen")
    enrollment = Enrollment.objects.filter(pk=enrollment_id).first()
    if enrollment is None or not scope.can_see_residents:  # partners see no residents' enrolments
        raise errors.EnrollmentNotFound()
    with transaction.atomic(durable=True):
        _desk_program(scope, enrollment.program_id, missing=errors.EnrollmentNotFound)
        enrollment = Enrollment.objects.select_for_update(of=("self",)).get(pk=enrollment_id)
        if enrollment.status not in Enrollment.HOLDS_SEAT:
            raise errors.PaymentInvalid(
                why=_("only an enrolment with a seat is paid for"), field="enrollment_id"
            )
        if enrollment.paid_fen + amount_fen > enrollment.price_fen:
            raise errors.PaymentInvalid(
                why=_("that is more than the price still owed (¥%(owed)s)")
                % {"owed": _yuan(enrollment.price_fen - enrollment.paid_fen)},
                field="amount_fen",
            )
        kept = adapter.charge(enrollment_id=enrollment.pk, amount_fen=amount_fen, reference=reference)
        payment = Payment.objects.create(
            enrollment=enrollment,
            kind=Payment.Kind.CHARGE,
            amount_fen=amount_fen,
            method=adapter.method,
            reference=kept,
            recorded_by=staff,
        )
        Enrollment.objects.filter(pk=enrollment.pk).update(paid_fen=F("paid_fen") + amount_fen)
        audit_log(
            "programs.payment.recorded",
            actor=staff,
            obj=enrollment,
            data={"fen": amount_fen, "method": adapter.method},
        )
    return payment


# --- talents -------------------------------------------------------------------------------------


def talent_apply(*, user: User, kind: str, skills: str, bio: str) -> Talent:
    resident = _resident_of(user)
    skills, bio = (skills or "").strip(), (bio or "").strip()
    if kind not in Talent.Kind.values:
        raise errors.invalid(code="invalid_talent_kind", field="kind")
    if not skills or len(skills) > 200:
        raise errors.invalid(code="skills_required", field="skills")
    if not bio or len(bio) > 1000:
        raise errors.invalid(code="bio_required", field="bio")
    try:
        with transaction.atomic(durable=True):
            if Talent.objects.filter(
                resident=resident, status__in=(Talent.Status.PENDING, Talent.Status.APPROVED)
            ).exists():
                raise errors.TalentPending()
            talent = Talent.objects.create(
                resident=resident, community=resident.home_community, kind=kind, skills=skills, bio=bio
            )
            audit_log("programs.talent.applied", actor=user, obj=talent, data={"kind": kind})
    except IntegrityError:
        raise errors.TalentPending() from None
    return talent


def talent_withdraw(*, user: User) -> Talent:
    with transaction.atomic(durable=True):
        talent = (
            Talent.objects.select_for_update()
            .filter(resident__user=user, status__in=(Talent.Status.PENDING, Talent.Status.APPROVED))
            .first()
        )
        if talent is None:
            raise errors.TalentNotFound()
        talent.status = Talent.Status.WITHDRAWN
        talent.save(update_fields=["status"])
        audit_log("programs.talent.withdrawn", actor=user, obj=talent, data={})
    return talent


def talent_decide(
    *,
    scope: StaffScope,
    staff: User,
    talent_id: int,
    approve: bool,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Talent:
    """Desk staff of the talent's community vet an application."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not approve and not reason:
        raise errors.invalid(code="reason_required", field="reason")
    with transaction.atomic(durable=True):
        talent = (
            scope.filter(
                Talent.objects.select_related("resident__user"), community="community", residents=True
            )
            .select_for_update(of=("self",))
            .filter(pk=talent_id)
            .first()
        )
        if talent is None:
            raise errors.TalentNotFound()
        if not scope.works_at(talent.community_id):
            raise errors.denied(code="desk_staff_only")
        if talent.status != Talent.Status.PENDING:
            raise errors.NotDecidable(
                _("Only a pending application can be decided."), code="talent_not_pending"
            )
        talent.status = Talent.Status.APPROVED if approve else Talent.Status.REJECTED
        talent.decided_at, talent.decided_by, talent.decision_reason = now, staff, reason[:200]
        talent.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
        audit_log("programs.talent.decided", actor=staff, obj=talent, data={"approved": approve})
        notice_send(
            user=talent.resident.user,
            kind="programs.talent_approved" if approve else "programs.talent_rejected",
            params={"skills": talent.skills, "reason": reason[:200]},
            link="/me/talent/",
        )
    return talent


# --- the clock -----------------------------------------------------------------------------------


def offers_expire(*, now: dt.datetime | None = None) -> int:
    """Offered seats not accepted in time go to the next in line."""
    now = now or timezone.now()
    lapsed = 0
    program_ids = set(
        Enrollment.objects.filter(status=Enrollment.Status.OFFERED, offer_expires_at__lte=now).values_list(
            "program_id", flat=True
        )
    )
    for program_id in program_ids:
        with transaction.atomic(durable=True):
            program = _lock_program(program_id)
            for enrollment in (
                Enrollment.objects.select_for_update(of=("self",))
                .select_related("resident__user", "dependant", "program__center")
                .filter(program=program, status=Enrollment.Status.OFFERED, offer_expires_at__lte=now)
            ):
                _end(enrollment, Enrollment.Status.EXPIRED, by=None, reason="offer lapsed", now=now)
                audit_log("programs.enrollment.offer_expired", obj=enrollment, data={})
                _notify(enrollment, "programs.offer_expired")
                lapsed += 1
            program.refresh_from_db(fields=["seats_taken", "waitlist_count"])
            if program.status == Program.Status.PUBLISHED:
                _fill(program, now)
    return lapsed


def draws_due(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    due = [
        p.pk
        for p in Program.objects.filter(
            status=Program.Status.PUBLISHED,
            fair_seconds__gt=0,
            draw_done_at__isnull=True,
            enroll_opens_at__lte=now,
        ).only("pk", "enroll_opens_at", "fair_seconds")
        if p.fair_until <= now
    ]
    return sum(1 for pk in due if draw_run(program_id=pk, now=now) is not None)


def reminders_send(*, now: dt.datetime | None = None, ahead: dt.timedelta = dt.timedelta(hours=24)) -> int:
    """One reminder per enrolled person before each session (a day ahead)."""
    now = now or timezone.now()
    sent = 0
    sessions = ProgramSession.objects.select_related("program__center").filter(
        status=ProgramSession.Status.SCHEDULED,
        program__status=Program.Status.PUBLISHED,
        reminded_at__isnull=True,
        starts_at__gt=now,
        starts_at__lte=now + ahead,
    )
    for session in sessions:
        with transaction.atomic(durable=True):
            if not ProgramSession.objects.filter(pk=session.pk, reminded_at__isnull=True).update(
                reminded_at=now
            ):
                continue
            for enrollment in Enrollment.objects.select_related("resident__user", "dependant").filter(
                program_id=session.program_id, status=Enrollment.Status.CONFIRMED
            ):
                notice_send(
                    user=enrollment.resident.user,
                    kind="programs.reminder",
                    params={
                        "program": session.program.title,
                        "who": enrollment.participant_name,
                        "when": when_label(session.starts_at, session.ends_at),
                        "center": session.program.center.name,
                    },
                    link=f"/programs/{session.program_id}/",
                    sms=True,
                )
                sent += 1
    return sent


@dataclass(frozen=True)
class TickResult:
    draws: int
    offers_expired: int
    reminders: int


def programs_tick(*, now: dt.datetime | None = None) -> TickResult:
    now = now or timezone.now()
    return TickResult(
        draws=draws_due(now=now), offers_expired=offers_expire(now=now), reminders=reminders_send(now=now)
    )
