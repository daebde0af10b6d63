"""Desk QR codes and A4 posters: admin and quality manager only, URL on the public base URL,
read back (zbar for the codes, pypdf for the poster's text)."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image
from pypdf import PdfReader
from pyzbar.pyzbar import decode

from qualivilles.bundled import load_default_survey
from sync_server.storage import town
from tests.fixtures.server import SERVICE, SITE, log_in_client, server_settings_for

BASE = "https://avis.ville-exemple.fr"
# The printed code names the survey version in force: the newest bundled one.
EXPECTED = f"{BASE}/s/{SITE}/{SERVICE}?v={load_default_survey().version}"
PATH = f"/codes/{SITE}/{SERVICE}"


@pytest.fixture
def server_settings(tmp_path):
    # The printed code must use the configured public address, not the address of the request.
    return server_settings_for(tmp_path, public_base_url=BASE + "/")


@pytest.fixture
def manager(app_client):
    log_in_client(app_client, "qualite", "quality_manager")
    return app_client


@pytest.mark.parametrize("name", ["qr.png", "qr.svg", "poster.pdf"])
@pytest.mark.parametrize("role", ["service_manager", None])
def test_only_admins_and_quality_managers_download_codes(app_client, name, role):
    if role is not None:
        log_in_client(app_client, "someone", role)
    response = app_client.get(f"{PATH}/{name}", follow_redirects=False)
    if role is None:
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")
    else:
        assert response.status_code == 403
    assert app_client.get("/codes", follow_redirects=False).status_code in (303, 403)


def test_the_codes_page_lists_every_desk_with_its_downloads(app_client):
    log_in_client(app_client, "admin", "admin")
    page = app_client.get("/codes")
    assert page.status_code == 200
    with app_client.app.state.storage.read() as connection:
        desks = town.desks(connection)
    for desk in desks:
        assert f'href="/codes/{desk.site.slug}/{desk.service.slug}/poster.pdf"' in page.text
    assert EXPECTED in page.text


def test_the_png_code_decodes_to_the_desk_survey_url(manager):
    response = manager.get(f"{PATH}/qr.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert f"qr-avis-{SITE}-{SERVICE}.png" in response.headers["content-disposition"]
    [symbol] = decode(Image.open(io.BytesIO(response.content)))
    assert symbol.data.decode() == EXPECTED


def test_the_svg_code_is_one_scalable_path(manager):
    response = manager.get(f"{PATH}/qr.svg")
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert len(root.findall("{http://www.w3.org/2000/svg}path")) == 1


def test_the_poster_has_the_question_the_url_and_the_privacy_notice(manager):
    response = manager.get(f"{PATH}/poster.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    [page] = reader.pages
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    text = " ".join(page.extract_text().split())
    assert "Êtes-vous satisfait(e) de l'accueil aujourd'hui ?" in text
    assert EXPECTED in text
    assert "IRIS – guichet unique" in text
    assert "ni votre adresse IP" in text
    # The code printed on it is the same URL.
    [image] = page.images
    [symbol] = decode(Image.open(io.BytesIO(image.data)))
    assert symbol.data.decode() == EXPECTED


def test_an_unknown_desk_or_format_is_404(manager):
    assert manager.get(f"/codes/{SITE}/piscine/qr.png").status_code == 404
    assert manager.get(f"{PATH}/qr.gif").status_code == 404
