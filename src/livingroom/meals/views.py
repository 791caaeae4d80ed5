"""Resident pages of meal assistance (thin: parse, call one service or selector, render)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from livingroom.meals import selectors


def canteens(request: HttpRequest) -> HttpResponse:
    return render(request, "meals/canteens.html", {"canteens": selectors.canteens_public()})
