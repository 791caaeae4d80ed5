"""The certificate of volunteer service as a PDF (志愿服务证明).

fpdf2 embeds (a subset of) a CJK font found on the machine — ``LIVINGROOM_PDF_FONT``, then what
fontconfig calls "Noto Sans CJK SC", then the usual places of Noto CJK, WenQuanYi, Droid Sans
Fallback, PingFang, Microsoft YaHei and SimSun — so the paper looks the same in every viewer. A
machine with no CJK font at all still gets a readable certificate: ReportLab's built-in Adobe
"STSong-Light" CID font, which PDF viewers supply themselves (docs/decisions/0004).
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
from pathlib import Path

import segno
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from livingroom.volunteering.models import Certificate

CANDIDATES = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simsun.ttc",
]


@functools.cache
def cjk_font() -> tuple[str, int] | None:
    """(path, index in a collection) of a font with Simplified Chinese, or None."""
    if settings.LIVINGROOM_PDF_FONT:
        return (settings.LIVINGROOM_PDF_FONT, 0) if Path(settings.LIVINGROOM_PDF_FONT).is_file() else None
    fc_match = shutil.which("fc-match")
    if fc_match:
        try:
            out = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
                [fc_match, "-f", "%{file}|%{index}", "Noto Sans CJK SC:lang=zh-cn"],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout
            path, _sep, index = out.partition("|")
            if "CJK" in path and Path(path).is_file():
                return path, int(index or 0)
        except (OSError, ValueError, subprocess.SubprocessError):
            pass
    for path in CANDIDATES:
        if Path(path).is_file():
            # Noto CJK collections hold JP, KR, SC, TC...: SC is the third face.
            return path, 2 if "NotoS" in path and path.endswith(".ttc") else 0
    return None


def verify_url(certificate: Certificate) -> str:
    base = getattr(settings, "LIVINGROOM_PUBLIC_URL", "").rstrip("/")
    return f"{base}/certificates/verify/{certificate.code}/"


def _lines(certificate: Certificate) -> dict[str, str]:
    c = certificate
    return {
        "title": _("Certificate of Volunteer Service"),
        "intro": _(
            "This is to certify that %(name)s (%(id_type)s: %(id_number)s; volunteer number %(number)s) "
            "took part in volunteer service from %(start)s to %(end)s, with %(hours)s hours of service "
            "in %(records)s records confirmed by the organisers."
        )
        % {
            "name": c.name,
            "id_type": c.id_type_label,
            "id_number": c.id_number_masked,
            "number": c.volunteer_number,
            "start": c.period_start.isoformat(),
            "end": c.period_end.isoformat(),
            "hours": f"{c.minutes / 60:.1f}",
            "records": c.records,
        },
        "content": _("Service content: %(content)s") % {"content": c.content},
        "issuer": _("Issued by: %(issuer)s") % {"issuer": c.issuer},
        "signer": _("Person in charge: %(name)s") % {"name": c.person_in_charge},
        "number": _("Certificate number: %(number)s") % {"number": c.number},
        "date": _("Date of issue: %(date)s") % {"date": c.issued_at.astimezone(_tz()).date().isoformat()},
        "code": _("Verification code: %(code)s") % {"code": c.code},
        "check": _("Anyone can check this certificate at %(url)s") % {"url": verify_url(c)},
        "basis": _(
            "Issued under the national measures on volunteer service records and certificates; "
            "the hours are those recorded and confirmed by the organisers."
        ),
    }


def _tz():  # type: ignore[no-untyped-def]
    from django.utils import timezone

    return timezone.get_default_timezone()


def _qr_png(certificate: Certificate) -> bytes:
    buffer = io.BytesIO()
    segno.make(verify_url(certificate), error="m").save(buffer, kind="png", scale=6, border=2)
    return buffer.getvalue()


def certificate_pdf(certificate: Certificate, *, language: str = "zh-hans") -> bytes:
    """The certificate as a one-page A4 landscape PDF, in Chinese unless another language is asked."""
    with translation.override(language):
        lines = _lines(certificate)
    font = cjk_font()
    if font is not None:
        return _with_fpdf(lines, _qr_png(certificate), font)
    return _with_reportlab(lines, _qr_png(certificate))


def _with_fpdf(lines: dict[str, str], qr: bytes, font: tuple[str, int]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    path, index = font
    if path.lower().endswith((".ttc", ".otc")):
        pdf.add_font("cjk", "", path, collection_font_number=index)
    else:
        pdf.add_font("cjk", "", path)
    # A double frame, the title, the text, and the facts at the foot with the QR code.
    pdf.set_draw_color(160, 32, 32)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 277, 190)
    pdf.set_line_width(0.3)
    pdf.rect(14, 14, 269, 182)
    pdf.set_text_color(160, 32, 32)
    pdf.set_font("cjk", size=30)
    pdf.set_xy(14, 28)
    pdf.cell(269, 14, lines["title"], align="C")
    pdf.set_text_color(20, 20, 20)
    pdf.set_font("cjk", size=15)
    pdf.set_xy(34, 58)
    pdf.multi_cell(229, 10, lines["intro"])
    pdf.set_x(34)
    pdf.multi_cell(229, 10, lines["content"])
    pdf.set_font("cjk", size=12)
    y = 140
    for key in ("issuer", "signer", "number", "date", "code"):
        pdf.set_xy(34, y)
        pdf.cell(170, 8, lines[key])
        y += 8
    pdf.set_font("cjk", size=9)
    pdf.set_text_color(90, 90, 90)
    pdf.set_xy(34, 184)
    pdf.cell(229, 6, lines["check"])
    pdf.set_xy(34, 189)
    pdf.cell(229, 5, lines["basis"])
    pdf.image(io.BytesIO(qr), x=228, y=136, w=40, h=40)
    return bytes(pdf.output())


def _with_reportlab(lines: dict[str, str], qr: bytes) -> bytes:
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    width, height = landscape(A4)
    c = canvas.Canvas(buffer, pagesize=(width, height))
    c.setTitle(lines["title"])
    c.setStrokeColorRGB(0.63, 0.13, 0.13)
    c.setLineWidth(3)
    c.rect(28, 28, width - 56, height - 56)
    c.setFillColorRGB(0.63, 0.13, 0.13)
    c.setFont("STSong-Light", 30)
    c.drawCentredString(width / 2, height - 110, lines["title"])
    c.setFillColorRGB(0.08, 0.08, 0.08)
    y = height - 170
    for key in ("intro", "content"):
        text, size = lines[key], 15
        c.setFont("STSong-Light", size)
        for line in _wrap(text, "STSong-Light", size, width - 192):
            c.drawString(96, y, line)
            y -= 26
    y = 170
    c.setFont("STSong-Light", 12)
    for key in ("issuer", "signer", "number", "date", "code"):
        c.drawString(96, y, lines[key])
        y -= 20
    c.setFont("STSong-Light", 9)
    c.drawString(96, 52, lines["check"])
    c.drawImage(ImageReader(io.BytesIO(qr)), width - 200, 70, 110, 110)
    c.showPage()
    c.save()
    return buffer.getvalue()


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines no wider than ``width``: Chinese breaks between any two characters, other scripts
    at spaces."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: list[str] = []
    line = ""
    for word in _tokens(text):
        if line and stringWidth(line + word, font, size) > width:
            lines.append(line.rstrip())
            line = word.lstrip()
        else:
            line += word
    if line:
        lines.append(line)
    return lines


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    word = ""
    for ch in text:
        if "\u2e80" <= ch <= "\uffef":  # CJK and full-width forms: a break may fall anywhere
            if word:
                tokens.append(word)
                word = ""
            tokens.append(ch)
        elif ch == " ":
            tokens.append(word + " ")
            word = ""
        else:
            word += ch
    if word:
        tokens.append(word)
    return tokens
