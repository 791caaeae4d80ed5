"""Page guards. ``request.staff_scope`` is set by the staff-session middleware (people app)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url

from livingroom.core.errors import NotAuthenticated
from livingroom.core.scopes import StaffScope


def _redirect_to(login_url: str, request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(f"{resolve_url(login_url)}?{urlencode({'next': request.get_full_path()})}")


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A console page: signed in with password + TOTP and holding a staff role."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request, "staff_scope", None) is None:
            return _redirect_to(settings.STAFF_LOGIN_URL, request)
        return view(request, *args, **kwargs)

    return wrapper


def resident_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A resident page: any signed-in user."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return _redirect_to(settings.LOGIN_URL, request)
        return view(request, *args, **kwargs)

    return wrapper


def staff_scope_of(request: HttpRequest) -> StaffScope:
    """The caller's staff scope, set by the staff-session middleware or the staff API auth."""
    scope = getattr(request, "staff_scope", None)
    if scope is None:
        raise NotAuthenticated()
    return scope
