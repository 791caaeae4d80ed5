from typing import Annotated

from ninja import Schema
from pydantic import Field, StrictInt

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
