"""Photos sent with a request: the content is checked (not the name), then re-encoded.

Only JPEG, PNG and WebP images are accepted, up to ``MAX_PHOTO_BYTES`` and 40 megapixels. The image
is decoded with Pillow, turned upright by its EXIF orientation, shrunk to at most 1600 px and
re-encoded as JPEG, which drops every piece of metadata (GPS position, camera, time).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from livingroom.voice import errors
from livingroom.voice.models import MAX_PHOTO_BYTES

# "MPO" is a JPEG with a multi-picture extension, as many phone cameras write them.
ALLOWED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP"}
MAX_PIXELS = 40_000_000
MAX_SIDE = 1600


@dataclass(frozen=True)
class CleanPhoto:
    content: bytes
    width: int
    height: int


def clean_photo(data: bytes) -> CleanPhoto:
    if not data:
        raise errors.PhotoInvalid()
    if len(data) > MAX_PHOTO_BYTES:
        raise errors.PhotoTooLarge(limit=MAX_PHOTO_BYTES // (1024 * 1024))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ALLOWED_FORMATS:
                raise errors.PhotoType()
            if probe.width * probe.height > MAX_PIXELS:
                raise errors.PhotoInvalid()
            probe.verify()
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            upright: Image.Image = ImageOps.exif_transpose(opened) or opened
            image = upright.convert("RGB")
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=82, optimize=True)
            return CleanPhoto(content=out.getvalue(), width=image.width, height=image.height)
    except errors.VoiceError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise errors.PhotoType() from exc
