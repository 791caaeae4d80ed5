"""The JSON API at /api/v1: mounts every app's routers and turns every refusal into one shape.

``{"code": "program_full", "message": "...", "field": null}`` with a 4xx status. A 500 is a bug.
"""

from __future__ import annotations

import logging
import re

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from livingroom.booking import api as booking_api
from livingroom.core.errors import DomainError, ServiceUnavailable
from livingroom.meals import api as meals_api
from livingroom.people import api as people_api
from livingroom.people.auth import staff_auth, user_auth
from livingroom.places import api as places_api
from livingroom.places.devices import device_auth
from livingroom.points import api as points_api
from livingroom.programs import api as programs_api
from livingroom.voice import api as voice_api
from livingroom.volunteering import api as volunteering_api

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="百姓客厅 Living Room API",
    version="1",
    description=(
        "The API of the People's Living Room platform: residents' apps, staff tools and devices. "
        "Errors always have the shape {code, message, field}."
    ),
    urls_namespace="api",
    docs_url="/docs",
)


def error_response(
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    response = api.create_response(request, {"code": code, "message": message, "field": field}, status=status)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    headers = {}
    if exc.status == 429 and "retry_after" in exc.params:
        headers["Retry-After"] = str(exc.params["retry_after"])
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return error_response(request, exc.status, exc.code, exc.message, exc.field, headers)


# pydantic names the member of a union that failed ("int", "str", "list[str]"): not a field.
UNION_TAG = re.compile(r"^(int|str|float|bool|none|list\[.*\]|dict\[.*\]|function-[a-z]+\[.*\])$")


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    loc = [
        str(p)
        for p in first.get("loc", ())
        if p not in ("body", "payload", "query", "path", "header", "form", "file")
        and not UNION_TAG.match(str(p))
    ]
    field = ".".join(loc) or None
    detail = first.get("msg", "")
    message = _("Some of the data sent is not valid.")
    if field:
        message = _("The field “%(field)s” is not valid: %(detail)s") % {"field": field, "detail": detail}
    return error_response(request, 400, "invalid_input", message, field)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        request, 401, "not_authenticated", _("Please sign in first."), headers={"WWW-Authenticate": "Bearer"}
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    text = str(exc)
    if exc.status_code == 400 and text.startswith("Cannot parse request body"):
        return error_response(request, 400, "invalid_json", _("The request body is not valid JSON."))
    if exc.status_code == 403 and "CSRF" in text:
        return error_response(
            request, 403, "csrf_failed", _("The security token is missing or wrong; reload the page.")
        )
    codes = {
        401: "not_authenticated",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        429: "rate_limited",
    }
    return error_response(request, exc.status_code, codes.get(exc.status_code, "bad_request"), text)


@api.exception_handler(Http404)
def on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", _("Not found."))


@api.exception_handler(RawPostDataException)
def on_form_sent_to_json(request: HttpRequest, exc: RawPostDataException) -> HttpResponse:
    # A form (multipart) sent to an operation that reads a JSON body: the form was read already.
    return error_response(request, 400, "invalid_json", _("The request body is not valid JSON."))


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def on_database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The database is restarting or unreachable: nothing was written (the transaction is gone),
    so the client may retry the same request (with its Idempotency-Key) in a moment."""
    logger.warning("database unavailable: %s", type(exc).__name__)
    error = ServiceUnavailable()
    return error_response(
        request, error.status, error.code, error.message, headers={"Retry-After": str(error.retry_after)}
    )


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error_response(request, 413, "payload_too_large", _("The request body is too large."))


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("unexpected error in %s %s", request.method, request.path)
    return error_response(
        request, 500, "server_error", _("Something went wrong on our side. Please try again.")
    )


@api.get("/health", summary="Liveness: the cheapest answer the server gives (no database)", tags=["health"])
def health(request: HttpRequest) -> dict[str, str]:
    return {"status": "ok"}


api.add_router("/auth", people_api.auth_router)
api.add_router("/", people_api.me_router, auth=user_auth)
api.add_router("/", places_api.public_router)
api.add_router("/staff", places_api.staff_router, auth=staff_auth)
api.add_router("/staff", people_api.staff_router, auth=staff_auth)
api.add_router("/devices", people_api.device_router, auth=device_auth)
api.add_router("/", booking_api.public_router)
api.add_router("/", booking_api.resident_router, auth=user_auth)
api.add_router("/", booking_api.device_router, auth=device_auth)
api.add_router("/staff", booking_api.staff_router, auth=staff_auth)
api.add_router("/", programs_api.public_router)
api.add_router("/", programs_api.resident_router, auth=user_auth)
api.add_router("/", programs_api.device_router, auth=device_auth)
api.add_router("/staff", programs_api.staff_router, auth=staff_auth)
api.add_router("/", volunteering_api.public_router)
api.add_router("/", volunteering_api.resident_router, auth=user_auth)
api.add_router("/", volunteering_api.device_router, auth=device_auth)
api.add_router("/staff", volunteering_api.staff_router, auth=staff_auth)
api.add_router("/", points_api.public_router)
api.add_router("/", points_api.resident_router, auth=user_auth)
api.add_router("/", points_api.device_router, auth=device_auth)
api.add_router("/staff", points_api.staff_router, auth=staff_auth)
api.add_router("/", meals_api.public_router)
api.add_router("/", meals_api.resident_router, auth=user_auth)
api.add_router("/", meals_api.device_router, auth=device_auth)
api.add_router("/staff", meals_api.staff_router, auth=staff_auth)
api.add_router("/", voice_api.public_router)  # before /suggestions/{tracking_no}: /suggestions/board
api.add_router("/", voice_api.survey_router, auth=voice_api.optional_auth)
api.add_router("/", voice_api.resident_router, auth=user_auth)
api.add_router("/staff", voice_api.staff_router, auth=staff_auth)
