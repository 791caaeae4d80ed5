"""Resolves a user's staff roles into the one ``StaffScope`` every staff selector uses."""

from __future__ import annotations

from livingroom.core.scopes import StaffScope
from livingroom.people.models import StaffRole, User
from livingroom.places.models import Center, Community

RESIDENT_ROLES = {
    StaffRole.Role.DISTRICT_OFFICIAL,
    StaffRole.Role.STREET_OFFICIAL,
    StaffRole.Role.COMMUNITY_WORKER,
    StaffRole.Role.CENTER_STAFF,
}
DESK_ROLES = {StaffRole.Role.COMMUNITY_WORKER, StaffRole.Role.CENTER_STAFF}


def staff_scope(user: User) -> StaffScope | None:
    """The scope of an active member of staff, or None for anyone else."""
    if not user.is_authenticated or not user.is_active:
        return None
    roles = list(StaffRole.objects.filter(user=user, is_active=True))
    if not roles and not user.is_superuser:
        return None
    district = user.is_superuser
    community_ids: set[int] = set()
    desk_ids: set[int] = set()
    partner_centers: set[int] = set()
    organization_ids: set[int] = set()
    street_ids: set[int] = set()
    for role in roles:
        if role.role == StaffRole.Role.DISTRICT_OFFICIAL:
            district = True
        elif role.role == StaffRole.Role.STREET_OFFICIAL and role.street_id:
            street_ids.add(role.street_id)
        elif role.role == StaffRole.Role.COMMUNITY_WORKER and role.community_id:
            community_ids.add(role.community_id)
            desk_ids.add(role.community_id)
        elif role.role == StaffRole.Role.CENTER_STAFF and role.center_id:
            community_id = (
                Center.objects.filter(pk=role.center_id).values_list("community_id", flat=True).first()
            )
            if community_id:
                community_ids.add(community_id)
                desk_ids.add(community_id)
        elif role.role == StaffRole.Role.PARTNER_STAFF and role.organization_id:
            organization_ids.add(role.organization_id)
            partner_centers.update(
                Center.objects.filter(organizations=role.organization_id).values_list("id", flat=True)
            )
    if street_ids:
        community_ids.update(Community.objects.filter(street_id__in=street_ids).values_list("id", flat=True))
    return StaffScope(
        user_id=user.pk,
        roles=frozenset(str(r.role) for r in roles) | ({"superuser"} if user.is_superuser else set()),
        district=district,
        community_ids=frozenset(community_ids),
        desk_community_ids=frozenset(desk_ids),
        partner_center_ids=frozenset(partner_centers),
        organization_ids=frozenset(organization_ids),
        can_see_residents=district or any(r.role in RESIDENT_ROLES for r in roles),
    )
