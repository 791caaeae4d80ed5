"""The words of volunteering notices (rendered in the reader's language when shown)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from livingroom.notices.catalogue import register

register(
    "volunteering.signed_up",
    title=_("Signed up to volunteer"),
    body=_("%(activity)s · %(role)s, %(when)s at %(place)s. Check in with your resident pass."),
)
register(
    "volunteering.shift_cancelled",
    title=_("Volunteer shift cancelled"),
    body=_("%(activity)s · %(role)s on %(when)s is cancelled: %(reason)s"),
)
register(
    "volunteering.hours_confirmed",
    title=_("Service hours confirmed"),
    body=_("%(activity)s · %(role)s on %(when)s: %(hours)s hours on record, %(points)s points."),
)
register(
    "volunteering.correction_accepted",
    title=_("Correction accepted"),
    body=_("%(activity)s on %(when)s: your record now says %(hours)s hours. %(note)s"),
)
register(
    "volunteering.correction_rejected",
    title=_("Correction not accepted"),
    body=_("%(activity)s on %(when)s: %(note)s"),
)
register(
    "volunteering.reminder",
    title=_("Volunteer shift tomorrow"),
    body=_("%(activity)s · %(role)s, %(when)s at %(place)s."),
)
