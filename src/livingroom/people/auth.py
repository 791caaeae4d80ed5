"""Who is calling: API bearer tokens, browser sessions and staff scopes.

Browser sessions record how the user signed in (``auth_method``): only a session opened with
password + TOTP (``staff``) reaches the staff console, even for a user who also has a phone.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import login, logout
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth

from livingroom.core.errors import NotAuthenticated
from livingroom.core.scopes import StaffScope
from livingroom.people.models import ApiToken, User
from livingroom.people.scopes import staff_scope
from livingroom.people.services import api_token_authenticate

SESSION_METHOD = "auth_method"
SESSION_LAST_SEEN = "last_seen"
SESSION_STARTED = "started_at"
METHOD_SMS = "sms"
METHOD_STAFF = "staff"


def start_session(request: HttpRequest, user: User, *, method: str) -> None:
    """Signs in (a new session key) and records when and how: every browser session ends after
    ``LIVINGROOM_SESSION_IDLE_SECONDS`` without a request and ``LIVINGROOM_SESSION_MAX_SECONDS``
    after sign-in, whatever happens in between (``people.middleware.SessionLimitsMiddleware``)."""
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    now = int(timezone.now().timestamp())
    request.session[SESSION_METHOD] = method
    request.session[SESSION_STARTED] = now
    request.session[SESSION_LAST_SEEN] = now
    request.session.set_expiry(settings.LIVINGROOM_SESSION_IDLE_SECONDS)


def end_session(request: HttpRequest) -> None:
    logout(request)


def session_staff_scope(request: HttpRequest) -> StaffScope | None:
    """The staff scope of a console session, or None (not signed in as staff)."""
    if not request.user.is_authenticated or request.session.get(SESSION_METHOD) != METHOD_STAFF:
        return None
    return staff_scope(request.user)  # type: ignore[arg-type]


class TokenAuth(HttpBearer):
    """``Authorization: Bearer lr_...`` for residents' and staff apps."""

    def __init__(self, kind: str | None = None) -> None:
        self.kind = kind
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = api_token_authenticate(raw=token)
        if found is None or (self.kind and found.kind != self.kind):
            return None
        request.api_token = found  # type: ignore[attr-defined]
        if found.kind == ApiToken.Kind.STAFF:
            scope = staff_scope(found.user)
            if scope is None:
                return None
            request.staff_scope = scope  # type: ignore[attr-defined]
        return found.user


class ResidentSession(SessionAuth):
    """A browser session of any signed-in user (CSRF-checked)."""


class StaffSession(SessionAuth):
    """A console session opened with password + TOTP (CSRF-checked)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        scope = session_staff_scope(request)
        if scope is None:
            return None
        request.staff_scope = scope  # type: ignore[attr-defined]
        return request.user


user_auth = [TokenAuth(), ResidentSession()]
staff_auth = [TokenAuth(kind=ApiToken.Kind.STAFF), StaffSession()]


def acting_user(request: HttpRequest) -> User:
    """The signed-in user of an API call (``request.auth``) or a page (``request.user``)."""
    user = getattr(request, "auth", None) or request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user


def admin_site_behind_console_sign_in(site: Any) -> None:
    """Django's admin has its own password-only sign-in; ours needs password + TOTP with lockouts
    and rate limits. The admin therefore sends people to the console sign-in and admits only a
    console session of an active superuser or ``is_staff`` user."""
    from django.contrib.auth.views import redirect_to_login

    def login_view(request: HttpRequest, extra_context: Any = None) -> Any:
        next_url = request.GET.get("next") or request.get_full_path()
        return redirect_to_login(next_url, settings.STAFF_LOGIN_URL)

    def has_permission(request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and request.session.get(SESSION_METHOD) == METHOD_STAFF)

    site.login = login_view
    site.has_permission = has_permission
