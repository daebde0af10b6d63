"""The thank-you screen: this desk's published results when there are enough answers, the phone
survey for the questions the kiosk does not ask, and the main question for the next visitor."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_decimal
from kivy.app import App
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk import theme
from kiosk.core.i18n import translate
from kiosk.core.visitor import DeskConfig
from kiosk.widgets.buttons import KioskButton
from kiosk.widgets.qr import QRCodeWidget  # noqa: F401 (used by the .kv rule)
from kiosk.widgets.settling import SettlingScreen
from kiosk.widgets.smiley import SmileyButton
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
        # The target as it was set: 87.5 reads "87,5", not a rounded "88".
        shown_target = format_decimal(float(target), format="#,##0.##", locale=language)
        text += " " + translate("(objectif {target} %)", language, target=shown_target)
    return text


class ThanksScreen(SettlingScreen):
    """Thanks, last month's result, the phone survey for the rest, and the main question again
    so that the next visitor answers at once; dispatches `on_choice(id)`."""

    __events__ = ("on_choice",)

    language = StringProperty("fr")
    landscape = BooleanProperty(True)

    def on_kv_post(self, _: object) -> None:
        self._desk: DeskConfig | None = None
        self.bind(size=lambda _, size: setattr(self, "landscape", size[0] >= size[1]))

    def on_choice(self, choice_id: str) -> None:
        """Event: the next visitor tapped a main-question choice."""

    def show(self, desk: DeskConfig) -> None:
        self.settle()  # the finger that answered the last question is still on the glass
        self._desk = desk
        lang, ids = self.language, self.ids
        ids.thanks.text = shown(localized(desk.survey.thanks, lang), lang, 0, 1)
        ids.results.text = shown(
            results_sentence(desk.published_results, lang),
            lang,
            ids.results.width,
            ids.results.font_size,
        )
        main = desk.survey.main
        ids.question.text = shown(
            localized(main.text, lang), lang, ids.question.width, ids.question.font_size
        )
        ids.smileys.clear_widgets()
        scale = _text_scale()
        for choice in main.choices:
            label = shown(localized(choice.label, lang), lang, dp(160), theme.SMALL_SIZE)
            if choice.level is None:
                button: Widget = KioskButton(text=label, font_size=theme.SMALL_SIZE * scale)
            else:
                button = SmileyButton(
                    text=label,
                    level=choice.level,
                    levels=main.levels,
                    font_size=theme.SMALL_SIZE * scale,
                )
            button.choice_id = choice.id
            button.bind(on_release=lambda b: self.dispatch("on_choice", b.choice_id))
            ids.smileys.add_widget(button)
        url = desk.phone_survey_url or ""
        ids.qr.data = url
        ids.qr_panel.opacity = 1 if url else 0
        ids.qr_hint.text = shown(
            translate("Les autres questions, sur votre téléphone", lang),
            lang,
            ids.qr_hint.width,
            ids.qr_hint.font_size,
        )

    def smiley(self, choice_id: str) -> Widget:
        """The button for a main-question choice."""
        return next(w for w in self.ids.smileys.children if w.choice_id == choice_id)

    def spoken_text(self) -> str:
        """What is on screen, to be read aloud: thanks, the result, the phone, the question."""
        desk, lang = self._desk, self.language
        if desk is None:
            return ""
        main = desk.survey.main
        parts = [
            localized(desk.survey.thanks, lang),
            results_sentence(desk.published_results, lang),
            translate("Les autres questions, sur votre téléphone", lang)
            if desk.phone_survey_url
            else "",
            localized(main.text, lang),
            ", ".join(localized(c.label, lang) for c in main.choices),
        ]
        return " ".join(part for part in parts if part)


def _text_scale() -> float:
    app = App.get_running_app()
    return float(app.text_scale) if app is not None else 1.0
