"""Photos people send (a request's photos, a rider's credential, a set meal): the content is
checked, not the name, then re-encoded.

Only JPEG, PNG and WebP images are accepted, up to ``max_bytes`` and 40 megapixels. The image is
decoded with Pillow, turned upright by its EXIF orientation, shrunk to at most 1600 px and
re-encoded as JPEG, which drops every piece of metadata (GPS position, camera, time).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from livingroom.core.errors import InvalidInput

# "MPO" is a JPEG with a multi-picture extension, as many phone cameras write them.
ALLOWED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP"}
MAX_PIXELS = 40_000_000
MAX_SIDE = 1600


class ImageType(InvalidInput):
    code = "photo_type"
    default_message = _("Photos must be JPEG, PNG or WebP images.")


class ImageTooLarge(InvalidInput):
    code = "photo_too_large"
    status = 413
    default_message = _("A photo may be at most %(limit)s MB.")


class ImageInvalid(InvalidInput):
    code = "photo_invalid"
    default_message = _("This photo cannot be read.")


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    width: int
    height: int


def clean_image(data: bytes, *, max_bytes: int, field: str | None = None) -> CleanImage:
    if not data:
        raise ImageInvalid(field=field)
    if len(data) > max_bytes:
        raise ImageTooLarge(field=field, limit=max_bytes // (1024 * 1024))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ALLOWED_FORMATS:
                raise ImageType(field=field)
            if probe.width * probe.height > MAX_PIXELS:
                raise ImageInvalid(field=field)
            probe.verify()
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            upright: Image.Image = ImageOps.exif_transpose(opened) or opened
            image = upright.convert("RGB")
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=82, optimize=True)
            return CleanImage(content=out.getvalue(), width=image.width, height=image.height)
    except InvalidInput:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageType(field=field) from exc
