"""Staff console pages of meal assistance."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from livingroom.core.permissions import staff_required, staff_scope_of
from livingroom.meals import selectors


@staff_required
def index(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    return render(request, "meals/console/index.html", {"canteens": selectors.canteens_for_staff(scope)})
