"""One visit's QR code: the visitor scans it to answer the phone survey, linked to that wait."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk.core.i18n import translate
from kiosk.widgets.qr import QRCodeWidget  # noqa: F401 (used by the .kv rule)
from kiosk.widgets.settling import SettlingScreen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class AgentQRScreen(SettlingScreen):
    __events__ = ("on_back",)
    language = StringProperty("fr")

    def on_back(self) -> None: ...

    def show(self, ticket: str, url: str) -> None:
        lang = self.language
        self.ids.ticket.text = ticket
        self.ids.hint.text = translate(
            "Scannez ce code pour donner votre avis sur votre téléphone", lang
        )
        self.ids.qr.data = url
        self.ids.back.text = translate("Retour à la file", lang)
