"""What volunteering holds about a resident, for their data download and their erasure
(registered with ``people.personal_data`` in ``VolunteeringConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from livingroom.core.audit import audit_log
from livingroom.people.models import ERASED_NAME, Resident
from livingroom.people.personal_data import register
from livingroom.volunteering import services
from livingroom.volunteering.models import Certificate, Correction, ServiceRecord, Signup, Volunteer


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def export(resident: Resident) -> dict[str, Any]:
    volunteer = Volunteer.objects.filter(resident=resident).first()
    if volunteer is None:
        return {"volunteer": None}
    return {
        "volunteer": {
            "number": volunteer.number,
            "skills": volunteer.skills,
            "status": volunteer.status,
            "consent_version": volunteer.consent_version,
            "consent_at": _iso(volunteer.consent_at),
            "registered_at": _iso(volunteer.registered_at),
            "minutes_total": volunteer.minutes_total,
        },
        "signups": [
            {
                "activity": s.shift.activity.title,
                "shift_starts_at": _iso(s.shift.starts_at),
                "status": s.status,
                "checked_in_at": _iso(s.checked_in_at),
                "checked_out_at": _iso(s.checked_out_at),
            }
            for s in Signup.objects.filter(volunteer=volunteer).select_related("shift__activity")
        ],
        "service_records": [
            {
                "served_on": _iso(r.served_on),
                "minutes": r.minutes,
                "content": r.content,
                "organizer": r.organizer,
            }
            for r in ServiceRecord.objects.filter(volunteer=volunteer)
        ],
        "corrections": [
            {"minutes_requested": c.minutes_requested, "reason": c.reason, "status": c.status}
            for c in Correction.objects.filter(volunteer=volunteer)
        ],
        "certificates": [
            {
                "number": c.number,
                "code": c.code,
                "name": c.name,
                "minutes": c.minutes,
                "issued_at": _iso(c.issued_at),
            }
            for c in Certificate.objects.filter(volunteer=volunteer)
        ],
    }


def erase(resident: Resident) -> dict[str, int]:
    """Future sign-ups are cancelled through the service (the place is free again); skills and the
    reasons of corrections are removed; certificates no longer carry the name. Confirmed service
    hours stay: they are a legal record (志愿服务记录), now of an anonymised volunteer."""
    volunteer = Volunteer.objects.filter(resident=resident).first()
    if volunteer is None:
        return {}
    cancelled = 0
    open_signups = Signup.objects.filter(volunteer=volunteer, status=Signup.Status.SIGNED_UP)
    for signup in list(open_signups.select_related("shift")):
        if signup.checked_in_at is None and signup.shift.starts_at > timezone.now():
            services.signup_cancel(user=resident.user, signup_id=signup.pk)
            cancelled += 1
    with transaction.atomic(durable=True):
        Volunteer.objects.filter(pk=volunteer.pk).update(skills="", status=Volunteer.Status.SUSPENDED)
        Correction.objects.filter(volunteer=volunteer).update(reason="")
        certificates = Certificate.objects.filter(volunteer=volunteer).update(
            name=ERASED_NAME, id_number_masked=""
        )
        audit_log("volunteering.volunteer.erased", obj=volunteer, data={"signups_cancelled": cancelled})
    return {"signups_cancelled": cancelled, "certificates_anonymised": certificates}


register("volunteering", export=export, erase=erase)
