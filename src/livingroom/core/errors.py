"""Domain errors with stable machine codes.

Every refusal the platform gives is a ``DomainError``: a stable ``code`` (for programs), a
human ``message`` in the request's language, an optional ``field``, and an HTTP status. Apps
define their own subclasses in ``<app>/errors.py``; one handler in ``livingroom.api`` turns them
into ``{"code": ..., "message": ..., "field": ...}`` and pages show the message.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code: ClassVar[str] = "invalid_request"
    status: ClassVar[int] = 400
    default_message: ClassVar[str | Promise] = _("The request could not be carried out.")

    def __init__(
        self,
        message: str | Promise | None = None,
        *,
        code: str | None = None,
        field: str | None = None,
        status: int | None = None,
        **params: Any,
    ) -> None:
        self._message = message if message is not None else self.default_message
        if code is not None:
            self.code = code  # type: ignore[misc]
        if status is not None:
            self.status = status  # type: ignore[misc]
        self.field = field
        self.params = params
        super().__init__(self.code)

    @property
    def message(self) -> str:
        text = str(self._message)
        return text % self.params if self.params else text

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "field": self.field}

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 400
    default_message = _("Some of the data sent is not valid.")


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    status = 401
    default_message = _("Please sign in first.")


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403
    default_message = _("You are not allowed to do this.")


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = _("This conflicts with the current state.")


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    status = 413
    default_message = _("The request body is too large.")


class ServiceUnavailable(DomainError):
    """The database is restarting or unreachable: nothing was written; retry in a moment."""

    code = "service_unavailable"
    status = 503
    default_message = _(
        "The service is busy for a moment. Nothing was saved; please try again in a few seconds."
    )
    retry_after = 5


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    default_message = _("Too many requests. Please wait a moment and try again.")
