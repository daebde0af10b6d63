"""A desk's QR code (PNG, SVG) and its A4 poster (PDF): what the town prints for every desk.

The code opens the desk's phone survey at the server's public base URL and names the survey
version printed next to it, so that a poster left up after the survey changed is noticed (the
visitor is told, and answers the current survey). Pure: bytes in memory, no files, no HTTP.
"""

from __future__ import annotations

import io
from urllib.parse import quote

import qrcode
import qrcode.constants
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from qrcode.image.pil import PilImage
from qrcode.image.svg import SvgPathImage

from qualivilles.bundled import FONTS_DIR
from qualivilles.survey import SurveyDefinition, localized
from sync_server.storage import Desk

# Quiet zone of 4 modules, as the QR specification asks (and as the kiosk draws it).
QUIET_ZONE = 4

PRIVACY_NOTICE = (
    "Votre réponse est anonyme : nous n'enregistrons ni votre nom, ni votre adresse IP, et aucun "
    "cookie. Les numéros de téléphone et adresses e-mail écrits dans un commentaire sont effacés "
    "avant l'enregistrement. Les réponses servent uniquement à améliorer l'accueil et ne sont "
    "publiées que sous forme de statistiques."
)


def survey_url(public_base_url: str, desk: Desk, survey: SurveyDefinition | None = None) -> str:
    """The desk's general phone-survey link; with `survey`, naming the version it shows."""
    base = public_base_url.rstrip("/")
    url = f"{base}/s/{quote(desk.site.slug)}/{quote(desk.service.slug)}"
    return f"{url}?v={survey.version}" if survey is not None else url


def _code(url: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE)
    code.add_data(url)
    code.make(fit=True)
    return code


def qr_png(url: str, box_size: int = 12) -> bytes:
    """Black on white, `box_size` pixels per module."""
    code = _code(url)
    code.box_size = box_size
    image = code.make_image(image_factory=PilImage)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(url: str) -> bytes:
    """One SVG path, scalable to any print size."""
    image = _code(url).make_image(image_factory=SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def poster_pdf(url: str, desk: Desk, survey: SurveyDefinition, town: str | None = None) -> bytes:
    """An A4 portrait poster: the question, the code, the address to type, the privacy notice."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title(f"Votre avis - {desk.service.name}")
    pdf.set_author(town or "Qualivilles")
    pdf.set_creator("Qualivilles")
    pdf.add_font("DejaVu", "", str(FONTS_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(False)
    # Every block starts again at the left margin, on the next line.
    line = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}
    pdf.set_margins(20, 18, 20)
    pdf.add_page()
    width = pdf.w - 40

    pdf.set_text_color(74, 85, 102)
    pdf.set_font("DejaVu", "", 14)
    desk_line = f"{desk.service.name} · {desk.site.name}"
    pdf.multi_cell(width, 7, desk_line if not town else f"{town} — {desk_line}", align="C", **line)
    pdf.ln(6)
    pdf.set_text_color(26, 37, 51)
    pdf.set_font("DejaVu", "B", 30)
    pdf.multi_cell(width, 13, "Votre avis compte", align="C", **line)
    pdf.ln(4)
    pdf.set_font("DejaVu", "B", 22)
    pdf.multi_cell(width, 10, localized(survey.main.text, "fr"), align="C", **line)
    if "en" in survey.languages:
        pdf.ln(1)
        pdf.set_font("DejaVu", "", 14)
        pdf.set_text_color(74, 85, 102)
        pdf.multi_cell(width, 7, localized(survey.main.text, "en"), align="C", **line)
        pdf.set_text_color(26, 37, 51)

    side = 105.0
    pdf.ln(6)
    top = pdf.get_y()
    pdf.image(io.BytesIO(qr_png(url, box_size=20)), x=(pdf.w - side) / 2, y=top, w=side, h=side)
    pdf.set_y(top + side + 4)
    pdf.set_font("DejaVu", "B", 16)
    scan = "Scannez ce code avec l'appareil photo de votre téléphone"
    pdf.multi_cell(width, 8, scan, align="C", **line)
    pdf.set_font("DejaVu", "", 12)
    pdf.multi_cell(width, 6, "ou tapez l'adresse :", align="C", **line)
    pdf.set_font("DejaVu", "B", 13)
    pdf.multi_cell(width, 7, url, align="C", **line)
    pdf.ln(2)
    pdf.set_font("DejaVu", "", 12)
    languages = ", ".join(_LANGUAGE_NAMES.get(code, code) for code in survey.languages)
    pdf.multi_cell(width, 6, f"1 minute, sans inscription · {languages}", align="C", **line)

    pdf.set_y(pdf.h - 48)
    pdf.set_draw_color(135, 146, 162)
    pdf.line(20, pdf.get_y(), pdf.w - 20, pdf.get_y())
    pdf.ln(3)
    pdf.set_text_color(74, 85, 102)
    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(width, 5, "Vie privée", **line)
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(width, 5, PRIVACY_NOTICE, **line)
    pdf.set_font("DejaVu", "", 8)
    pdf.multi_cell(width, 4, f"Questionnaire « {survey.id} », version {survey.version}.", **line)
    return bytes(pdf.output())


# In French on the poster: the PDF fonts do not shape Arabic script.
_LANGUAGE_NAMES = {"fr": "français", "en": "anglais", "es": "espagnol", "ar": "arabe"}
