"""The attract screen: the main question as big smileys, languages, and the phone QR code."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.core.i18n import translate
from kiosk.core.survey import localized
from kiosk.core.visitor import DeskConfig
from kiosk.widgets.buttons import KioskToggle
from kiosk.widgets.qr import QRCodeWidget  # noqa: F401 (used by the .kv rule)
from kiosk.widgets.smiley import SmileyButton

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

LANGUAGE_NAMES = {"fr": "Français", "en": "English", "es": "Español", "ar": "العربية"}


class AttractScreen(Screen):
    """Shows `desk` in `language`; dispatches `on_choice(id)` and `on_language_chosen(code)`."""

    __events__ = ("on_choice", "on_language_chosen")

    language = StringProperty("fr")
    desk = ObjectProperty(None, allownone=True)
    landscape = BooleanProperty(True)

    def on_kv_post(self, _: object) -> None:
        self.bind(language=self.refresh, desk=self.refresh)
        self.bind(size=lambda _, size: setattr(self, "landscape", size[0] >= size[1]))
        self.ids.no_opinion.bind(on_release=lambda _: self.choose(self._no_opinion_id))
        self._no_opinion_id = ""

    def on_choice(self, choice_id: str) -> None:
        """Event: the visitor tapped a main-question choice."""

    def on_language_chosen(self, language: str) -> None:
        """Event: the visitor picked a language."""

    def choose(self, choice_id: str) -> None:
        if choice_id:
            self.dispatch("on_choice", choice_id)

    def refresh(self, *_: object) -> None:
        desk: DeskConfig | None = self.desk
        if desk is None:
            return
        lang, ids = self.language, self.ids
        main = desk.survey.main
        ids.question.text = localized(main.text, lang)
        ids.desk.text = desk.desk_name
        ids.hint.text = translate("Touchez un visage pour répondre. C'est anonyme.", lang)
        ids.smileys.clear_widgets()
        levelled = [c for c in main.choices if c.level is not None]
        for choice in levelled:
            button = SmileyButton(
                choice_id=choice.id,
                text=localized(choice.label, lang),
                level=choice.level,
                levels=len(levelled),
            )
            button.bind(on_release=lambda b: self.choose(b.choice_id))
            ids.smileys.add_widget(button)
        no_opinion = next((c for c in main.choices if c.level is None), None)
        ids.no_opinion.opacity = 1 if no_opinion else 0
        ids.no_opinion.disabled = no_opinion is None
        ids.no_opinion.text = localized(no_opinion.label, lang) if no_opinion else ""
        self._no_opinion_id = no_opinion.id if no_opinion else ""
        self._refresh_languages(desk)
        url = desk.phone_survey_url or ""
        ids.qr.data = url
        ids.qr_panel.opacity = 1 if url else 0
        ids.qr_hint.text = translate("Ou répondez sur votre téléphone", lang)

    def _refresh_languages(self, desk: DeskConfig) -> None:
        bar = self.ids.languages
        bar.clear_widgets()
        offered = [lang for lang in desk.settings.languages if lang in desk.survey.languages]
        if len(offered) < 2:
            return
        for lang in offered:
            toggle = KioskToggle(
                text=LANGUAGE_NAMES.get(lang, lang),
                group="language",
                state="down" if lang == self.language else "normal",
                allow_no_selection=False,
                size_hint=(None, 1),
                width=dp(190),
            )
            toggle.language = lang
            toggle.bind(on_release=lambda t: self.dispatch("on_language_chosen", t.language))
            bar.add_widget(toggle)
