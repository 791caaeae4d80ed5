"""The API's own description as the list of what must be tested: every permission table checks
that it has a row for each operation of its app, and none for an operation that is gone."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from django.db import transaction


def operations(api, keep: Callable[[set[str]], bool]) -> set[tuple[str, str]]:
    """``(METHOD, /path/{template})`` of every operation whose tags ``keep`` accepts."""
    schema = api.get("/openapi.json").json()
    return {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, ops in schema["paths"].items()
        for method, spec in ops.items()
        if keep(set(spec.get("tags", ())))
    }


def tagged(*tags: str) -> Callable[[set[str]], bool]:
    return lambda found: bool(found & set(tags))


def mentioning(word: str) -> Callable[[set[str]], bool]:
    return lambda found: any(word in tag for tag in found)


def assert_table_covers(
    api, keep: Callable[[set[str]], bool], table: Iterable[tuple[str, str]], what: str
) -> None:
    ours, in_table = operations(api, keep), set(table)
    assert ours, f"no {what} operations found: the schema walk is broken"
    assert ours - in_table == set(), f"{what} operations without a permission row"
    assert in_table - ours == set(), "rows for operations that no longer exist"


def play_cell(
    call: Callable[[], Any],
    status: int,
    code: str | None,
    *,
    where: Any,
    guard: Callable[[], AbstractContextManager[Any]],
    check: Callable[[Any], None] | None = None,
) -> Any:
    """One cell of a permission table. A refusal has the expected status and code, the error shape,
    and leaves everything as it was (``guard``); a success has the status and passes ``check``."""
    if status >= 400:
        with guard():
            response = call()
        assert response.status_code == status, (where, response.content[:300])
        payload = response.json()
        assert set(payload) == {"code", "message", "field"} and payload["message"], payload
        assert payload["code"] == code, (where, payload)
        return response
    response = call()
    assert response.status_code == status, (where, response.content[:300])
    if check is not None:
        check(response)
    return response


# --- the matrix: what each permission table covers -------------------------------------------------


@dataclass(frozen=True)
class Matrix:
    """What one permission module plays, in a shape every module shares: ``(method, template,
    role)`` for API operations (the template as in the OpenAPI schema, without ``/api/v1``) and
    ``(method, route, role)`` for pages (the Django URL pattern as walked from the root). The
    project-wide guard (tests/test_matrix_coverage.py) reads ``MATRIX`` from every permission
    module. ``devices_elsewhere``: roles that are a device of another center than the objects'
    (``OTHER_DEVICE``); they need not be in ``api_roles`` (a table may play them on its device
    rows and a few others only), but the guard wants ``OTHER_DEVICE`` on every device operation."""

    api_roles: tuple[str, ...] = ()
    api_cells: frozenset[tuple[str, str, str]] = frozenset()
    page_roles: tuple[str, ...] = ()
    page_cells: frozenset[tuple[str, str, str]] = frozenset()
    devices_elsewhere: tuple[str, ...] = ()


# A device of the same kind as the table's, registered at a center of another community (and
# sub-district) than the objects the rows target: for this center's object it gets the refusal.
OTHER_DEVICE = "other_device"


def cells(rows: Iterable[Any], roles: Iterable[str], key: Callable[[Any], tuple[str, str]]):
    """Every (row, role) cell of a table whose test plays every row for every role."""
    return frozenset((*key(row), role) for row in rows for role in roles)


def param_cells(params: Iterable[Any], key: Callable[[Any], tuple[str, str]]):
    """The cells of a table parametrized as ``pytest.param(role, op, ...)``."""
    return frozenset((*key(p.values[1]), p.values[0]) for p in params)


# --- pages: one table per app, every row played for every role ------------------------------------


@dataclass(frozen=True)
class SignIn:
    """A 302 to a sign-in page with ``?next=`` the asked path: a refusal."""

    to: str


@dataclass(frozen=True)
class Moved:
    """A 302 elsewhere (after a form, or to where the page lives now); ``to``: the start of the
    Location. ``refused``: the form was refused (a message says why) and nothing changed."""

    to: str = "/"
    refused: bool = False


PageExpect = int | SignIn | Moved
LOGIN = SignIn("/login/")
CONSOLE_LOGIN = SignIn("/console/login/")


@dataclass(frozen=True)
class Page:
    """A page row: ``url(world, target)`` for each target; ``expect(role, target)``."""

    method: str
    route: str  # the Django URL pattern as walked from the root urlconf
    expect: Callable[[str, Any], PageExpect]
    url: Callable[[Any, Any], str]
    targets: tuple[Any, ...] = (0,)
    body: Callable[[Any, Any], dict] | None = None

    def __str__(self) -> str:
        return f"{self.method} /{self.route}"


PAGE_TARGETS = (0, 2)  # this community's object and another sub-district's


def page_row(
    method: str, route: str, expect: Any, url: Any, targeted: bool = False, body: Any = None
) -> Page:
    """A page row played on one object, or (``targeted``) on this community's and another
    sub-district's."""
    return Page(method, route, expect, url, PAGE_TARGETS if targeted else (0,), body)


