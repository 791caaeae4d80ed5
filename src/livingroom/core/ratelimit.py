"""Fixed-window rate limits kept in the cache (local memory by default, Redis in production)."""

from __future__ import annotations

import math
import time

from django.core.cache import cache

from livingroom.core.errors import RateLimited


def hit(bucket: str, *, limit: int, window: int) -> int:
    """Counts one hit in ``bucket``; raises ``RateLimited`` past ``limit`` per ``window`` seconds."""
    slot = int(time.time() // window)
    key = f"rl:{bucket}:{slot}"
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 1)
        count = 1
    if count > limit:
        raise RateLimited(retry_after=window - int(time.time()) % window)
    return count


def once_per(bucket: str, *, seconds: int) -> int:
    """0 the first time in ``seconds``; while the bucket is still warm, the seconds left to wait."""
    now = time.time()
    if cache.add(f"once:{bucket}", now + seconds, timeout=seconds):
        return 0
    until = cache.get(f"once:{bucket}")
    left = math.ceil(float(until) - now) if isinstance(until, int | float) else seconds
    return min(max(left, 1), seconds)


def _slot_key(bucket: str, window: int) -> tuple[str, int]:
    now = time.time()
    return f"rl:{bucket}:{int(now // window)}", window - int(now) % window


def refuse_if_spent(bucket: str, *, limit: int, window: int) -> None:
    """Raises ``RateLimited`` when ``bucket`` already holds ``limit`` failures in this window.

    With ``count_failure`` it limits failed attempts only (sign-in from one address), so that
    people who type their code right the first time are never slowed down.
    """
    key, left = _slot_key(bucket, window)
    if int(cache.get(key) or 0) >= limit:
        raise RateLimited(retry_after=left)


def count_failure(bucket: str, *, window: int) -> None:
    key, _ = _slot_key(bucket, window)
    cache.add(key, 0, timeout=window + 1)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=window + 1)
