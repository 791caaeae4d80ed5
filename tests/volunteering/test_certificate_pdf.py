"""The certificate of volunteer service as a PDF: rendered to PNG (pypdfium2) and read back.

The PNGs are kept under ``var/test-artifacts/`` so a person can open them; the test checks what a
person would: the Chinese title and the facts are in the text layer, and the page is not blank where
the title is drawn (the glyphs rendered, no empty boxes)."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pytest
from django.conf import settings
from PIL import ImageStat

from livingroom.volunteering import pdf, services
from tests.volunteering.conftest import activity, at, pass_of

pytestmark = pytest.mark.django_db
ARTIFACTS = Path(settings.VAR_DIR) / "test-artifacts"


@pytest.fixture
def certificate(vworld):
    shift = activity(vworld).shifts.get()
    volunteer = vworld["volunteers"][0]
    services.signup_create(user=volunteer.resident.user, shift_id=shift.pk, now=at(0, 10))
    services.check_at_device(
        device=vworld["kiosk"][0],
        shift_id=shift.pk,
        token=pass_of(volunteer.resident),
        direction="in",
        now=at(1, 8, 55),
    )
    services.hours_confirm(staff=vworld["desk"], scope=vworld["scope"], shift_id=shift.pk, now=at(1, 13))
    return services.certificate_issue(user=volunteer.resident.user)


def render(data: bytes, name: str) -> tuple[str, object]:
    document = pdfium.PdfDocument(data)
    assert len(document) == 1
    page = document[0]
    text = page.get_textpage().get_text_range()
    image = page.render(scale=1.5).to_pil()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    image.save(ARTIFACTS / f"certificate-{name}.png")
    return text, image


def ink(image, box) -> float:
    """How dark a region is on average (0 = white)."""
    return 255 - ImageStat.Stat(image.crop(box).convert("L")).mean[0]


def test_the_certificate_shows_chinese_and_the_facts(certificate):
    assert pdf.cjk_font() is not None, "install fonts-noto-cjk (CI does)"
    data = pdf.certificate_pdf(certificate)
    assert data[:5] == b"%PDF-" and len(data) < 200_000  # a subset of the font is embedded, not all of it
    text, image = render(data, "zh")
    compact = "".join(text.split())
    for fact in (
        "志愿服务证明",
        certificate.name,
        certificate.id_number_masked,
        certificate.volunteer_number,
        "3.0",  # 09:00–12:00, checked in at 08:55
        certificate.number,
        certificate.code,
        certificate.issuer,
        certificate.person_in_charge,
        certificate.content,
    ):
        assert fact in compact, fact
    assert certificate.volunteer.resident.id_number not in compact  # the ID is masked on paper
    width, height = image.size
    title = (int(width * 0.3), int(height * 0.12), int(width * 0.7), int(height * 0.22))
    assert ink(image, title) > 5  # the title's glyphs are drawn
    assert ink(image, (0, int(height * 0.45), width, int(height * 0.6))) < ink(image, title) * 3


def test_english_on_request(certificate):
    text, _image = render(pdf.certificate_pdf(certificate, language="en"), "en")
    assert "Certificate of Volunteer Service" in text
    assert certificate.name in "".join(text.split())


def test_without_a_cjk_font_the_builtin_cid_font_still_renders(certificate, settings):
    settings.LIVINGROOM_PDF_FONT = "/nonexistent/font.ttf"
    pdf.cjk_font.cache_clear()
    try:
        assert pdf.cjk_font() is None
        data = pdf.certificate_pdf(certificate)
    finally:
        pdf.cjk_font.cache_clear()
    assert b"STSong-Light" in data
    text, image = render(data, "zh-cid")
    assert certificate.code in text
    width, height = image.size
    assert ink(image, (int(width * 0.3), int(height * 0.12), int(width * 0.7), int(height * 0.22))) > 5
