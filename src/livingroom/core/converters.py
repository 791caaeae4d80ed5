"""URL converters. ``<id:center_id>`` is a row id a database can hold; anything larger is a 404."""

from __future__ import annotations

from livingroom.core.validators import MAX_DB_ID


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_DB_ID:
            raise ValueError("id out of range")  # Django treats this as "no match": 404
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))
