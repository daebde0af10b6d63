"""The staff PIN screen: a big keypad, masked digits, a calm message, the lockout countdown."""

from __future__ import annotations

import math
from pathlib import Path

from kivy.graphics import Color, Ellipse, InstructionGroup, Line
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk import theme
from kiosk.core.i18n import translate
from kiosk.core.staff_pin import MAX_DIGITS, MIN_DIGITS, PinOutcome
from kiosk.screens.staff_timers import IdleReturnScreen
from kiosk.widgets.buttons import KioskButton

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class KeypadButton(KioskButton):
    """A keypad key: a kiosk button with larger digits (see pin.kv); `word` for Effacer/OK."""

    word = BooleanProperty(False)


def countdown_text(seconds: float) -> str:
    """ "25 s" or "2 min 05 s", rounded up so a locked keypad never reads "0 s"."""
    whole = max(math.ceil(seconds), 1)
    if whole < 60:
        return f"{whole} s"
    return f"{whole // 60} min {whole % 60:02d} s"


class PinDots(Widget):
    """One filled dot per digit typed, empty rings up to the shortest PIN: never the digits."""

    filled = NumericProperty(0)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._drawing = InstructionGroup()
        self.canvas.add(self._drawing)
        self.bind(pos=self._redraw, size=self._redraw, filled=self._redraw)

    def _redraw(self, *_: object) -> None:
        group = self._drawing
        group.clear()
        count = max(MIN_DIGITS, int(self.filled))
        radius, gap = dp(14), dp(22)
        total = count * 2 * radius + (count - 1) * gap
        x = self.center_x - total / 2
        y = self.center_y - radius
        group.add(Color(*theme.TEXT))
        for index in range(count):
            if index < self.filled:
                group.add(Ellipse(pos=(x, y), size=(2 * radius, 2 * radius)))
            else:
                group.add(Line(circle=(x + radius, y + radius, radius - dp(1.5)), width=dp(2)))
            x += 2 * radius + gap


class PinScreen(IdleReturnScreen):
    """Asks for the staff PIN through `access` (a `kiosk.core.staff_access.StaffAccess`).

    Dispatches `on_unlocked` for the right PIN and `on_cancel` when staff cancel or nobody
    touches the screen for `idle_seconds`. The digits typed are forgotten on leaving.
    """

    __events__ = ("on_unlocked", "on_cancel")

    language = StringProperty("fr")
    landscape = BooleanProperty(True)
    access = ObjectProperty(None, allownone=True)
    digits = StringProperty("")
    locked = BooleanProperty(False)

    def on_unlocked(self) -> None:
        """Event: the right PIN was typed."""

    def on_cancel(self) -> None:
        """Event: back to the visitors (cancel button or inactivity)."""

    def on_kv_post(self, _: object) -> None:
        self.stop_timers()
        self._notice = ""
        self.bind(size=lambda _, size: setattr(self, "landscape", size[0] >= size[1]))
        self.bind(language=self._retext, digits=self._show_digits)
        self._digit_keys: list[KioskButton] = []
        for label in ("1", "2", "3", "4", "5", "6", "7", "8", "9", "", "0", ""):
            if not label:
                continue
            key = KeypadButton(text=label)
            key.bind(on_release=lambda k: self.press_digit(k.text))
            self._digit_keys.append(key)
        keys = self._digit_keys
        self.erase_key = KeypadButton(word=True)
        self.erase_key.bind(on_release=lambda _: self.erase())
        self.ok_key = KeypadButton(word=True, primary=True)
        self.ok_key.bind(on_release=lambda _: self.submit())
        for key in [*keys[:9], self.erase_key, keys[9], self.ok_key]:
            self.ids.keypad.add_widget(key)
        self._retext()

    # --- what staff do ---------------------------------------------------------------------
    def press_digit(self, digit: str) -> None:
        if not self.locked and len(self.digits) < MAX_DIGITS:
            self.digits += digit

    def erase(self) -> None:
        self.digits = self.digits[:-1]

    def cancel(self) -> None:
        self.digits = ""
        self.dispatch("on_cancel")

    def submit(self) -> None:
        if self.access is None or self.locked:
            return
        if len(self.digits) < MIN_DIGITS:
            self._notice = translate(
                "Le code compte au moins {n} chiffres.", self.language, n=MIN_DIGITS
            )
            self._retext()
            return
        pin, self.digits = self.digits, ""
        outcome = self.access.try_pin(pin)
        if outcome is PinOutcome.ACCEPTED:
            self._notice = ""
            self._retext()
            self.dispatch("on_unlocked")
            return
        if outcome is PinOutcome.WRONG:
            left = self.access.free_attempts_left()
            self._notice = (
                translate("Code incorrect. Encore {n} essai(s).", self.language, n=left)
                if left
                else translate("Code incorrect.", self.language)
            )
        self.refresh_lock()

    # --- screen life -----------------------------------------------------------------------
    def on_pre_enter(self, *_: object) -> None:
        self.digits, self._notice = "", ""
        self.refresh_lock()

    def on_enter(self, *_: object) -> None:
        self.start_timers(self.refresh_lock, 0.25)

    def on_leave(self, *_: object) -> None:
        self.digits = ""
        self.stop_timers()

    def on_idle_timeout(self) -> None:
        self.cancel()

    # --- display ---------------------------------------------------------------------------
    def refresh_lock(self, *_: object) -> None:
        """Lock or unlock the keypad from the access's lockout, and show the countdown."""
        seconds = self.access.locked_seconds() if self.access is not None else 0.0
        was_locked, self.locked = self.locked, seconds > 0
        if was_locked and not self.locked:
            self._notice = ""
        for key in [*self._digit_keys, self.ok_key]:
            key.disabled = self.locked
        self.ok_key.primary = not self.locked  # no navy "go" key while nothing can go
        self.ids.keypad.opacity = 0.45 if self.locked else 1
        self.ids.message.bold = self.locked
        self._retext(seconds=seconds)

    def _show_digits(self, *_: object) -> None:
        self.ids.dots.filled = len(self.digits)
        self.erase_key.disabled = not self.digits

    def _retext(self, *_: object, seconds: float = 0.0) -> None:
        lang, ids = self.language, self.ids
        ids.title.text = translate("Accès réservé au personnel", lang)
        ids.prompt.text = translate("Saisissez votre code", lang)
        ids.cancel.text = translate("Annuler", lang)
        self.erase_key.text = translate("Effacer", lang)
        self.ok_key.text = translate("Valider", lang)
        if self.locked:
            ids.message.text = translate(
                "Trop d'essais. Vous pourrez réessayer dans {time}.",
                lang,
                time=countdown_text(seconds),
            )
        else:
            ids.message.text = self._notice
        self._show_digits()
