"""Photos sent with a request: the content decides (not the name), JPEG/PNG/WebP only, at most
5 MB and 4 photos, re-encoded as JPEG with every piece of metadata (GPS position) dropped.
A refused photo writes nothing: no request, no photo, no event."""

from __future__ import annotations

import io
import random

import pytest
from PIL import ExifTags, Image

from livingroom.core.errors import DomainError
from livingroom.core.models import AuditEvent
from livingroom.notices.models import Notice
from livingroom.voice.models import MAX_PHOTO_BYTES, Photo, Suggestion, SuggestionEvent
from livingroom.voice.photos import MAX_SIDE, clean_photo
from tests.voice.conftest import jpeg_bytes

pytestmark = pytest.mark.django_db

GPS = ExifTags.IFD.GPSInfo


def image_bytes(fmt: str, size=(64, 48), mode="RGB", color="red", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, format=fmt, **save)
    return out.getvalue()


def noisy_jpeg(size=(400, 300)) -> bytes:
    rng = random.Random(7)
    image = Image.frombytes("RGB", size, bytes(rng.getrandbits(8) for _ in range(size[0] * size[1] * 3)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95)
    return out.getvalue()


def jpeg_with_gps(orientation: int | None = None, size=(80, 40)) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestPhone"
    exif[ExifTags.Base.DateTimeOriginal] = "2026:11:20 18:00:00"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(GPS)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (22.0, 34.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (113.0, 52.0, 1.25)
    out = io.BytesIO()
    Image.new("RGB", size, "green").save(out, format="JPEG", exif=exif)
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_clean_jpeg(data: bytes) -> Image.Image:
    image = opened(data)
    assert image.format == "JPEG"
    assert image.mode == "RGB"
    assert "exif" not in image.info
    assert dict(image.getexif()) == {}
    assert image.getexif().get_ifd(GPS) == {}
    assert b"Exif\x00\x00" not in data
    return image


def nothing_written() -> None:
    assert (
        Suggestion.objects.count(),
        Photo.objects.count(),
        SuggestionEvent.objects.count(),
        AuditEvent.objects.filter(action__startswith="voice.").count(),
        Notice.objects.count(),
    ) == (0, 0, 0, 0, 0)


# --- accepted ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "size"),
    [
        (image_bytes("JPEG"), (64, 48)),
        (image_bytes("PNG", mode="RGBA", color=(0, 0, 255, 128)), (64, 48)),
        (image_bytes("PNG", mode="P"), (64, 48)),
        (image_bytes("WEBP", size=(30, 90)), (30, 90)),
        (image_bytes("JPEG", mode="CMYK", color=(0, 255, 255, 0)), (64, 48)),
        (image_bytes("JPEG", mode="L"), (64, 48)),
    ],
    ids=["jpeg", "png-rgba", "png-palette", "webp", "jpeg-cmyk", "jpeg-grey"],
)
def test_allowed_images_are_re_encoded_as_jpeg(data, size):
    photo = clean_photo(data)
    image = assert_clean_jpeg(photo.content)
    assert image.size == size == (photo.width, photo.height)


def test_a_multi_picture_jpeg_from_a_phone_camera_is_a_jpeg():
    # Many phone cameras write JPEGs with a multi-picture extension (Pillow reads them as "MPO").
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(
        out, format="MPO", save_all=True, append_images=[Image.new("RGB", (40, 30), "blue")]
    )
    assert opened(out.getvalue()).format == "MPO"
    photo = clean_photo(out.getvalue())
    assert assert_clean_jpeg(photo.content).size == (40, 30)


def test_exif_with_the_gps_position_is_gone():
    data = jpeg_with_gps()
    source = opened(data)
    assert source.getexif().get_ifd(GPS)[ExifTags.GPS.GPSLatitudeRef] == "N"  # it was there
    assert source.getexif()[ExifTags.Base.Make] == "TestPhone"
    photo = clean_photo(data)
    assert_clean_jpeg(photo.content)
    assert b"TestPhone" not in photo.content


def test_the_photo_is_turned_upright_by_its_orientation_before_the_tag_is_dropped():
    photo = clean_photo(jpeg_with_gps(orientation=6, size=(80, 40)))  # 6: rotate 90° clockwise
    assert (photo.width, photo.height) == (40, 80)
    assert assert_clean_jpeg(photo.content).size == (40, 80)


def test_a_large_photo_is_shrunk_to_1600_pixels():
    photo = clean_photo(image_bytes("PNG", size=(3200, 1000), mode="L"))
    assert (photo.width, photo.height) == (MAX_SIDE, 500)


def test_a_resident_s_photo_with_gps_is_stored_without_it(voice_world):
    s = voice_world["suggestion"](photos=[jpeg_with_gps(), image_bytes("WEBP")])
    stored = list(Photo.objects.filter(suggestion=s).order_by("id"))
    assert len(stored) == 2
    for photo in stored:
        content = bytes(photo.content)
        assert_clean_jpeg(content)
        assert photo.size == len(content)


# --- refused -----------------------------------------------------------------------------------------


def refused_on_submit(world, photos, code: str) -> DomainError:
    with pytest.raises(DomainError) as caught:
        world["suggestion"](photos=photos)
    assert caught.value.code == code
    nothing_written()
    return caught.value


def test_a_text_file_named_jpg_is_refused(voice_world):
    # Only the bytes reach the service: a name ending in .jpg changes nothing.
    err = refused_on_submit(
        voice_world, [jpeg_bytes(), b"GIF? no: just some text in a file called photo.jpg\n"], "photo_type"
    )
    assert err.status == 400


def test_a_file_that_only_starts_like_a_jpeg_is_refused(voice_world):
    refused_on_submit(voice_world, [b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 20], "photo_type")


def test_a_gif_is_refused(voice_world):
    refused_on_submit(voice_world, [image_bytes("GIF")], "photo_type")


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "ICO"])
def test_other_image_formats_are_refused(voice_world, fmt):
    refused_on_submit(voice_world, [image_bytes(fmt, size=(32, 32))], "photo_type")


