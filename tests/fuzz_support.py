"""What the schema fuzzer (tests/test_fuzz.py) needs around schemathesis: a populated world built
once per module, who calls each operation, ids of rows that exist, and a device that signs.

The world is the demo district (``web.demo.loader.load_demo``): every app has real rows in it
(programs with sessions and enrolments, bookings, shifts, canteens with menus, surveys,
suggestions...), so fuzzed requests that name a real id reach the code behind the 404.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.core.handlers.wsgi import WSGIRequest
from django.db import close_old_connections, connection, models, transaction
from django.test import override_settings

from livingroom.booking.models import Booking, BookingSeries, BookingSuspension
from livingroom.core import signing
from livingroom.meals.models import Canteen, Meal, SetMeal, Tier
from livingroom.people.models import ApiToken, Dependant, Resident, User
from livingroom.people.services import api_token_issue
from livingroom.places.models import Center, Community, Device, Space, Street
from livingroom.points.models import Redemption, Reward
from livingroom.programs.models import Enrollment, Program, ProgramSession, Talent
from livingroom.voice.models import Extension, Suggestion, Survey
from livingroom.volunteering.models import Activity, Certificate, Correction, Shift, Signup

RESIDENT_PHONE = "13800138000"  # 李晓梅 of 固戍: enrolled, booked, volunteering in the demo
DISTRICT_STAFF = "district"  # the whole district
COMMUNITY_STAFF = "gushu"  # one community (固戍)

# Where a path parameter or a body field named so finds its rows: (model, field holding the value).
ID_SOURCES: dict[str, tuple[type[models.Model], str]] = {
    "dependant_id": (Dependant, "pk"),
    "center_id": (Center, "pk"),
    "resident_id": (Resident, "pk"),
    "space_id": (Space, "pk"),
    "booking_id": (Booking, "pk"),
    "series_id": (BookingSeries, "pk"),
    "suspension_id": (BookingSuspension, "pk"),
    "program_id": (Program, "pk"),
    "enrollment_id": (Enrollment, "pk"),
    "session_id": (ProgramSession, "pk"),
    "talent_id": (Talent, "pk"),
    "activity_id": (Activity, "pk"),
    "shift_id": (Shift, "pk"),
    "signup_id": (Signup, "pk"),
    "certificate_id": (Certificate, "pk"),
    "code": (Certificate, "code"),
    "correction_id": (Correction, "pk"),
    "reward_id": (Reward, "pk"),
    "redemption_id": (Redemption, "pk"),
    "canteen_id": (Canteen, "pk"),
    "meal_id": (Meal, "pk"),
    "set_meal_id": (SetMeal, "pk"),
    "tier_id": (Tier, "pk"),
    "survey_id": (Survey, "pk"),
    "tracking_no": (Suggestion, "tracking_no"),
    "suggestion_id": (Suggestion, "pk"),
    "extension_id": (Extension, "pk"),
    "community_id": (Community, "pk"),
    "home_community_id": (Community, "pk"),
    "street_id": (Street, "pk"),
}
PER_SOURCE = 12  # real values kept per name: the resident's own rows first


def _values(model: type[models.Model], attr: str, resident: Resident) -> list[Any]:
    """Up to PER_SOURCE values: rows that belong to the resident (any foreign key to them or their
    user) first, then the others, in id order so that a seeded run draws the same ones."""
    own_filters = models.Q(pk__in=[])
    for f in model._meta.get_fields():
        if getattr(f, "many_to_one", False) and f.related_model is Resident:
            own_filters |= models.Q(**{f.name: resident})
        elif getattr(f, "many_to_one", False) and f.related_model is User:
            own_filters |= models.Q(**{f.name: resident.user})
    own = list(model._default_manager.filter(own_filters).order_by("pk").values_list(attr, flat=True)[:6])
    rest = model._default_manager.exclude(**{f"{attr}__in": own}).order_by("pk")
    return own + list(rest.values_list(attr, flat=True)[: PER_SOURCE - len(own)])


@dataclass
class World:
    resident: Resident
    district: User
    community: User
    tokens: dict[str, str]  # role -> bearer token
    devices: dict[str, tuple[str, str]]  # device kind -> (key id, secret)
    ids: dict[str, list[Any]] = field(default_factory=dict)

    def fresh_resident_token(self) -> str:
        raw, _ = api_token_issue(user=self.resident.user, kind=ApiToken.Kind.RESIDENT)
        return raw


def build_world() -> World:
    from livingroom.web.demo.loader import load_demo

    demo = load_demo(residents=120)
    resident = User.objects.get_by_phone(RESIDENT_PHONE).resident
    district = User.objects.get(username=DISTRICT_STAFF)
    community = User.objects.get(username=COMMUNITY_STAFF)
    secrets_by_key: dict[str, str] = demo["devices"]  # type: ignore[assignment]
    devices = {
        d.kind: (d.key_id, secrets_by_key[d.key_id]) for d in Device.objects.filter(key_id__in=secrets_by_key)
    }
    tokens = {
        "resident": api_token_issue(user=resident.user, kind=ApiToken.Kind.RESIDENT)[0],
        "district": api_token_issue(user=district, kind=ApiToken.Kind.STAFF)[0],
        "community": api_token_issue(user=community, kind=ApiToken.Kind.STAFF)[0],
    }
    world = World(resident, district, community, tokens, devices)
    for name, (model, attr) in ID_SOURCES.items():
        world.ids[name] = _values(model, attr, resident)
    return world


@contextmanager
def world_for_module(django_db_blocker: Any) -> Iterator[World]:
    """The world in an outer transaction that every test of the module nests in (as Django's
    ``TestCase.setUpTestData``), rolled back at the end. The block is marked as a test case's so
    that services' ``atomic(durable=True)`` run inside it, as they do inside a test."""
    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
        ),
    ):
        outer = transaction.atomic()
        outer._from_testcase = True  # type: ignore[attr-defined]
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@contextmanager
def connections_kept_open() -> Iterator[None]:
    """Django closes the database connection when a request ends unless in autocommit; inside a
    test's transaction that would lose the test's data. Django's test Client disconnects the same
    handler; requests sent through the WSGI application directly need it too."""
    from django.core.signals import request_finished, request_started

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        assert connection.connection is not None or not connection.in_atomic_block


class SigningApp:
    """The WSGI application behind a device's signing client: when ``device`` is set, the request
    is signed over the exact method, path, query string and body bytes it arrives with."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.device: tuple[str, str] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.device is not None:
            key_id, secret = self.device
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length > 0 else b""
            environ["wsgi.input"] = io.BytesIO(body)
            full_path = WSGIRequest(dict(environ, **{"wsgi.input": io.BytesIO(body)})).get_full_path()
            method = environ["REQUEST_METHOD"]
            for name, value in signing.signed_headers(secret, key_id, method, full_path, body).items():
                environ["HTTP_" + name.upper().replace("-", "_")] = value
        return self.app(environ, start_response)
