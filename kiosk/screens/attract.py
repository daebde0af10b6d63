"""The attract screen: the main question as big smileys, languages, accessibility, phone QR."""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk import theme
from kiosk.core.i18n import translate
from kiosk.core.visitor import DeskConfig
from kiosk.widgets.buttons import KioskToggle
from kiosk.widgets.qr import QRCodeWidget  # noqa: F401 (used by the .kv rule)
from kiosk.widgets.settling import SettlingScreen
from kiosk.widgets.smiley import SmileyButton, share_label_height
from kiosk.widgets.typography import show_text, shown
from qualivilles.survey import localized

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

LANGUAGE_NAMES = {"fr": "Français", "en": "English", "es": "Español", "ar": "العربية"}
ROTATING_HINTS = (
    "Touchez un visage pour répondre. C'est anonyme.",
    "Votre avis nous aide à améliorer l'accueil.",
    "Dix secondes suffisent. Merci !",
)
HINT_PERIOD_SECONDS = 8.0


class AttractScreen(SettlingScreen):
    """Shows `desk` in `language`; dispatches `on_choice(id)` and `on_language_chosen(code)`."""

    __events__ = ("on_choice", "on_language_chosen")

    language = StringProperty("fr")
    desk = ObjectProperty(None, allownone=True)
    landscape = BooleanProperty(True)
    hints = ListProperty(ROTATING_HINTS)

    def on_kv_post(self, _: object) -> None:
        self._no_opinion_id = ""
        self._hint_index = 0
        self.bind(language=self.refresh, desk=self.refresh)
        self.bind(size=lambda _, size: setattr(self, "landscape", size[0] >= size[1]))
        self.bind(landscape=self._mirror)
        self.ids.no_opinion.bind(on_release=lambda _: self.choose(self._no_opinion_id))
        app = App.get_running_app()
        if app is not None:
            app.bind(rtl=self._mirror, text_scale=self.refresh)
        # A gently changing message keeps the screen alive and avoids burn-in.
        self._hint_timer = Clock.schedule_interval(self._next_hint, HINT_PERIOD_SECONDS)

    def stop(self) -> None:
        """The app is closing: no more timers."""
        self._hint_timer.cancel()

    def on_choice(self, choice_id: str) -> None:
        """Event: the visitor tapped a main-question choice."""

    def on_language_chosen(self, language: str) -> None:
        """Event: the visitor picked a language."""

    def choose(self, choice_id: str) -> None:
        if choice_id:
            self.dispatch("on_choice", choice_id)

    def _text(self, message: str, **values: object) -> str:
        return translate(message, self.language, **values)

    def refresh(self, *_: object) -> None:
        desk: DeskConfig | None = self.desk
        if desk is None:
            return
        lang, ids = self.language, self.ids
        main = desk.survey.main
        show_text(ids.question, localized(main.text, lang), lang)
        ids.desk.text = desk.desk_name
        self._show_hint()
        app = App.get_running_app()
        scale = app.text_scale if app is not None else 1.0
        ids.smileys.clear_widgets()
        faces = []
        for choice in sorted(main.choices, key=lambda c: c.level or 0):
            if choice.level is None:
                continue  # "no opinion" has its own button below the faces
            button = SmileyButton(
                choice_id=choice.id,
                text=localized(choice.label, lang),
                language=lang,
                level=choice.level,
                levels=main.levels,
                font_size=theme.BODY_SIZE * scale,
            )
            button.bind(on_release=lambda b: self.choose(b.choice_id))
            ids.smileys.add_widget(button)
            faces.append(button)
        share_label_height(faces)
        no_opinion = next((c for c in main.choices if c.level is None), None)
        ids.no_opinion.opacity = 1 if no_opinion else 0
        ids.no_opinion.disabled = no_opinion is None
        show_text(ids.no_opinion, localized(no_opinion.label, lang) if no_opinion else "", lang)
        self._no_opinion_id = no_opinion.id if no_opinion else ""
        self._refresh_languages(desk)
        url = desk.phone_survey_url or ""
        ids.qr.data = url
        ids.qr_panel.opacity = 1 if url else 0
        show_text(ids.qr_hint, self._text("Ou répondez sur votre téléphone"), lang)
        ids.accessibility.text = self._text("Accessibilité")
        ids.low_mode.text = self._text("Écran en bas")
        ids.large_text.text = self._text("Grand texte")
        ids.speech.text = self._text("Lecture à voix haute")
        for widget_id in ("accessibility", "low_mode", "large_text", "speech"):
            ids[widget_id].text = shown(ids[widget_id].text, lang, 0, 1)
        self._mirror()

    def spoken_text(self) -> str:
        """What is on screen, to be read aloud: the question and its choices, then the language
        and accessibility buttons (the accessibility options once their panel is open)."""
        desk: DeskConfig | None = self.desk
        if desk is None:
            return ""
        lang, main = self.language, desk.survey.main
        choices = ", ".join(localized(c.label, lang) for c in main.choices)
        buttons = [LANGUAGE_NAMES.get(code, code) for code in _offered_languages(desk)]
        buttons.append(self._text("Accessibilité"))
        if self.ids.accessibility.state == "down":
            buttons += [
                self._text("Écran en bas"),
                self._text("Grand texte"),
                self._text("Lecture à voix haute"),
            ]
        if desk.phone_survey_url:
            buttons.append(self._text("Ou répondez sur votre téléphone"))
        return f"{localized(main.text, lang)} {choices}. {', '.join(buttons)}"

    def _show_hint(self) -> None:
        message = self.hints[self._hint_index % len(self.hints)]
        self.ids.hint.text = shown(self._text(message), self.language, 0, 1)

    def _next_hint(self, _dt: float) -> None:
        self._hint_index += 1
        self._show_hint()

    def reset_accessibility_panel(self) -> None:
        self.ids.accessibility.state = "normal"

    def _mirror(self, *_: object) -> None:
        """Right-to-left languages read the scale, the header and the body from the right."""
        app = App.get_running_app()
        rtl = bool(app is not None and app.rtl)
        ids = self.ids
        # The faces' grid mirrors itself (MirroredGrid); the boxes around it are put in order.
        body = [ids.answers, ids.qr_panel]
        _in_reading_order(ids.body, body[::-1] if rtl and self.landscape else body)
        header = [ids.desk, ids.languages]
        _in_reading_order(ids.header, header[::-1] if rtl and self.landscape else header)

    def _refresh_languages(self, desk: DeskConfig) -> None:
        bar = self.ids.languages
        bar.clear_widgets()
        offered = [lang for lang in desk.settings.languages if lang in desk.survey.languages]
        if len(offered) < 2:
            return
        for lang in offered:
            toggle = KioskToggle(
                text=shown(LANGUAGE_NAMES.get(lang, lang), lang, 0, 1),
                group="language",
                state="down" if lang == self.language else "normal",
                allow_no_selection=False,
                size_hint=(None, 1),
                width=dp(170) if self.landscape else dp(150),
            )
            toggle.language = lang
            if lang in ("ar",):
                toggle.font_name = "KioskDejaVu"  # the language's own name in its own script
            toggle.bind(on_release=lambda t: self.dispatch("on_language_chosen", t.language))
            bar.add_widget(toggle)


def _offered_languages(desk: DeskConfig) -> list[str]:
    """The language buttons shown: none when only one language is offered."""
    offered = [lang for lang in desk.settings.languages if lang in desk.survey.languages]
    return offered if len(offered) > 1 else []


def _in_reading_order(layout: Widget, widgets: list[Widget]) -> None:
    """Lay `widgets` out left to right (top to bottom), re-adding them only if needed."""
    if list(reversed(layout.children)) == widgets:
        return
    for widget in widgets:
        layout.remove_widget(widget)
    for widget in widgets:
        layout.add_widget(widget)
