"""The words of meal notices (rendered in the reader's language when shown)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from livingroom.notices.catalogue import register

register(
    "meals.verification_expiring",
    title=_("Your rider verification expires soon"),
    body=_(
        "Your %(kind)s verification (%(platform)s) is valid until %(until)s. Show a current credential at "
        "any community center to keep your meal price."
    ),
)
register(
    "meals.order_cancelled",
    title=_("Your meal order is cancelled"),
    body=_("%(meal)s at %(canteen)s on %(day)s is cancelled: %(reason)s."),
)
