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


def in_pool(n: int, fn: Callable[[int], Any], workers: int = 32) -> list[Any]:
    """Runs fn(0) … fn(n-1) on ``workers`` threads (each with its own connection) released at once,
    each thread taking the next call as soon as it is done: a rush of ``n`` requests that stays
    under the server's connection limit. Returns results or DomainError codes, in call order."""
    barrier = threading.Barrier(workers)
    results: list[Any] = [None] * n
    calls = iter(range(n))
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait(timeout=20)
            while True:
                with lock:
                    i = next(calls, None)
                if i is None:
                    return
                try:
                    results[i] = fn(i)
                except DomainError as exc:
                    results[i] = exc.code
                except Exception as exc:  # pragma: no cover - reported by the assertions
                    results[i] = f"unexpected {type(exc).__name__}: {exc}"
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results
