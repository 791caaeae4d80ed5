"""What courses hold about a resident, for their data download and their erasure (registered
with ``people.personal_data`` in ``ProgramsConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from livingroom.core.audit import audit_log
from livingroom.people.models import Resident
from livingroom.people.personal_data import register
from livingroom.programs import services
from livingroom.programs.models import Enrollment, Program, Talent

ERASED_REASON = "account erased at the resident's request"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def export(resident: Resident) -> dict[str, Any]:
    enrollments = (
        Enrollment.objects.filter(resident=resident)
        .select_related("program__center", "dependant")
        .prefetch_related("payments", "attendances__session")
        .order_by("requested_at", "id")
    )
    return {
        "enrollments": [
            {
                "id": e.pk,
                "program": e.program.title,
                "center": e.program.center.name,
                "participant": e.dependant.name if e.dependant else "self",
                "status": e.status,
                "position": e.position,
                "requested_at": _iso(e.requested_at),
                "confirmed_at": _iso(e.confirmed_at),
                "ended_at": _iso(e.ended_at),
                "price_fen": e.price_fen,
                "paid_fen": e.paid_fen,
                "rating": e.rating,
                "rating_comment": e.rating_comment,
                "payments": [
                    {"kind": p.kind, "amount_fen": p.amount_fen, "method": p.method, "at": _iso(p.created_at)}
                    for p in e.payments.all()
                ],
                "attendance": [
                    {"session_starts_at": _iso(a.session.starts_at), "present": a.present}
                    for a in e.attendances.all()
                ],
            }
            for e in enrollments
        ],
        "talent_applications": [
            {
                "kind": t.kind,
                "skills": t.skills,
                "bio": t.bio,
                "status": t.status,
                "applied_at": _iso(t.applied_at),
            }
            for t in Talent.objects.filter(resident=resident).order_by("applied_at", "id")
        ],
    }


def _end(enrollment_id: int, now: Any) -> bool:
    """Ends one active enrolment as the resident's own cancellation does, without the cut-off:
    the seat or waiting place is given back (the next in line moves up) and what was paid is
    refunded on the ledger."""
    program_id = Enrollment.objects.filter(pk=enrollment_id).values_list("program_id", flat=True).get()
    with transaction.atomic(durable=True):
        program = services._lock_program(program_id)
        enrollment = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("resident__user", "dependant", "program__center")
            .get(pk=enrollment_id)
        )
        if not enrollment.is_active:
            return False
        held_seat = enrollment.status in Enrollment.HOLDS_SEAT
        services._end(enrollment, Enrollment.Status.CANCELLED, by=None, reason=ERASED_REASON, now=now)
        services._refund(enrollment, enrollment.paid_fen, by=None, reason=ERASED_REASON)
        audit_log("programs.enrollment.cancelled", obj=enrollment, data={"by": "erasure"})
        if held_seat and program.status == Program.Status.PUBLISHED:
            program.refresh_from_db(fields=["seats_taken", "waitlist_count"])
            services._fill(program, now)
    return True


def erase(resident: Resident) -> dict[str, int]:
    """Active enrolments end (seats freed, fees refunded); the comments and the talent bio a
    resident wrote are removed; an open talent application is withdrawn. Enrolments, attendance and
    payments stay (the payment ledger and the course's figures), naming the anonymised person."""
    now = timezone.now()
    active = Enrollment.objects.filter(resident=resident, status__in=Enrollment.ACTIVE)
    ended = sum(_end(pk, now) for pk in list(active.values_list("pk", flat=True)))
    with transaction.atomic(durable=True):
        comments = (
            Enrollment.objects.filter(resident=resident).exclude(rating_comment="").update(rating_comment="")
        )
        talents = Talent.objects.filter(resident=resident)
        withdrawn = talents.filter(status__in=(Talent.Status.PENDING, Talent.Status.APPROVED)).update(
            status=Talent.Status.WITHDRAWN
        )
        talents.update(bio="", skills="")
    return {"enrollments_ended": ended, "comments_removed": comments, "talents_withdrawn": withdrawn}


register("programs", export=export, erase=erase)
