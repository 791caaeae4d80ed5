from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from livingroom.people.auth import (
    METHOD_STAFF,
    SESSION_LAST_SEEN,
    SESSION_METHOD,
    SESSION_STARTED,
    end_session,
    session_staff_scope,
)

# The last-seen time is written at most this often, so that a page with many requests does not
# save the session on every one of them (the idle limit is kept to within this many seconds).
TOUCH_EVERY = 30


class SessionLimitsMiddleware:
    """Ends a browser session after 30 minutes without a request (idle) or 12 hours after sign-in
    (absolute), for residents and staff alike, and sets ``request.staff_scope``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.staff_scope = None  # type: ignore[attr-defined]
        session = getattr(request, "session", None)
        method = session.get(SESSION_METHOD) if session is not None else None
        if session is not None and method:
            now = int(time.time())
            last = int(session.get(SESSION_LAST_SEEN, 0))
            started = int(session.get(SESSION_STARTED, last))
            if now - last > settings.LIVINGROOM_SESSION_IDLE_SECONDS:
                end_session(request)
                minutes = settings.LIVINGROOM_SESSION_IDLE_SECONDS // 60
                text = _("You were signed out after %(minutes)d minutes without activity.")
                messages.info(request, text % {"minutes": minutes})
            elif now - started > settings.LIVINGROOM_SESSION_MAX_SECONDS:
                end_session(request)
                hours = settings.LIVINGROOM_SESSION_MAX_SECONDS // 3600
                text = _("You were signed out %(hours)d hours after signing in. Please sign in again.")
                messages.info(request, text % {"hours": hours})
            else:
                if now - last >= TOUCH_EVERY:
                    session[SESSION_LAST_SEEN] = now
                if method == METHOD_STAFF:
                    request.staff_scope = session_staff_scope(request)  # type: ignore[attr-defined]
        return self.get_response(request)
