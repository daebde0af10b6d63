"""The thank-you screen, with this desk's published results when there are enough answers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from babel.dates import format_date
from kivy.lang import Builder
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.core.i18n import translate
from kiosk.core.visitor import DeskConfig
from kiosk.widgets.typography import shown
from qualivilles.device_config import PublishedResults
from qualivilles.survey import localized

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


def results_sentence(published: PublishedResults | None, language: str) -> str:
    """ "92 % of visitors satisfied in October (target 90 %)", or "" when nothing is published."""
    if published is None or published.satisfaction_rate is None:
        return ""
    period = published.period
    month = ""
    if len(period) == 7 and period[4] == "-":
        # Babel knows every language's month names ("octobre", "October", "أكتوبر").
        first_day = date(int(period[:4]), int(period[5:]), 1)
        month = format_date(first_day, "LLLL", locale=language)
    rate = round(published.satisfaction_rate)
    target = published.target
    text = translate(
        "{rate} % des visiteurs satisfaits en {month}", language, rate=rate, month=month
    )
    if target is not None:
        text += " " + translate("(objectif {target} %)", language, target=round(float(target)))
    return text


class ThanksScreen(Screen):
    language = StringProperty("fr")

    def show(self, desk: DeskConfig) -> None:
        lang = self.language
        self.ids.thanks.text = shown(localized(desk.survey.thanks, lang), lang, 0, 1)
        self.ids.results.text = shown(
            results_sentence(desk.published_results, lang),
            lang,
            self.ids.results.width,
            self.ids.results.font_size,
        )
