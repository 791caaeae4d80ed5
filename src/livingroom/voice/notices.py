"""The words of residents' voice notices (rendered in the reader's language when shown)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from livingroom.notices.catalogue import register

register(
    "voice.received",
    title=_("Request received"),
    body=_("Your request %(no)s was received. %(owner)s answers by %(respond_by)s."),
)
register(
    "voice.responded",
    title=_("Reply to your request"),
    body=_("%(no)s: %(message)s"),
)
register(
    "voice.resolved",
    title=_("Your request is resolved"),
    body=_("%(no)s: %(reply)s Please rate how it was handled."),
)
register(
    "voice.follow_up",
    title=_("Follow-up opened"),
    body=_("%(no)s: we are sorry it did not satisfy you; it will be followed up by %(due)s."),
)
register(
    "voice.assigned",
    title=_("Request handed to you"),
    body=_("%(no)s (%(kind)s) is now yours; respond by %(respond_by)s, resolve by %(resolve_by)s."),
)
register(
    "voice.overdue",
    title=_("Request overdue"),
    body=_("%(no)s at %(center)s (%(owner)s) was due %(due)s and is not resolved."),
)
register(
    "voice.extension_decided",
    title=_("Extension decided"),
    body=_("%(no)s: extension of %(days)s working days %(decision)s. %(note)s"),
)
