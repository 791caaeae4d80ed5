"""The resident's message list."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from livingroom.core.permissions import resident_required
from livingroom.notices import selectors, services


@resident_required
def inbox(request: HttpRequest) -> HttpResponse:
    items = selectors.notices_of(request.user)  # type: ignore[arg-type]
    response = render(request, "notices/inbox.html", {"items": items})
    services.notices_mark_read(user=request.user)  # type: ignore[arg-type]  # seen once shown
    return response