def test_a_photo_over_5_mb_is_refused(voice_world):
    big = jpeg_bytes() + b"\x00" * MAX_PHOTO_BYTES  # a valid start, but too many bytes
    assert len(big) > MAX_PHOTO_BYTES
    err = refused_on_submit(voice_world, [big], "photo_too_large")
    assert err.status == 413


def test_a_photo_of_exactly_5_mb_is_looked_at(voice_world):
    # At the limit, the size passes and the content decides (here: not an image).
    with pytest.raises(DomainError) as caught:
        clean_photo(b"x" * MAX_PHOTO_BYTES)
    assert caught.value.code == "photo_type"


def test_a_truncated_jpeg_is_refused(voice_world):
    whole = noisy_jpeg()
    assert clean_photo(whole).width == 400
    refused_on_submit(voice_world, [whole[: len(whole) // 2]], "photo_type")


def test_a_truncated_png_is_refused(voice_world):
    out = io.BytesIO()
    rng = random.Random(3)
    Image.frombytes("L", (200, 200), bytes(rng.getrandbits(8) for _ in range(200 * 200))).save(
        out, format="PNG"
    )
    refused_on_submit(voice_world, [out.getvalue()[:-5000]], "photo_type")


def test_an_empty_photo_is_refused(voice_world):
    refused_on_submit(voice_world, [b""], "photo_invalid")


def test_a_decompression_bomb_is_refused(voice_world):
    # 8000 × 6000 = 48 megapixels in a few kilobytes.
    bomb = image_bytes("PNG", size=(8000, 6000), mode="1", color=0)
    assert len(bomb) < 100_000
    refused_on_submit(voice_world, [bomb], "photo_invalid")


def test_more_than_four_photos_are_refused(voice_world):
    refused_on_submit(voice_world, [jpeg_bytes()] * 5, "too_many_photos")
    s = voice_world["suggestion"](photos=[jpeg_bytes()] * 4)
    assert Photo.objects.filter(suggestion=s).count() == 4
