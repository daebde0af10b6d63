"""The agent's queue: "visitor arrived", the ticket shown to the visitor, reason chips, the
waiting list, the last action's undo.

Thin: the app gives rows to show (`QueueRow`) and receives taps as events; the rules live in
`kiosk.core.wait_queue`. Buttons never move under a finger: hidden buttons keep their slot, and
when the list changes under the finger (a row taken in charge) the app calls `settle()` so that
the second tap of a double tap does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kivy.core.text import Label as CoreLabel
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.core.agent_desk import VisitReason, duration_text
from kiosk.core.i18n import translate
from kiosk.widgets.buttons import KioskButton, KioskToggle
from kiosk.widgets.settling import SettlingScreen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


@dataclass(frozen=True)
class QueueRow:
    visit_id: str
    ticket: str
    reason: str
    elapsed_seconds: float
    estimated: bool  # measured on wall clocks (a reboot came in between)
    over_threshold: bool
    undo_seconds: float  # 0: no undo


def elapsed_text(seconds: float, estimated: bool, language: str) -> str:
    hours, minutes, secs = duration_text(seconds)
    if hours:
        text = translate("{h} h {m:02d} min", language, h=hours, m=minutes)
    else:
        text = translate("{m} min {s:02d} s", language, m=minutes, s=secs)
    return translate("environ {time}", language, time=text) if estimated else text


def undo_text(seconds: float, language: str) -> str:
    return translate("Annuler ({n} s)", language, n=max(1, int(seconds + 0.999)))


CHIP_PADDING = dp(40)  # around the words, inside the chip's outline


class VisitRow(BoxLayout):
    visit_id = StringProperty("")
    over_threshold = BooleanProperty(False)


class ReasonChip(KioskToggle):
    """A reason for visit, as wide as its words up to the width available (see `fit`)."""

    reason = StringProperty("")

    def fit(self, available: float) -> None:
        """Its words on one line if they fit in `available`, else wrapped between words."""
        natural = CoreLabel(
            text=self.text, font_size=self.font_size, font_name=self.font_name, bold=self.bold
        )
        natural.refresh()
        self.width = min(natural.texture.size[0] + CHIP_PADDING, max(available, 0))


class TicketCard(BoxLayout):
    """The ticket number of the visitor just arrived, large enough to read across the desk."""

    ticket = StringProperty("")
    caption = StringProperty("")


class AgentQueueScreen(SettlingScreen):
    __events__ = (
        "on_arrive",
        "on_reason",
        "on_take",
        "on_walk_out",
        "on_undo",
        "on_show_qr",
        "on_summary",
    )
    language = StringProperty("fr")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.rows: dict[str, VisitRow] = {}
        self._reason_buttons: dict[str, ReasonChip] = {}
        self.last_visit_id: str | None = None

    # Events (the app binds them) --------------------------------------------------------
    def on_arrive(self, reason: str | None) -> None: ...
    def on_reason(self, reason: str) -> None: ...
    def on_take(self, visit_id: str) -> None: ...
    def on_walk_out(self, visit_id: str) -> None: ...
    def on_undo(self, visit_id: str) -> None: ...
    def on_show_qr(self, visit_id: str) -> None: ...
    def on_summary(self) -> None: ...

    # Display ----------------------------------------------------------------------------
    def set_labels(self, desk_name: str) -> None:
        lang = self.language
        self.ids.desk.text = desk_name
        self.ids.arrived.text = translate("Visiteur arrivé", lang)
        self.ids.summary.text = translate("Bilan du jour", lang)
        self.ids.ticket_card.caption = translate("Votre numéro", lang)

    def set_reasons(self, reasons: tuple[VisitReason, ...]) -> None:
        box = self.ids.reasons
        box.clear_widgets()
        self._reason_buttons = {}
        for reason in reasons:
            chip = ReasonChip(text=reason.label, reason=reason.slug)
            chip.bind(on_release=lambda c: self.dispatch("on_reason", c.reason))
            box.add_widget(chip)
            self._reason_buttons[reason.slug] = chip
        self.ids.reasons_title.opacity = 1 if reasons else 0
        self.fit_chips()

    def fit_chips(self) -> None:
        for chip in self._reason_buttons.values():
            chip.fit(self.ids.reasons.width)

    def show_arrival(self, ticket: str | None, reason: str | None) -> None:
        """The visitor just arrived: their ticket, large, and the chips for their reason; with
        no such visitor (none yet, or served since) the chips wait for the next arrival."""
        lang = self.language
        self.ids.ticket_card.ticket = ticket or ""
        self.ids.reasons_title.text = (
            translate("Motif de {ticket} (facultatif)", lang, ticket=ticket)
            if ticket
            else translate("Motif : touchez d'abord « Visiteur arrivé »", lang)
        )
        for slug, chip in self._reason_buttons.items():
            chip.disabled = ticket is None
            chip.state = "down" if ticket and slug == reason else "normal"

    def arrived_tapped(self) -> None:
        self.dispatch("on_arrive", None)

    def show_rows(self, rows: list[QueueRow]) -> None:
        """Rebuild the list when visits come or go; otherwise only update texts (each tick)."""
        lang = self.language
        if list(self.rows) != [row.visit_id for row in rows]:
            box = self.ids.visits
            box.clear_widgets()
            self.rows = {}
            for row in rows:
                widget = VisitRow(visit_id=row.visit_id)
                widget.ids.take.text = translate("Prendre en charge", lang)
                widget.ids.walk_out.text = translate("Parti sans être servi", lang)
                widget.ids.take.bind(
                    on_release=lambda _, v=row.visit_id: self.dispatch("on_take", v)
                )
                widget.ids.walk_out.bind(
                    on_release=lambda _, v=row.visit_id: self.dispatch("on_walk_out", v)
                )
                widget.ids.undo.bind(
                    on_release=lambda _, v=row.visit_id: self.dispatch("on_undo", v)
                )
                box.add_widget(widget)
                self.rows[row.visit_id] = widget
        for row in rows:
            widget = self.rows[row.visit_id]
            widget.over_threshold = row.over_threshold
            widget.ids.ticket.text = row.ticket
            widget.ids.reason.text = row.reason
            mark = translate("Attente longue", lang) if row.over_threshold else ""
            widget.ids.elapsed.text = elapsed_text(row.elapsed_seconds, row.estimated, lang)
            widget.ids.mark.text = mark
            _show(widget.ids.undo, row.undo_seconds > 0)
            widget.ids.undo.text = undo_text(row.undo_seconds, lang)
        self.ids.empty.text = (
            translate("Personne n'attend", lang)
            if not rows
            else translate("{n} en attente", lang, n=len(rows))
        )

    def show_last_action(self, text: str, undo_seconds: float, qr: bool) -> None:
        """The bar under the list: what was just done, its undo, and the visit's QR code."""
        self.ids.last_action.text = text
        _show(self.ids.last_undo, undo_seconds > 0)
        self.ids.last_undo.text = undo_text(undo_seconds, self.language)
        _show(self.ids.last_qr, qr)
        self.ids.last_qr.text = translate("QR code avis", self.language)

    def last_undo_tapped(self) -> None:
        if self.last_visit_id:
            self.dispatch("on_undo", self.last_visit_id)

    def last_qr_tapped(self) -> None:
        if self.last_visit_id:
            self.dispatch("on_show_qr", self.last_visit_id)

    def scroll_to_visit(self, visit_id: str) -> None:
        """Bring a row into view (a new arrival at the bottom of a long list)."""
        row = self.rows.get(visit_id)
        if row is not None:
            self.ids.scroller.scroll_to(row, padding=dp(10), animate=False)


def _show(button: KioskButton, visible: bool) -> None:
    """A hidden button keeps its slot (its neighbours never move) and takes no touch."""
    button.opacity = 1 if visible else 0
    button.disabled = not visible
