from ninja import Schema


class ErrorOut(Schema):
    """Every API refusal: a stable machine code, a message in the request's language, the field."""

    code: str
    message: str
    field: str | None = None
