"""How enrolment fees are taken and given back: a small adapter interface, no gateway yet.

An adapter turns "charge ¥x for this enrolment" into a reference the ledger keeps, and a refund
into another. ``cash`` (paid at the desk, the desk's receipt number optional) and ``external``
(a payment made elsewhere, e.g. a WeChat Pay or bank transfer number typed in by staff) come
with the platform. A real gateway is one more class named in ``LIVINGROOM_PAYMENT_ADAPTERS``.
"""

from __future__ import annotations

from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from livingroom.programs import errors


class PaymentAdapter(Protocol):
    method: str
    label: str

    def charge(self, *, enrollment_id: int, amount_fen: int, reference: str) -> str:
        """Takes the money (or records that it was taken); returns the reference to keep."""
        ...

    def refund(self, *, enrollment_id: int, amount_fen: int, charge_reference: str) -> str:
        """Gives money back; returns the refund's reference."""
        ...


class CashAtDesk:
    method = "cash"
    label = _("Cash at the desk")

    def charge(self, *, enrollment_id: int, amount_fen: int, reference: str) -> str:
        return reference.strip()[:100]

    def refund(self, *, enrollment_id: int, amount_fen: int, charge_reference: str) -> str:
        return ""  # handed back at the desk


class ExternalReference:
    """A payment made outside the platform; staff type in its transaction number."""

    method = "external"
    label = _("External payment (reference number)")

    def charge(self, *, enrollment_id: int, amount_fen: int, reference: str) -> str:
        reference = reference.strip()
        if not reference or len(reference) > 100 or not reference.isprintable():
            raise errors.PaymentInvalid(why=_("enter the payment's reference number"), field="reference")
        return reference

    def refund(self, *, enrollment_id: int, amount_fen: int, charge_reference: str) -> str:
        return f"refund-of:{charge_reference}"[:100]


DEFAULT_ADAPTERS = [
    "livingroom.programs.payments.CashAtDesk",
    "livingroom.programs.payments.ExternalReference",
]


def adapters() -> dict[str, PaymentAdapter]:
    paths = getattr(settings, "LIVINGROOM_PAYMENT_ADAPTERS", DEFAULT_ADAPTERS)
    found: dict[str, PaymentAdapter] = {}
    for path in paths:
        adapter = import_string(path)()
        found[adapter.method] = adapter
    return found


def adapter(method: str) -> PaymentAdapter:
    found = adapters().get(method)
    if found is None:
        raise errors.PaymentInvalid(why=_("unknown payment method"), field="method")
    return found
