"""The permission matrix covers the whole project: every URL pattern and every operation of the
OpenAPI schema has rows in some permission table, played for every role of that table.

Each permission module (``tests/**/test_*permissions.py``) exposes ``MATRIX``
(``tests.openapi.Matrix``): the (method, template, role) cells of its API table and the
(method, route, role) cells of its page table. A new URL or operation without rows fails here,
whichever app it belongs to; so does a table that leaves out a role the issue names. Every
operation for devices (a tag ``devices`` or ``devices: ...``) is also played by a device of another
center than the objects' (``OTHER_DEVICE``): a new device operation without that cell fails too.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.openapi import OTHER_DEVICE, Matrix

HERE = Path(__file__).parent

# Every table plays at least these roles (the issue's list; "center" staff and the devices are
# added by the tables that have them).
BASE_ROLES = {"anonymous", "resident", "other_resident", "community", "other_community", "street", "district"}
PARTNER = ("partner", "partner_here", "partner_elsewhere", "operator")

# URL patterns that are not ours to test here, with the reason.
EXCLUDED_PREFIXES = {
    "admin/": "Django's admin: superusers only, Django's own permission checks",
    "api/v1/": "the JSON API: covered operation by operation through the OpenAPI schema below",
    "i18n/": "Django's set_language view: no data, no permission",
    "static/": "static files (served by the web server; only under DEBUG by Django)",
    "media/": "uploaded files are never served directly (photos go through permission-checked views)",
}


def permission_modules() -> dict[str, Matrix]:
    found: dict[str, Matrix] = {}
    for path in sorted(HERE.rglob("test_*permissions.py")):
        name = ".".join(path.relative_to(HERE.parent).with_suffix("").parts)
        module = importlib.import_module(name)
        matrix = getattr(module, "MATRIX", None)
        assert isinstance(matrix, Matrix), f"{name} exposes no MATRIX"
        found[name] = matrix
    return found


def routes(patterns, prefix: str = "") -> set[str]:
    found: set[str] = set()
    for p in patterns:
        if isinstance(p, URLResolver):
            found |= routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            found.add(prefix + str(p.pattern))
    return found


def complete(cells, roles) -> dict[tuple[str, str], set[str]]:
    """Rows played for every role of the table: (method, path) -> roles played."""
    by_row: dict[tuple[str, str], set[str]] = {}
    for method, path, role in cells:
        by_row.setdefault((method, path), set()).add(role)
    return {row: played for row, played in by_row.items() if set(roles) <= played}


MODULES = permission_modules()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_table_plays_the_roles_the_issue_names(name):
    matrix = MODULES[name]
    for roles in (matrix.api_roles, matrix.page_roles):
        if roles:
            assert set(roles) >= BASE_ROLES, (name, BASE_ROLES - set(roles))
            assert set(roles) & set(PARTNER), (name, "no partner staff")


def test_every_page_has_rows_for_every_role():
    ours = {r for r in routes(get_resolver().url_patterns) if not r.startswith(tuple(EXCLUDED_PREFIXES))}
    assert len(ours) > 100, "the URL walk is broken"
    covered = {
        path.lstrip("/") for m in MODULES.values() for (_method, path) in complete(m.page_cells, m.page_roles)
    }
    assert sorted(ours - covered) == [], "pages without permission rows for every role"
    assert sorted(covered - ours) == [], "rows for pages that no longer exist"


def schema_operations(api) -> dict[tuple[str, str], set[str]]:
    """(METHOD, /path/{template}) -> tags, for every operation of the OpenAPI schema."""
    schema = api.get("/openapi.json").json()
    return {
        (method.upper(), path.removeprefix("/api/v1")): set(spec.get("tags", ()))
        for path, ops in schema["paths"].items()
        for method, spec in ops.items()
    }


def for_devices(tags: set[str]) -> bool:
    return any(tag == "devices" or tag.startswith("devices:") for tag in tags)


@pytest.mark.django_db
def test_every_operation_has_rows_for_every_role(api):
    operations = schema_operations(api)
    assert len(operations) > 100, "the schema walk is broken"
    covered: dict[tuple[str, str], set[str]] = {}
    for m in MODULES.values():
        for row, played in complete(m.api_cells, m.api_roles).items():
            covered.setdefault(row, set()).update(played)
    assert sorted(set(operations) - set(covered)) == [], "operations without rows for every role"
    assert sorted(set(covered) - set(operations)) == [], "rows for operations that no longer exist"


@pytest.mark.django_db
def test_every_device_operation_is_played_by_a_device_of_another_center(api):
    """The issue's "device of another center": for each operation a signed device calls, some
    table plays ``OTHER_DEVICE`` (and names it in ``devices_elsewhere``)."""
    device_ops = {op for op, tags in schema_operations(api).items() if for_devices(tags)}
    assert len(device_ops) >= 10, "the schema walk is broken"
    played: set[tuple[str, str]] = set()
    for name, m in MODULES.items():
        mine = {(method, path) for method, path, role in m.api_cells if role == OTHER_DEVICE}
        assert not mine or OTHER_DEVICE in m.devices_elsewhere, (name, "plays other_device undeclared")
        assert set(m.devices_elsewhere) <= {OTHER_DEVICE}, (name, m.devices_elsewhere)
        played |= mine
    assert sorted(device_ops - played) == [], "device operations no device of another center plays"


def matrix_size() -> dict[str, int]:
    api_rows = {(m, p) for x in MODULES.values() for (m, p, _r) in x.api_cells}
    page_rows = {(m, p) for x in MODULES.values() for (m, p, _r) in x.page_cells}
    return {
        "operations": len(api_rows),
        "operation cells": sum(len(x.api_cells) for x in MODULES.values()),
        "other-device cells": sum(1 for x in MODULES.values() for c in x.api_cells if c[2] == OTHER_DEVICE),
        "page rows": len(page_rows),
        "page cells": sum(len(x.page_cells) for x in MODULES.values()),
    }


def test_the_matrix_size_is_counted(capsys):
    size = matrix_size()
    assert size["operations"] > 100 and size["page rows"] > 100
    with capsys.disabled():
        print("\npermission matrix:", size)
