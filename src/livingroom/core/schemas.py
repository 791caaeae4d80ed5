import datetime as dt
from typing import Annotated

from ninja import Schema
from pydantic import AfterValidator, Field, StrictInt, WithJsonSchema

from livingroom.core.validators import MAX_DB_ID


class ErrorOut(Schema):
    """Every API refusal: a stable machine code, a message in the request's language, the field."""

    code: str
    message: str
    field: str | None = None


DbId = Annotated[int, Field(ge=1, le=MAX_DB_ID)]
"""A row id sent by a client: bounded so that no database ever sees a number it cannot hold."""

BodyId = Annotated[StrictInt, Field(ge=1, le=MAX_DB_ID)]
"""A row id in a JSON body: a JSON number, never ``true`` or ``"1"`` (paths and queries stay lax)."""


def _no_offset(value: dt.time) -> dt.time:
    if value.tzinfo is not None:
        raise ValueError("a local time of day without a time-zone offset, e.g. 19:00")
    return value


LocalTime = Annotated[
    dt.time,
    AfterValidator(_no_offset),
    WithJsonSchema(
        {
            "type": "string",
            "format": "partial-time",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
            "examples": ["19:00"],
        }
    ),
]
"""A time of day in the center's local time ("19:00", "19:00:00"); an offset ("19:00+08:00") is refused.
Described as RFC 3339's ``partial-time``: JSON Schema's ``time`` format requires an offset."""