def page_browser(role: str, user_of: Callable[[str], Any], residents: Iterable[str]) -> Any:
    """A browser for ``role``: nobody, a resident's session, or a console session (password + TOTP)."""
    from django.test import Client

    from tests.conftest import console_client

    if role == "anonymous":
        return Client()
    if role in residents:
        client = Client()
        client.force_login(user_of(role))
        return client
    return console_client(user_of(role))


def page_key(page: Page) -> tuple[str, str]:
    return page.method, page.route


def is_page_refusal(expected: PageExpect) -> bool:
    if isinstance(expected, Moved):
        return expected.refused
    return isinstance(expected, SignIn) or expected >= 400


RESIDENT_ROLES = ("resident", "other_resident")
PROFILE = Moved("/me/profile/")  # staff have no resident profile: sent to fill one in
Rule = PageExpect | Callable[[str, Any], PageExpect]


def _apply(rule: Rule, role: str, t: Any) -> PageExpect:
    return rule(role, t) if callable(rule) else rule


def is_staff(role: str) -> bool:
    return role != "anonymous" and role not in RESIDENT_ROLES


def open_page(ok: Rule) -> Callable[[str, Any], PageExpect]:
    return lambda role, t: _apply(ok, role, t)


def resident_page(
    resident: Rule, other: Rule | None = None, staff: Rule = PROFILE
) -> Callable[[str, Any], PageExpect]:
    """A page for signed-in residents: anonymous to the sign-in page; ``other``: what the other
    resident gets where it differs; ``staff``: what members of staff get."""

    def expect(role: str, t: Any) -> PageExpect:
        if role == "anonymous":
            return LOGIN
        if role == "other_resident" and other is not None:
            return _apply(other, role, t)
        return _apply(resident if role in RESIDENT_ROLES else staff, role, t)

    return expect


def console(ok: Rule = 200) -> Callable[[str, Any], PageExpect]:
    """A console page: whoever has no staff session to the console's sign-in page."""
    return lambda role, t: _apply(ok, role, t) if is_staff(role) else CONSOLE_LOGIN


def seen(scope: dict[str, set[int]], ok: Rule = 200, missing: PageExpect = 404) -> Rule:
    """The object ``t`` in the role's scope: ``ok``; else not found."""
    return lambda role, t: _apply(ok, role, t) if t in scope.get(role, set()) else missing


@contextmanager
def rolled_back() -> Iterator[None]:
    """A savepoint undone at the end, so every cell of a page table meets the same world. Marked
    as the test case's own block so the services' durable blocks may run inside it."""
    block = transaction.atomic()
    block._from_testcase = True  # type: ignore[attr-defined]
    with block:
        yield
        transaction.set_rollback(True)


def outcome(response) -> str:
    if response.status_code in (301, 302):
        return f"302 -> {response['Location']}"
    return str(response.status_code)


def page_matches(expected: PageExpect, response, url: str) -> bool:
    if isinstance(expected, SignIn):  # ``next`` quoted or not, as long as it is the asked path
        return response.status_code == 302 and unquote(response["Location"]) == f"{expected.to}?next={url}"
    if isinstance(expected, Moved):
        return response.status_code == 302 and response["Location"].startswith(expected.to)
    return response.status_code == expected


def play_pages(
    world: Any,
    pages: Iterable[Page],
    roles: Iterable[str],
    client_for: Callable[[str], Any],
    guard: Callable[[], AbstractContextManager[Any]],
) -> int:
    """Play every page for every role and target; each cell in a savepoint undone afterwards, a
    refusal inside ``guard`` (nothing changes). Fails once, listing every cell that differs.
    Returns the number of requests made."""
    wrong: list[str] = []
    played = 0
    clients = {role: client_for(role) for role in roles}
    for page in pages:
        for role in roles:
            for target in page.targets:
                expected = page.expect(role, target)
                url = page.url(world, target)
                client = clients[role]
                with rolled_back(), guard() if is_page_refusal(expected) else nullcontext():
                    if page.method == "GET":
                        response = client.get(url)
                    else:
                        response = client.post(url, page.body(world, target) if page.body else {})
                played += 1
                if not page_matches(expected, response, url):
                    wrong.append(
                        f"{role}: {page.method} {url} (#{target}) wanted {expected}, got {outcome(response)}"
                    )
    assert wrong == [], "\n".join(wrong)
    return played
