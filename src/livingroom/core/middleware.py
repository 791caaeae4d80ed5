from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext as _

from livingroom.core import context
from livingroom.core.errors import InvalidInput


def client_ip(request: HttpRequest) -> str | None:
    # Behind a reverse proxy, the proxy must set REMOTE_ADDR correctly (see docs/operations.md);
    # we do not trust X-Forwarded-For from the open internet.
    return request.META.get("REMOTE_ADDR") or None


class RequestIdMiddleware:
    """Gives every request an id (``X-Request-Id``) and records it with the client IP."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-Id", "")
        request_id = incoming if incoming.isalnum() and len(incoming) <= 64 else uuid.uuid4().hex
        token = context.set_current(context.RequestContext(request_id=request_id, ip=client_ip(request)))
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-Id"] = request_id
        return response


class DomainErrorMiddleware:
    """A DomainError escaping a page view becomes a friendly page with its status (404, 403, ...)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.db import InterfaceError, OperationalError

        from livingroom.core.errors import DomainError

        if isinstance(exception, OperationalError | InterfaceError):
            # The database is restarting or unreachable: a friendly 503 that says to retry.
            logger.warning("database unavailable: %s", type(exception).__name__)
            return server_error(request, exception)
        if isinstance(exception, DomainError):
            return render(request, "core/error.html", {"error": exception}, status=exception.status)
        return None


API_PREFIX = "/api/"
logger = logging.getLogger("livingroom.request")


def _nul_in(value: object, path: str = "") -> str | None:
    """The dotted path of the first string holding a NUL character in parsed JSON, or None."""
    if isinstance(value, str):
        return path or "body" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            key_path = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return key_path
            found = _nul_in(item, key_path)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_in(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


class RequestHygieneMiddleware:
    """Transport-level rules every endpoint would otherwise have to repeat.

    * A NUL character in a query parameter or in a JSON string is refused with 400
      ``invalid_input`` (PostgreSQL cannot store it; no person types it). Page forms already
      refuse it through Django's own validator.
    * Under ``/api/`` every refusal is JSON ``{code, message, field}``, including an unknown
      path (404) and a wrong method (405) that never reach an API route.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        is_api = request.path.startswith(API_PREFIX)
        try:
            field = self._nul_field(request, is_api=is_api)
        except RequestDataTooBig:
            return self._too_big(request, is_api=is_api)
        except MultiPartParserError:
            if not is_api:
                raise  # Django answers a page with its 400
            message = str(_("The form data cannot be read."))
            return JsonResponse({"code": "invalid_input", "message": message, "field": None}, status=400)
        if field is not None:
            return self._refuse_nul(request, field, is_api=is_api)
        if is_api and self._not_an_object(request):
            return JsonResponse(
                {
                    "code": "invalid_json",
                    "message": str(_("The request body must be a JSON object.")),
                    "field": None,
                },
                status=400,
            )
        response = self.get_response(request)
        if is_api and response.status_code in (404, 405) and not self._is_json(response):
            response = self._json_refusal(response)
        return response

    @staticmethod
    def _is_json(response: HttpResponse) -> bool:
        return str(response.get("Content-Type", "")).startswith("application/json")

    @staticmethod
    def _nul_field(request: HttpRequest, *, is_api: bool) -> str | None:
        if "\x00" in request.path:
            return "path"
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in v for v in values):
                return key.replace("\x00", "")
        content_type = request.content_type or ""
        if request.method in ("POST", "PUT", "PATCH") and content_type in (
            "multipart/form-data",
            "application/x-www-form-urlencoded",
        ):
            for key, values in request.POST.lists():  # RequestDataTooBig: answered by the caller
                if "\x00" in key or any("\x00" in v for v in values):
                    return key.replace("\x00", "")
            return None
        if is_api and request.method in ("POST", "PUT", "PATCH") and content_type.endswith("json"):
            try:
                body = request.body
            except RequestDataTooBig:
                return None  # the API answers 413 itself
            if b"\\u0000" not in body and b"\x00" not in body:
                return None
            try:
                return _nul_in(json.loads(body)) or None
            except (ValueError, UnicodeDecodeError):
                return None  # not JSON: the API answers invalid_json itself
        return None

    @staticmethod
    def _not_an_object(request: HttpRequest) -> bool:
        """A JSON body that is not an object (``42``, ``null``, ``[]``): every API body is an object,
        and django-ninja would otherwise read such a body as ``{}`` when all fields have defaults."""
        if request.method not in ("POST", "PUT", "PATCH") or not (request.content_type or "").endswith(
            "json"
        ):
            return False
        try:
            start = request.body.lstrip()[:1]
        except RequestDataTooBig:
            return False
        return start not in (b"", b"{")

    @staticmethod
    def _too_big(request: HttpRequest, *, is_api: bool) -> HttpResponse:
        if is_api:
            message = str(_("The request body is too large."))
            return JsonResponse({"code": "payload_too_large", "message": message, "field": None}, status=413)
        error = InvalidInput(_("The form sent is too large."))
        return render(request, "core/error.html", {"error": error}, status=400)

    @staticmethod
    def _refuse_nul(request: HttpRequest, field: str, *, is_api: bool) -> HttpResponse:
        error = InvalidInput(_("The text contains a character that is not allowed."), field=field)
        if is_api:
            return JsonResponse(
                {"code": error.code, "message": str(error.message), "field": field}, status=400
            )
        return render(request, "core/error.html", {"error": error}, status=400)

    @staticmethod
    def _json_refusal(response: HttpResponse) -> HttpResponse:
        if response.status_code == 404:
            code, message = "not_found", _("Not found.")
        else:
            code, message = "method_not_allowed", _("This method is not allowed here.")
        refusal = JsonResponse(
            {"code": code, "message": str(message), "field": None}, status=response.status_code
        )
        if response.has_header("Allow"):
            refusal["Allow"] = response["Allow"]
        return refusal


def server_error(request: HttpRequest, exception: BaseException | None = None) -> HttpResponse:
    """``handler500``: what an unhandled error answers, without touching the database (it may be
    what failed). A database that is restarting or unreachable is a 503 with ``Retry-After``, as
    it is for a view (``DomainErrorMiddleware``) and for the API."""
    import sys

    from django.db import InterfaceError, OperationalError
    from django.template.loader import render_to_string

    from livingroom.core.errors import ServiceUnavailable

    exc = exception or sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError):
        error = ServiceUnavailable()
        status, code, message = error.status, error.code, str(error.message)
    else:
        status, code = 500, "server_error"
        message = _("Something went wrong on our side. It has been recorded; please try again later.")
    if request.path.startswith(API_PREFIX):
        response: HttpResponse = JsonResponse(
            {"code": code, "message": message, "field": None}, status=status
        )
    else:
        title = _("Please try again in a moment") if status == 503 else _("Something went wrong")
        html = render_to_string("core/server_error.html", {"title": title, "message": message})
        response = HttpResponse(html, status=status)
    if status == 503:
        response["Retry-After"] = str(ServiceUnavailable.retry_after)
    return response
