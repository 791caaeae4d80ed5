"""Real parallel database connections for concurrency tests (PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

from livingroom.core.errors import DomainError


def in_parallel(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """Runs fn(i) in n threads released at once; returns results or DomainError codes."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=20)
            results[i] = fn(i)
        except DomainError as exc:
            results[i] = exc.code
        except Exception as exc:  # pragma: no cover - reported by the assertions
            results[i] = f"unexpected {type(exc).__name__}: {exc}"
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results
