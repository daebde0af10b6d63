"""The thank-you screen, with this desk's published results when there are enough answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.core.i18n import translate
from kiosk.core.survey import localized
from kiosk.core.visitor import DeskConfig

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")


def results_sentence(published: dict[str, Any] | None, language: str) -> str:
    """"92 % of visitors satisfied in October (target 90 %)", or "" when nothing is published."""
    if not published or published.get("satisfaction_rate") is None:
        return ""
    period = str(published.get("period", ""))
    month = ""
    if len(period) == 7 and period[4] == "-":
        names = MONTHS_EN if language == "en" else MONTHS_FR
        month = names[int(period[5:]) - 1]
    rate = round(float(published["satisfaction_rate"]))
    target = published.get("target")
    text = translate("{rate} % des visiteurs satisfaits en {month}", language, rate=rate,
                     month=month)
    if target is not None:
        text += " " + translate("(objectif {target} %)", language, target=round(float(target)))
    return text


class ThanksScreen(Screen):
    language = StringProperty("fr")

    def show(self, desk: DeskConfig) -> None:
        self.ids.thanks.text = localized(desk.survey.thanks, self.language)
        self.ids.results.text = results_sentence(desk.published_results, self.language)
