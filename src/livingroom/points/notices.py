"""The words of points notices (rendered in the reader's language when shown)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from livingroom.notices.catalogue import register

register(
    "points.refunded",
    title=_("Points refunded"),
    body=_("%(reward)s: %(points)s points are back in your account (%(reason)s)."),
)
