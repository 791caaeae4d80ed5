"""Reads of volunteering, already limited to what the caller may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from livingroom.core.scopes import StaffScope
from livingroom.people.models import User
from livingroom.places.models import Center
from livingroom.volunteering import errors
from livingroom.volunteering.models import (
    Activity,
    Certificate,
    Correction,
    ServiceRecord,
    Shift,
    Signup,
    Volunteer,
    star_level,
)

# --- residents and the public -------------------------------------------------------------------


def volunteer_of(user: User) -> Volunteer | None:
    if not user.is_authenticated:
        return None
    return Volunteer.objects.select_related("resident").filter(resident__user=user).first()


def activities_open(*, center_id: int | None = None, now: dt.datetime | None = None) -> QuerySet[Activity]:
    """Published activities with a shift still to come, soonest first, shifts prefetched."""
    now = now or timezone.now()
    upcoming = Shift.objects.filter(status=Shift.Status.SCHEDULED, starts_at__gt=now).order_by("starts_at")
    qs = (
        Activity.objects.filter(status=Activity.Status.PUBLISHED, shifts__in=upcoming)
        .distinct()
        .select_related("center", "center__community", "organization")
        .prefetch_related(Prefetch("shifts", queryset=upcoming, to_attr="upcoming_shifts"))
    )
    if center_id is not None:
        qs = qs.filter(center_id=center_id)
    return qs.order_by("-published_at", "-id")


def activity_public(activity_id: int) -> Activity:
    """A published (or cancelled) activity with all its shifts; drafts are 404."""
    activity = (
        Activity.objects.exclude(status=Activity.Status.DRAFT)
        .select_related("center", "center__community", "organization")
        .prefetch_related(Prefetch("shifts", queryset=Shift.objects.order_by("starts_at")))
        .filter(pk=activity_id)
        .first()
    )
    if activity is None:
        raise errors.ActivityNotFound()
    return activity


def signups_of(volunteer: Volunteer) -> QuerySet[Signup]:
    return (
        Signup.objects.filter(volunteer=volunteer)
        .select_related("shift", "shift__activity", "shift__activity__center", "record")
        .order_by("-shift__starts_at")
    )


def records_of(volunteer: Volunteer) -> QuerySet[ServiceRecord]:
    return (
        ServiceRecord.objects.filter(volunteer=volunteer)
        .select_related("shift")
        .order_by("-served_on", "-id")
    )


def corrections_of(volunteer: Volunteer) -> QuerySet[Correction]:
    return Correction.objects.filter(volunteer=volunteer).select_related("signup__shift__activity")


def certificates_of(volunteer: Volunteer) -> QuerySet[Certificate]:
    return Certificate.objects.filter(volunteer=volunteer).order_by("-issued_at")


def certificate_of(user: User, certificate_id: int) -> Certificate:
    certificate = Certificate.objects.filter(pk=certificate_id, volunteer__resident__user=user).first()
    if certificate is None:
        raise errors.CertificateNotFound()
    return certificate


def certificate_by_code(code: str) -> Certificate:
    """Anyone may check a certificate by its code (case and spaces do not matter)."""
    clean = "".join(ch for ch in (code or "").upper() if ch.isalnum())[:16]
    certificate = Certificate.objects.filter(code=clean).first() if len(clean) == 12 else None
    if certificate is None:
        raise errors.CertificateNotFound()
    return certificate


# --- staff --------------------------------------------------------------------------------------


def activities_for_staff(
    scope: StaffScope, *, center_id: int | None = None, status: str | None = None
) -> QuerySet[Activity]:
    qs = scope.filter(
        Activity.objects.select_related("center", "organization"),
        community="center__community",
        center="center",
        organization="organization",
    ).annotate(
        shift_count=Count("shifts", distinct=True),
        needed_total=Sum("shifts__needed"),
        taken_total=Sum("shifts__taken"),
    )
    if center_id is not None:
        qs = qs.filter(center_id=center_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def activity_for_staff(scope: StaffScope, activity_id: int) -> Activity:
    activity = (
        scope.filter(
            Activity.objects.select_related("center", "organization"),
            community="center__community",
            center="center",
            organization="organization",
        )
        .prefetch_related(Prefetch("shifts", queryset=Shift.objects.order_by("starts_at")))
        .filter(pk=activity_id)
        .first()
    )
    if activity is None:
        raise errors.ActivityNotFound()
    return activity


def shift_for_staff(scope: StaffScope, shift_id: int) -> Shift:
    shift = (
        scope.filter(
            Shift.objects.select_related("activity", "activity__center"),
            community="activity__center__community",
            center="activity__center",
            organization="activity__organization",
        )
        .filter(pk=shift_id)
        .first()
    )
    if shift is None:
        raise errors.ShiftNotFound()
    return shift


@dataclass(frozen=True)
class RosterLine:
    signup: Signup
    measured: int | None  # minutes from check-in/out within the shift; None without a check-in


def roster(shift: Shift) -> list[RosterLine]:
    """The volunteers signed up for a shift (active first), with what their check-ins measure."""
    lines = []
    for signup in (
        shift.signups.select_related("volunteer__resident", "record")
        .order_by("status", "created_at")
        .filter(status=Signup.Status.SIGNED_UP)
    ):
        signup.shift = shift
        lines.append(RosterLine(signup=signup, measured=signup.default_minutes))
    return lines


def corrections_for_staff(
    scope: StaffScope, *, status: str | None = Correction.Status.OPEN
) -> QuerySet[Correction]:
    qs = scope.filter(
        Correction.objects.select_related("signup__shift__activity__center", "volunteer__resident"),
        community="signup__shift__activity__center__community",
        center="signup__shift__activity__center",
        organization="signup__shift__activity__organization",
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("created_at")


def volunteers_for_staff(scope: StaffScope, *, query: str = "") -> QuerySet[Volunteer]:
    """The volunteer roster: volunteers living in the communities the staff member covers."""
    qs = scope.filter(
        Volunteer.objects.select_related("resident", "resident__home_community"),
        community="resident__home_community",
        residents=True,
    )
    if query:
        qs = qs.filter(Q(number__icontains=query) | Q(resident__real_name__contains=query))
    return qs.order_by("number")


@dataclass(frozen=True)
class HoursRow:
    volunteer: Volunteer
    records: int
    minutes: int
    points: int

    @property
    def stars(self) -> int:
        return star_level(self.volunteer.minutes_total)


def hours_report(
    scope: StaffScope, *, start: dt.date, end: dt.date, center_id: int | None = None
) -> list[HoursRow]:
    """Confirmed hours served in a period at the activities the caller can see, per volunteer."""
    records = scope.filter(
        ServiceRecord.objects.filter(served_on__gte=start, served_on__lte=end),
        community="shift__activity__center__community",
        center="shift__activity__center",
        organization="shift__activity__organization",
    )
    if center_id is not None:
        records = records.filter(shift__activity__center_id=center_id)
    sums = {
        row["volunteer"]: row
        for row in records.values("volunteer").annotate(
            records=Count("id"), minutes=Sum("minutes"), points=Sum("points_awarded")
        )
    }
    volunteers = Volunteer.objects.select_related("resident", "resident__home_community").filter(pk__in=sums)
    return sorted(
        (
            HoursRow(
                volunteer=v,
                records=sums[v.pk]["records"],
                minutes=sums[v.pk]["minutes"] or 0,
                points=sums[v.pk]["points"] or 0,
            )
            for v in volunteers
        ),
        key=lambda row: (-row.minutes, row.volunteer.number),
    )


# --- staff console: where one may organise ------------------------------------------------------


def organizer_centers(scope: StaffScope) -> QuerySet:
    """Centers where this member of staff may organise volunteer activities: the desk's own, and
    (partner staff) the centers their organisation works in."""
    from livingroom.places.models import Center

    return (
        Center.objects.select_related("community")
        .filter(Q(community_id__in=scope.desk_community_ids) | Q(pk__in=scope.partner_center_ids))
        .order_by("community__code", "name")
    )


def organizer_organizations(scope: StaffScope, center_ids: list[int]) -> QuerySet:
    """Organisations an activity may be run by: desk staff any organisation working at their
    centers, partner staff their own."""
    from livingroom.places.models import Center, Organization

    desk_centers = Center.objects.filter(pk__in=center_ids, community_id__in=scope.desk_community_ids)
    return (
        Organization.objects.filter(
            Q(centers__in=desk_centers) | Q(pk__in=scope.organization_ids, centers__in=center_ids)
        )
        .distinct()
        .order_by("name")
    )


# --- resident pages (appended for the pages) ------------------------------------------------------


def centers_with_open_activities(*, now: dt.datetime | None = None) -> QuerySet:
    """The centers that have an activity open for sign-up (the filter of the activity list)."""
    from livingroom.places.models import Center

    open_ones = activities_open(now=now)
    return Center.objects.filter(volunteer_activities__in=open_ones).distinct().order_by("name")


def signups_active_of(volunteer: Volunteer, *, activity_id: int | None = None) -> QuerySet[Signup]:
    """A volunteer's sign-ups still standing (not cancelled), optionally in one activity."""
    qs = Signup.objects.filter(volunteer=volunteer, status=Signup.Status.SIGNED_UP).select_related("shift")
    if activity_id is not None:
        qs = qs.filter(shift__activity_id=activity_id)
    return qs


def activity_counts_for_staff(scope: StaffScope) -> dict[str, int]:
    """How many activities of each status the member of staff sees (the console's tabs)."""
    visible = activities_for_staff(scope)
    return dict(
        Activity.objects.filter(pk__in=visible.values("pk"))
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )


def activity_centers_for_staff(scope: StaffScope) -> QuerySet[Center]:
    """The centers where the activities the member of staff sees take place (filters)."""
    visible = activities_for_staff(scope)
    return Center.objects.filter(pk__in=visible.values("center_id")).order_by("community__code", "name")
