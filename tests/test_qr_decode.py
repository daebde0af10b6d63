"""Every QR code the product shows is read back by a real decoder (zbar) to the URL it should
open, and that URL opens the survey: the kiosk's (drawn from the `qrcode` matrix, as on screen),
the agent tablet's per-visit code, and the desk poster's."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from urllib.parse import urlsplit

from PIL import Image
from pyzbar.pyzbar import decode

from kiosk.core.agent_desk import AgentDesk, visit_link
from kiosk.core.device_state import Credentials
from kiosk.widgets.qr import qr_matrix
from qualivilles.device_config import DeviceConfig
from sync_server.storage import surveys, town
from sync_server.web import posters
from tests.fixtures.server import SERVICE, SITE, bearer, enrol_code

VISIT = "0192f3a4-5b6c-7d8e-9f00-112233445566"


def matrix_png(matrix: list[list[bool]], module: int = 8) -> Image.Image:
    """The matrix as the kiosk draws it (black modules on white, quiet zone included)."""
    side = len(matrix)
    image = Image.new("L", (side, side), 255)
    image.putdata([0 if dark else 255 for row in matrix for dark in row])
    return image.resize((side * module, side * module), Image.NEAREST)


def decoded(image: Image.Image) -> str:
    [symbol] = decode(image)
    assert symbol.type == "QRCODE"
    return symbol.data.decode("utf-8")


def enrolled_config(client, mode: str) -> tuple[dict, dict]:
    code = enrol_code(client.app.state.storage, SITE, SERVICE, mode=mode)
    enrolled = client.post("/api/v1/enrol", json={"code": code}).json()
    config = client.get("/api/v1/config", headers=bearer(enrolled["token"]))
    assert config.status_code == 200, config.text
    return enrolled, config.json()


def opens_the_survey(client, url: str) -> None:
    parts = urlsplit(url)
    page = client.get(parts.path + (f"?{parts.query}" if parts.query else ""))
    assert page.status_code == 200, page.text
    assert 'name="q" value="overall"' in page.text


def test_the_kiosk_code_decodes_to_the_desk_phone_survey(app_client):
    _enrolled, config = enrolled_config(app_client, "kiosk")
    url = config["phone_survey_url"]
    assert url.endswith(f"/s/{SITE}/{SERVICE}")
    assert decoded(matrix_png(qr_matrix(url))) == url
    opens_the_survey(app_client, url)


def test_the_agent_tablet_per_visit_code_decodes_to_its_signed_link(app_client):
    enrolled, config = enrolled_config(app_client, "tablet")
    credentials = Credentials(
        server_url="http://testserver", device_id=enrolled["device_id"], token=enrolled["token"],
        site=SITE, service=SERVICE, mode="tablet", visit_link_secret=enrolled["visit_link_secret"],
    )  # fmt: skip
    url = visit_link(
        credentials,
        AgentDesk.from_config(DeviceConfig.model_validate(config)),
        VISIT,
        datetime.now(UTC),
    )
    assert url is not None
    assert "/v/" in url
    assert decoded(matrix_png(qr_matrix(url))) == url
    opens_the_survey(app_client, url)


def test_the_poster_code_decodes_to_the_desk_survey_with_its_version(app_client):
    storage = app_client.app.state.storage
    with storage.read() as connection:
        desk, survey = town.desk(connection, SITE, SERVICE), surveys.current(connection)
    url = posters.survey_url("https://avis.ville-exemple.fr", desk, survey)
    assert decoded(Image.open(io.BytesIO(posters.qr_png(url)))) == url
    opens_the_survey(app_client, url)


def test_a_damaged_code_is_not_read_as_another_url(app_client):
    """The decoder is a real check: a code with its finder patterns wiped reads as nothing."""
    matrix = qr_matrix("https://avis.ville-exemple.fr/s/a/b")
    for row in matrix[4:11]:
        row[4:11] = [False] * 7
    assert decode(matrix_png(matrix)) == []
