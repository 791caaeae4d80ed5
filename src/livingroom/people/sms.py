"""Pluggable SMS delivery.

A backend is a class with ``send(phone: str, message: str) -> None`` that raises
``SmsDeliveryError`` when the provider refuses. ``LIVINGROOM_SMS_BACKEND`` names the class; the
default ``OutboxBackend`` stores messages in the database (``SmsOutbox``), where developers
(``livingroom sms_outbox``, or /dev/sms/ with DEBUG on) and tests read them. A real provider
adapter subclasses ``SmsBackend`` (see docs/operations.md).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from livingroom.people.models import SmsOutbox, phone_index


class SmsDeliveryError(RuntimeError):
    pass


class SmsBackend:
    def send(self, phone: str, message: str) -> None:  # pragma: no cover - interface
        raise SmsDeliveryError("no SMS provider configured")


class OutboxBackend(SmsBackend):
    def send(self, phone: str, message: str) -> None:
        SmsOutbox.objects.create(phone=phone, phone_hash=phone_index(phone), body=message)


def get_backend() -> SmsBackend:
    backend: SmsBackend = import_string(settings.LIVINGROOM_SMS_BACKEND)()
    return backend


def latest_outbox_message(phone: str) -> SmsOutbox | None:
    return SmsOutbox.objects.filter(phone_hash=phone_index(phone)).order_by("-created_at", "-id").first()
