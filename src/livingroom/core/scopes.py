"""What a member of staff may see: one scope object and one filtering function.

``livingroom.people.scopes.staff_scope(user)`` resolves a user's roles into a ``StaffScope``;
every staff selector then calls ``scope.filter(queryset, community="<path to community>")``.
A scope never widens by accident: an empty scope sees nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from django.db.models import Model, Q, QuerySet

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class StaffScope:
    user_id: int
    roles: frozenset[str] = field(default_factory=frozenset)
    district: bool = False
    community_ids: frozenset[int] = field(default_factory=frozenset)
    # Communities where the user works at the desk (community worker, center staff): the only
    # places where they may reveal personal data or verify eligibility.
    desk_community_ids: frozenset[int] = field(default_factory=frozenset)
    # Partner organisations see the centers they work in, never residents.
    partner_center_ids: frozenset[int] = field(default_factory=frozenset)
    # The partner organisations the user acts for (bookings and series in their name).
    organization_ids: frozenset[int] = field(default_factory=frozenset)
    can_see_residents: bool = False

    def filter(
        self,
        queryset: QuerySet[M],
        *,
        community: str | None = None,
        center: str | None = None,
        residents: bool = False,
        organization: str | None = None,
    ) -> QuerySet[M]:
        """Limits ``queryset`` to this scope.

        ``community`` is the lookup path from the model to its Community (``"community"``,
        ``"home_community"``, or ``""`` for Community itself); ``center`` the path to its Center
        (used for partner staff). ``residents=True`` marks a query of residents' data.
        ``organization`` is the path to the object's partner organisation: partner staff then see
        only their own organisation's objects at their centers, not everyone's.
        """
        if residents and not self.can_see_residents:
            return queryset.none()
        if self.district:
            return queryset
        condition = Q(pk__in=[])
        if community is not None and self.community_ids:
            key = f"{community}__in" if community else "pk__in"
            condition |= Q(**{key: self.community_ids})
        if center is not None and self.partner_center_ids and not residents:
            key = f"{center}__in" if center else "pk__in"
            own = Q(**{key: self.partner_center_ids})
            if organization is not None:
                own &= Q(**{f"{organization}__in": self.organization_ids})
            condition |= own
        return queryset.filter(condition)

    def covers_community(self, community_id: int | None) -> bool:
        return self.district or (community_id is not None and community_id in self.community_ids)

    def works_at(self, community_id: int | None) -> bool:
        return community_id is not None and community_id in self.desk_community_ids

    @property
    def is_empty(self) -> bool:
        return not (self.district or self.community_ids or self.partner_center_ids)
