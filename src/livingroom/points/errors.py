"""Refusals of the points app, each with a stable code (docs/volunteering.md lists them)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from livingroom.core.errors import Conflict, InvalidInput, NotFound


class RewardNotFound(NotFound):
    code = "reward_not_found"
    default_message = _("No such reward.")


class RedemptionNotFound(NotFound):
    code = "redemption_not_found"
    default_message = _("No such redemption.")


class AccountNotFound(NotFound):
    code = "account_not_found"
    default_message = _("No points account here.")


class InsufficientPoints(Conflict):
    code = "insufficient_points"
    default_message = _("Not enough points: %(balance)s available, %(needed)s needed.")


class OutOfStock(Conflict):
    code = "out_of_stock"
    default_message = _("This reward is out of stock.")


class RewardUnavailable(Conflict):
    code = "reward_unavailable"
    default_message = _("This reward is not offered here.")


class QuantityInvalid(InvalidInput):
    code = "quantity_invalid"
    default_message = _("The quantity must be a whole number from 1 to %(max)s.")


class PointsInvalid(InvalidInput):
    code = "points_invalid"
    default_message = _("The number of points is not valid.")


class AlreadyRefunded(Conflict):
    code = "already_refunded"
    default_message = _("This redemption was already refunded.")


class StockInvalid(InvalidInput):
    code = "stock_invalid"
    default_message = _("The stock change is not valid.")


class QueueInvalid(InvalidInput):
    code = "queue_invalid"
    default_message = _("The queued requests are not valid: %(why)s.")


class ReasonRequired(InvalidInput):
    code = "reason_required"
    default_message = _("Please give a reason.")
