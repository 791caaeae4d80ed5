"""Photos sent with a request: checked and re-encoded by ``core.images`` (no metadata kept),
refused with voice's own errors (same codes)."""

from __future__ import annotations

from livingroom.core import images
from livingroom.core.images import MAX_SIDE, CleanImage
from livingroom.voice import errors
from livingroom.voice.models import MAX_PHOTO_BYTES

__all__ = ["MAX_SIDE", "CleanImage", "clean_photo"]


def clean_photo(data: bytes) -> CleanImage:
    try:
        return images.clean_image(data, max_bytes=MAX_PHOTO_BYTES)
    except images.ImageTooLarge as exc:
        raise errors.PhotoTooLarge(limit=MAX_PHOTO_BYTES // (1024 * 1024)) from exc
    except images.ImageType as exc:
        raise errors.PhotoType() from exc
    except images.ImageInvalid as exc:
        raise errors.PhotoInvalid() from exc
