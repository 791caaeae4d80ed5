"""What a meal costs someone, and why: the one pricing rule, read by the pages (a rider's
prices), the selectors (the counter's preview) and the services (an order, a serving).

* A walk-in without a pass pays the list price.
* An eater qualifies for a tier when they belong to its group on the day (elderly bands from the
  birth date; rider, disabled, low income from a staff verification valid that day; "everyone"
  always) and live where its residency condition says. Of the tiers they qualify for, the one with
  the lowest price for the eater is taken (less public money on a tie).
* The sub-district layer pays only for residents of the canteen's sub-district; elsewhere that part
  falls to the eater (a subsidy is lost outside one's own area).
* No subsidy on public holidays (``places.CalendarDay``); the eater then pays their part plus the
  subsidy parts, never more than the list price.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from livingroom.meals.models import Canteen, Group, SetMeal, Tier, TierPrice
from livingroom.people.models import EligibilityVerification, Resident
from livingroom.people.selectors import Eligibility, resident_eligibilities


@dataclass(frozen=True)
class Price:
    set_meal_id: int
    list_fen: int
    eater_fen: int
    city_fen: int = 0
    district_fen: int = 0
    street_fen: int = 0
    tier: Tier | None = None
    group: str = ""
    reasons: tuple[str | Promise, ...] = field(default_factory=tuple)

    @property
    def subsidy_fen(self) -> int:
        return self.city_fen + self.district_fen + self.street_fen

    @property
    def subsidised(self) -> bool:
        return self.subsidy_fen > 0

    def reason(self) -> str:
        return "；".join(str(r) for r in self.reasons)

    def why(self) -> str:
        """The reason without the tier's name (pages show the name on its own)."""
        return "；".join(str(r) for r in (self.reasons[1:] if self.tier is not None else self.reasons))

    def without_subsidy(self, why: str | Promise) -> Price:
        return Price(
            set_meal_id=self.set_meal_id,
            list_fen=self.list_fen,
            eater_fen=self.eater_fen + self.subsidy_fen,
            tier=self.tier,
            group=self.group,
            reasons=(*self.reasons, why),
        )


def list_price(set_meal: SetMeal, why: str | Promise | None = None) -> Price:
    return Price(
        set_meal_id=set_meal.pk,
        list_fen=set_meal.list_price_fen,
        eater_fen=set_meal.list_price_fen,
        reasons=(why or _("list price"),),
    )


def _eligibility_reason(e: Eligibility) -> str | Promise:
    if e.source == "age":
        return _("%(group)s, by the birth date on the ID card") % {"group": Group(e.kind).label}
    label = (
        EligibilityVerification.Kind(e.kind).label
        if e.kind in EligibilityVerification.Kind.values
        else e.kind
    )
    if e.valid_until is not None:
        return _("verified %(group)s (%(platform)s), valid until %(until)s") % {
            "group": label,
            "platform": e.platform or "—",
            "until": date_format(e.valid_until, "Y-m-d"),
        }
    return _("verified %(group)s") % {"group": label}


def lives_where(tier: Tier, resident: Resident, canteen: Canteen) -> bool:
    if tier.residency == Tier.Residency.COMMUNITY:
        return resident.home_community_id == canteen.center.community_id
    if tier.residency == Tier.Residency.STREET:
        return resident.home_community.street_id == canteen.center.community.street_id
    return True


@dataclass(frozen=True)
class Standing:
    """What an eater may claim at a canteen on a day: their groups (with the reason) and the
    tiers they qualify for."""

    groups: dict[str, str | Promise]
    tiers: tuple[Tier, ...]


def standing(resident: Resident, canteen: Canteen, tiers: list[Tier], day: dt.date) -> Standing:
    groups: dict[str, str | Promise] = {Group.EVERYONE: _("every resident")}
    for e in resident_eligibilities(resident, on=day):
        if e.kind in Group.values:
            groups[e.kind] = _eligibility_reason(e)
    fitting = tuple(
        t for t in tiers if t.is_active and t.group in groups and lives_where(t, resident, canteen)
    )
    return Standing(groups=groups, tiers=fitting)


def tier_price(tier: Tier, set_meal: SetMeal) -> TierPrice | None:
    for p in tier.prices.all():  # prefetched
        if p.set_meal_id == set_meal.pk:
            return p
    return None


def price_with_tier(
    *,
    tier: Tier,
    price: TierPrice,
    set_meal: SetMeal,
    resident: Resident,
    canteen: Canteen,
    why: str | Promise,
) -> Price:
    street_fen, eater_fen = price.street_fen, price.eater_fen
    reasons: list[str | Promise] = [tier.name, why]
    if street_fen and resident.home_community.street_id != canteen.center.community.street_id:
        eater_fen += street_fen
        street_fen = 0
        reasons.append(
            _("the sub-district subsidy is for residents of %(street)s")
            % {"street": canteen.center.community.street.name}
        )
    return Price(
        set_meal_id=set_meal.pk,
        list_fen=set_meal.list_price_fen,
        eater_fen=eater_fen,
        city_fen=price.city_fen,
        district_fen=price.district_fen,
        street_fen=street_fen,
        tier=tier,
        group=tier.group,
        reasons=tuple(reasons),
    )


def best_price(
    *,
    resident: Resident | None,
    canteen: Canteen,
    set_meal: SetMeal,
    tiers: list[Tier],
    day: dt.date,
    holiday: bool,
) -> Price:
    """The price the eater pays for ``set_meal`` on ``day``, the subsidy split and the reason."""
    if resident is None:
        return list_price(set_meal, _("walk-in, list price"))
    found = standing(resident, canteen, tiers, day)
    best: Price | None = None
    for tier in found.tiers:
        price = tier_price(tier, set_meal)
        if price is None:
            continue
        candidate = price_with_tier(
            tier=tier,
            price=price,
            set_meal=set_meal,
            resident=resident,
            canteen=canteen,
            why=found.groups[tier.group],
        )
        if best is None or (candidate.eater_fen, candidate.subsidy_fen) < (best.eater_fen, best.subsidy_fen):
            best = candidate
    if best is None:
        return list_price(set_meal)
    if holiday and best.subsidised:
        return best.without_subsidy(_("no subsidy on public holidays"))
    return best


def why_not(resident: Resident, canteen: Canteen, tier: Tier, day: dt.date) -> tuple[str, str | Promise]:
    """Why ``resident`` does not qualify for ``tier``: a code and the reason."""
    if tier.group in EligibilityVerification.Kind.values:
        latest = resident.verifications.filter(kind=tier.group).order_by("-verified_at").first()
        if latest is None:
            return "not_verified", ""
        if latest.revoked_at is None and latest.valid_until is not None and latest.valid_until < day:
            return "credential_expired", date_format(latest.valid_until, "Y-m-d")
        if not latest.is_valid_on(day):
            return "not_verified", ""
    groups = standing(resident, canteen, [], day).groups
    if tier.group not in groups:
        return "tier_not_eligible", _("the tier is for %(group)s") % {"group": Group(tier.group).label}
    return "tier_not_eligible", Tier.Residency(tier.residency).label
