"""The API's own description as the list of what must be tested: every permission table checks
that it has a row for each operation of its app, and none for an operation that is gone."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any


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
