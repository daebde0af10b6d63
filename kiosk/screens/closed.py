"""Outside opening hours: a dimmed screen that says the desk is closed (no answers taken)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.core.i18n import translate
from kiosk.core.visitor import DeskConfig
from kiosk.widgets.qr import QRCodeWidget  # noqa: F401 (used by the .kv rule)
from qualivilles.opening_hours import today_summary

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class ClosedScreen(Screen):
    language = StringProperty("fr")

    def show(self, desk: DeskConfig, local_now: datetime) -> None:
        lang = self.language
        self.ids.title.text = translate("Le guichet est fermé", lang)
        today = today_summary(desk.settings.opening_hours, local_now)
        self.ids.hours.text = (
            translate("Horaires d'aujourd'hui : {hours}", lang, hours=today)
            if today
            else translate("Fermé toute la journée", lang)
        )
        self.ids.qr.data = desk.phone_survey_url or ""
        self.ids.phone.text = (
            translate("Vous pouvez donner votre avis sur votre téléphone", lang)
            if desk.phone_survey_url
            else ""
        )
