"""Every operation of the API, fuzzed from its own OpenAPI description (schemathesis).

For each operation schemathesis draws requests that fit the schema (and, with fewer examples,
requests that do not); each is sent in-process through the WSGI application with the credentials
the operation is for — a resident's token, two members of staff (the whole district, one
community), a signed device of the kind the operation serves, or none — and every answer must be
no 5xx, a documented status, the documented content type and a body that matches its schema.
Path ids and ids in bodies are drawn mostly from rows that exist, so the code behind the 404 runs.

Seeded (``derandomize``): a run is the same on every machine; a failure names the request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client

from livingroom.api import api
from livingroom.places.models import Device
from livingroom.wsgi import application
from tests.fuzz_support import SigningApp, World, connections_kept_open, world_for_module

PREFIX = "/api/v1"
POSITIVE_EXAMPLES = 6  # requests that fit the schema, per operation (each sent once per role)
NEGATIVE_EXAMPLES = 3  # requests that do not
REAL_ID_SHARE = 3  # of 4 drawn requests name rows that exist (path ids and ids in bodies)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

RAW_SCHEMA = api.get_openapi_schema(path_prefix=PREFIX)


def tuples_as_arrays(node: Any) -> Any:
    """The schema with each tuple (``prefixItems``, valid OpenAPI 3.1) spelt as an array of the same
    length whose items are any of the members: schemathesis 4.32 converts ``prefixItems`` for
    draft 4 and then rejects its own conversion as an invalid response schema
    (schemathesis/schemathesis#3842, #4099). Only ``DrawOut.entrants`` is a tuple today."""
    if isinstance(node, list):
        return [tuples_as_arrays(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: tuples_as_arrays(value) for key, value in node.items()}
    if "prefixItems" in out:
        out["items"] = {"anyOf": out.pop("prefixItems")}
    return out


SCHEMA = schemathesis.openapi.from_dict(tuples_as_arrays(RAW_SCHEMA))
SCHEMA.config.generation.update(with_security_parameters=False)

DEVICE_BY_TAG = {
    "devices: vending": Device.Kind.VENDING_MACHINE,
    "devices: canteen": Device.Kind.CANTEEN_TERMINAL,
}


def roles_for(path: str, spec: dict[str, Any]) -> list[str]:
    """Who calls the operation: what its path and security say."""
    security = {name for requirement in spec.get("security", ()) for name in requirement}
    if path.startswith(PREFIX + "/staff/"):
        return ["district", "community"]
    if "DeviceAuth" in security:
        tags = set(spec.get("tags", ()))
        kind = next((k for t, k in DEVICE_BY_TAG.items() if t in tags), Device.Kind.KIOSK)
        return [f"device:{kind}"]
    if "TokenAuth" in security:
        return ["resident"]
    return ["anonymous"]


OPERATIONS = [
    (method.upper(), path, roles_for(path, spec))
    for path, ops in RAW_SCHEMA["paths"].items()
    for method, spec in ops.items()
]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with world_for_module(django_db_blocker) as built:
        yield built


@pytest.fixture
def app():
    with connections_kept_open():
        yield SigningApp(application)


def with_real_ids(base: st.SearchStrategy, world: World, path_names: list[str]) -> st.SearchStrategy:
    """Cases from ``base`` whose path ids and ids in the body (at any depth: ``items[].set_meal_id``)
    are, three times in four, rows that exist."""
    path_pool = {name: world.ids[name] for name in path_names if world.ids.get(name)}

    def replace_ids(draw: Callable, value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                replace_ids(draw, item)
        elif isinstance(value, dict):
            for key, item in value.items():
                if key.endswith("_id") and world.ids.get(key) and not isinstance(item, (dict, list)):
                    value[key] = draw(st.sampled_from(world.ids[key]))
                else:
                    replace_ids(draw, item)

    @st.composite
    def cases(draw: Callable) -> Any:
        case = draw(base)
        if draw(st.integers(0, 3)) < REAL_ID_SHARE:
            for name, values in path_pool.items():
                case.path_parameters[name] = draw(st.sampled_from(values))
            replace_ids(draw, case.body)
        return case

    return cases()


def credentials(role: str, world: World, app: SigningApp, method: str, path: str) -> dict[str, str]:
    app.device = None
    if role.startswith("device:"):
        app.device = world.devices[role.removeprefix("device:")]
        return {}
    if role == "anonymous":
        return {}
    token = world.tokens[role]
    if (method, path) == ("POST", PREFIX + "/auth/logout"):
        token = world.fresh_resident_token()  # signing out ends the token: every call has its own
    return {"Authorization": f"Bearer {token}"}


def fuzz(operation: Any, strategy: st.SearchStrategy, examples: int, roles: list[str], world, app) -> int:
    client = Client(app, use_cookies=False)
    sent = [0]

    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        for role in roles:
            headers = credentials(role, world, app, operation.method.upper(), operation.path)
            response = case.call(session=client, headers=headers, app=app)
            sent[0] += 1
            case.validate_response(response, checks=CHECKS, headers=headers)

    run()
    return sent[0]


@pytest.mark.parametrize(
    ("method", "path", "roles"), OPERATIONS, ids=[f"{m} {p.removeprefix(PREFIX)}" for m, p, _ in OPERATIONS]
)
def test_operation_answers_as_documented(method, path, roles, world, db, app):
    operation = SCHEMA[path][method]
    path_names = [p.name for p in operation.path_parameters]
    started = time.monotonic()
    sent = 0
    for mode, examples in (
        (GenerationMode.POSITIVE, POSITIVE_EXAMPLES),
        (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES),
    ):
        strategy = with_real_ids(operation.as_strategy(generation_mode=mode), world, path_names)
        try:
            sent += fuzz(operation, strategy, examples, roles, world, app)
        except Unsatisfiable:
            # Nothing to send wrong (no parameters, no body): only requests that fit.
            assert mode is GenerationMode.NEGATIVE
    print(f"{method} {path}: {sent} requests as {', '.join(roles)} in {time.monotonic() - started:.2f}s")


def test_every_operation_that_reads_input_documents_its_refusal():
    """Bad input is refused with 400 and the error shape (``livingroom.api.on_validation_error``)
    by every operation that reads a parameter or a body: each one says so in the schema."""
    undocumented = [
        f"{method.upper()} {path}"
        for path, ops in RAW_SCHEMA["paths"].items()
        for method, spec in ops.items()
        if (spec.get("parameters") or "requestBody" in spec)
        and "400" not in {str(s) for s in spec["responses"]}
    ]
    assert undocumented == []
