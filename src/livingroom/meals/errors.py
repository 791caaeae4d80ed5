"""Refusals of meal assistance, each with a stable code (docs/meals.md lists them)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from livingroom.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied


class MealsError:
    """Marks the refusals of this app."""


class CanteenNotFound(NotFound, MealsError):
    code = "canteen_not_found"
    default_message = _("No such canteen.")


class SetMealNotFound(NotFound, MealsError):
    code = "set_meal_not_found"
    default_message = _("No such set meal.")


class TierNotFound(NotFound, MealsError):
    code = "tier_not_found"
    default_message = _("No such eligibility tier.")


class MenuNotFound(NotFound, MealsError):
    code = "menu_not_found"
    default_message = _("No menu for this canteen on that day.")


class MenuItemNotFound(NotFound, MealsError):
    code = "menu_item_not_found"
    default_message = _("This set meal is not on the menu.")


class MealNotFound(NotFound, MealsError):
    code = "meal_not_found"
    default_message = _("No such meal.")


class NotOperator(PermissionDenied, MealsError):
    code = "not_canteen_operator"
    default_message = _("Only the canteen's operator or the center's staff can do this.")


class DistrictOnly(PermissionDenied, MealsError):
    code = "district_only"
    default_message = _("Only district staff can do this.")


class DeviceNotAllowed(PermissionDenied, MealsError):
    code = "device_not_allowed"
    default_message = _("Only a canteen terminal can do this.")


class PriceInvalid(InvalidInput, MealsError):
    code = "price_invalid"
    default_message = _("Prices are whole fen from 0 to ¥1,000.")


class ListPriceInvalid(InvalidInput, MealsError):
    code = "list_price_invalid"
    default_message = _("A list price is more than ¥0 and at most ¥1,000.")


class SubsidyTooLarge(InvalidInput, MealsError):
    code = "subsidy_exceeds_list_price"
    default_message = _(
        "What the eater pays plus the subsidies (%(parts)s) is more than the list price (%(list)s)."
    )


class NameRequired(InvalidInput, MealsError):
    code = "name_required"
    default_message = _("Enter a name.")


class NameTaken(Conflict, MealsError):
    code = "name_taken"
    default_message = _("This canteen already has a set meal with that name.")


class TierExists(Conflict, MealsError):
    code = "tier_exists"
    default_message = _("This canteen already has a tier for that group and residency.")


class GroupInvalid(InvalidInput, MealsError):
    code = "group_invalid"
    default_message = _("Unknown group.")


class HoursInvalid(InvalidInput, MealsError):
    code = "serving_hours_invalid"
    default_message = _("Serving ends after it starts.")


class PortionsInvalid(InvalidInput, MealsError):
    code = "portions_invalid"
    default_message = _(
        "Portions are a whole number from 0 to %(max)s, and not fewer than already taken (%(sold)s)."
    )


class MenuEmpty(InvalidInput, MealsError):
    code = "menu_empty"
    default_message = _("A menu needs at least one set meal.")


class MenuInPast(InvalidInput, MealsError):
    code = "menu_in_past"
    default_message = _("Menus are published for today or later.")


class CanteenClosed(Conflict, MealsError):
    code = "canteen_closed"
    default_message = _("This canteen is closed.")


class OrdersNotTaken(Conflict, MealsError):
    code = "orders_not_taken"
    default_message = _("This canteen does not take orders ahead; buy at the counter.")


class SoldOut(Conflict, MealsError):
    code = "sold_out"
    default_message = _("This set meal is sold out.")


class AlreadySubsidised(Conflict, MealsError):
    code = "subsidised_meal_taken"
    default_message = _(
        "You already have your subsidised meal for %(day)s (one a day in the whole district)."
    )


class OutsideServingHours(Conflict, MealsError):
    code = "outside_serving_hours"
    default_message = _("Meals are served from %(start)s to %(end)s.")


class OrderingClosed(Conflict, MealsError):
    code = "ordering_closed"
    default_message = _("Ordering for this meal has closed.")


class HolidayNoSubsidy(Conflict, MealsError):
    code = "holiday_no_subsidy"
    default_message = _("There is no meal subsidy on public holidays (%(day)s).")


class TierNotEligible(Conflict, MealsError):
    code = "tier_not_eligible"
    default_message = _("This eater is not eligible for that tier: %(why)s")


class NotVerified(Conflict, MealsError):
    code = "not_verified"
    default_message = _("This resident has no valid verification for a subsidised price.")


class CredentialExpired(Conflict, MealsError):
    code = "credential_expired"
    default_message = _("The rider credential expired on %(until)s; staff can verify a current one.")


class NotCancellable(Conflict, MealsError):
    code = "not_cancellable"
    default_message = _("This order can no longer be cancelled.")


class NotRefundable(Conflict, MealsError):
    code = "not_refundable"
    default_message = _("Only a served meal can be refunded, once.")


class NoOrderHere(Conflict, MealsError):
    code = "no_order_here"
    default_message = _("This resident has no order here for this meal; choose a set meal to sell.")


class ReasonRequired(InvalidInput, MealsError):
    code = "reason_required"
    default_message = _("Give a reason.")


class PeriodInvalid(InvalidInput, MealsError):
    code = "period_invalid"
    default_message = _("A claim period is a month (2026-11) or a quarter (2026-Q4).")


class BudgetInvalid(InvalidInput, MealsError):
    code = "budget_invalid"
    default_message = _(
        "A budget is a year, a funder (with a sub-district for the sub-district layer) and an amount."
    )


class SpaceNotCanteen(InvalidInput, MealsError):
    code = "space_not_canteen"
    default_message = _("A canteen is a space of kind canteen that has no canteen yet.")


class OperatorNotFound(NotFound, MealsError):
    code = "operator_not_found"
    default_message = _("This organisation does not work at the center.")


class ResidencyInvalid(InvalidInput, MealsError):
    code = "residency_invalid"
    default_message = _("Unknown residency condition.")


class MenuPeriodInvalid(InvalidInput, MealsError):
    code = "period_invalid"
    default_message = _("A menu is for breakfast, lunch or dinner.")


class PricesRequired(InvalidInput, MealsError):
    code = "prices_required"
    default_message = _("A tier needs a price for at least one set meal.")


class TierNotForMeal(NotFound, MealsError):
    code = "tier_not_for_meal"
    default_message = _("This tier has no price for that set meal.")


class PhotoNotFound(NotFound, MealsError):
    code = "photo_not_found"
    default_message = _("This set meal has no photo.")


class DateInvalid(InvalidInput, MealsError):
    code = "date_invalid"
    default_message = _("A date is written 2026-11-27.")


class DateOutOfRange(InvalidInput, MealsError):
    code = "date_invalid"
    default_message = _("There are no menus that far ahead or back.")


class MenuItemInvalid(InvalidInput, MealsError):
    code = "menu_item_invalid"
    default_message = _("Choose a set meal on the menu.")


class UnknownAction(InvalidInput, MealsError):
    code = "unknown_action"
    default_message = _("This form does not do that.")


class SpaceNotFound(NotFound, MealsError):
    code = "space_not_found"
    default_message = _("No such space.")
