"""Sending notices. ``notice_send`` writes the message list entry and, if asked, an SMS after commit."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from livingroom.core.masking import mask_phone
from livingroom.notices import catalogue
from livingroom.notices.models import Notice
from livingroom.people.models import User
from livingroom.people.sms import SmsDeliveryError, get_backend

logger = logging.getLogger(__name__)


def notice_send(
    *, user: User, kind: str, params: dict[str, Any], link: str = "", sms: bool = False
) -> Notice:
    notice = Notice.objects.create(user=user, kind=kind, params=params, link=link[:200])
    if sms and user.phone:
        # Queued once the caller's transaction commits: a slow SMS gateway never holds up the
        # request, and a booking that rolls back sends nothing.
        transaction.on_commit(lambda: notice_sms_deliver.enqueue(notice.pk))
    return notice


def notices_send_many(items: list[tuple[User, str, dict[str, Any], str, bool]]) -> list[Notice]:
    """Many notices in one INSERT (``(user, kind, params, link, sms)`` each): the opening draw of a
    popular course tells thousands of people at once. SMS go out after commit, as with one."""
    notices = Notice.objects.bulk_create(
        [
            Notice(user=user, kind=kind, params=params, link=link[:200])
            for user, kind, params, link, _sms in items
        ],
        batch_size=1000,
    )
    texted = [
        n.pk for n, (user, _k, _p, _l, sms) in zip(notices, items, strict=True) if sms and user.phone and n.pk
    ]
    if texted:
        transaction.on_commit(partial(_enqueue_sms, texted))
    return notices


def _enqueue_sms(notice_ids: list[int]) -> None:
    for pk in notice_ids:
        notice_sms_deliver.enqueue(pk)


@task()
def notice_sms_deliver(notice_id: int) -> None:
    """A background task: sends a notice by SMS once; a failure is logged, never undoes the booking
    or payment that caused it."""
    notice = Notice.objects.select_related("user").filter(pk=notice_id, sms_sent_at__isnull=True).first()
    if notice is None or not notice.user.phone:
        return
    with translation.override(settings.LANGUAGE_CODE):
        title, body = catalogue.render(notice.kind, notice.params)
        message = _("[Living Room] %(title)s: %(body)s") % {"title": title, "body": body}
    try:
        get_backend().send(notice.user.phone, message)
    except SmsDeliveryError:
        logger.warning("SMS to %s for notice %s failed", mask_phone(notice.user.phone), notice.pk)
        return
    Notice.objects.filter(pk=notice.pk).update(sms_sent_at=timezone.now())


def notices_mark_read(*, user: User, notice_ids: list[int] | None = None) -> int:
    qs = Notice.objects.filter(user=user, read_at__isnull=True)
    if notice_ids is not None:
        qs = qs.filter(pk__in=notice_ids)
    return qs.update(read_at=timezone.now())
