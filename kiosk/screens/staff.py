"""The staff screen: this kiosk's identity and sync state, "sync now", back, and exit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from kiosk import theme
from kiosk.core.i18n import translate
from kiosk.core.staff_access import PinOrigin
from kiosk.core.staff_pin import DEVELOPMENT_PIN
from kiosk.core.staff_status import (
    StaffStatus,
    error_text,
    offset_text,
    sync_outcome_text,
    time_text,
)
from kiosk.core.sync import SyncReport
from kiosk.screens.staff_timers import IdleReturnScreen
from kiosk.widgets.settling import SettlingScreen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


def status_rows(status: StaffStatus, language: str) -> list[tuple[str, str, str]]:
    """(key, label, value) for each line of the screen, in display order."""
    lang = language
    tablet = status.mode == "tablet"
    not_enrolled = (
        translate("tablette non inscrite", lang)
        if tablet
        else translate("borne non inscrite", lang)
    )
    desk = " – ".join(part for part in (status.site, status.service) if part)
    survey = (
        translate(
            "{survey} (version {version})",
            lang,
            survey=status.survey_id,
            version=status.survey_version,
        )
        if status.survey_id
        else translate("aucun (tablette d'accueil)", lang)
    )
    error = error_text(status.last_error_code, lang) or translate("aucune", lang)
    return [
        (
            "device",
            translate("Tablette", lang) if tablet else translate("Borne", lang),
            status.device_name or status.device_id or not_enrolled,
        ),
        ("device_id", translate("Identifiant (support)", lang), status.device_id or not_enrolled),
        ("desk", translate("Site et service", lang), desk or not_enrolled),
        ("server", translate("Serveur", lang), status.server_url or not_enrolled),
        ("survey", translate("Questionnaire", lang), survey),
        ("backlog", translate("Réponses à envoyer", lang), str(status.backlog)),
        ("held", translate("Réponses refusées par le serveur", lang), str(status.held)),
        (
            "last_sync",
            translate("Dernière synchronisation réussie", lang),
            time_text(status.last_sync_at, status.now, lang),
        ),
        ("last_error", translate("Dernière erreur", lang), error),
        (
            "clock",
            translate("Horloge par rapport au serveur", lang),
            offset_text(status.clock_offset_ms, lang),
        ),
        ("version", translate("Version de l'application", lang), status.app_version),
    ]


class StaffScreen(IdleReturnScreen, SettlingScreen):
    """Shows a `StaffStatus`, refreshed from `status_source` every `refresh_seconds`.

    Dispatches `on_sync_now`, `on_close` (back to the visitors; also after `idle_seconds`
    without a touch) and `on_exit` (only after the confirmation step, whose "Quitter" is away from
    the button that asked, and which ignores taps for the settle time). The app passes each sync
    report to `show_sync_report`: after "sync now", the screen says how that pass went.
    """

    __events__ = ("on_sync_now", "on_close", "on_exit")

    language = StringProperty("fr")
    landscape = BooleanProperty(True)
    status_source = ObjectProperty(None, allownone=True)  # () -> StaffStatus
    refresh_seconds = NumericProperty(2.0)
    confirming_exit = BooleanProperty(False)
    for_tablet = BooleanProperty(False)  # "back" goes to the queue, not to the survey

    def on_sync_now(self) -> None:
        """Event: staff asked for a sync now."""

    def on_close(self) -> None:
        """Event: back to the visitors."""

    def on_exit(self) -> None:
        """Event: staff confirmed leaving the app for the desktop."""

    def on_kv_post(self, _: object) -> None:
        self.stop_timers()
        self._status: StaffStatus | None = None
        self._values: dict[str, Label] = {}
        self._labels: dict[str, Label] = {}
        self._notice = ""
        self.bind(size=lambda _, size: setattr(self, "landscape", size[0] >= size[1]))
        self.bind(language=lambda *_: self._redraw())
        ids = self.ids
        ids.sync_now.bind(on_release=lambda _: self.sync_now())
        ids.close.bind(on_release=lambda _: self.close())
        ids.exit.bind(on_release=lambda _: setattr(self, "confirming_exit", True))
        ids.exit_cancel.bind(on_release=lambda _: setattr(self, "confirming_exit", False))
        self.bind(confirming_exit=self._swap_actions)
        # Strong references: `ids` are weak, and one of the two bars is always out of the tree.
        self._bars = {False: ids.actions.__self__, True: ids.confirm_bar.__self__}
        ids.action_area.remove_widget(ids.confirm_bar)
        ids.exit_confirm.bind(on_release=lambda _: self.dispatch("on_exit"))
        self._redraw()

    # --- what staff do ---------------------------------------------------------------------
    def sync_now(self) -> None:
        self._awaiting_sync = True
        self._notice = translate("Synchronisation demandée…", self.language)
        self._show_notice()
        self.dispatch("on_sync_now")

    def show_sync_report(self, report: SyncReport) -> None:
        """The outcome of the pass staff asked for; passes nobody asked for only refresh."""
        if getattr(self, "_awaiting_sync", False):
            self._awaiting_sync = False
            self._notice = sync_outcome_text(report, self.language)
            self._show_notice()
        self.refresh()

    def _swap_actions(self, *_: object) -> None:
        area = self.ids.action_area
        area.clear_widgets()
        area.add_widget(self._bars[self.confirming_exit])
        self._show_notice()
        self.settle()  # the buttons changed under the finger that asked

    def _show_notice(self) -> None:
        self.ids.notice.text = (
            translate(
                "Quitter l'application ? Les réponses enregistrées restent sur la borne.",
                self.language,
            )
            if self.confirming_exit
            else self._notice
        )

    def close(self) -> None:
        self.confirming_exit = False
        self.dispatch("on_close")

    # --- data ------------------------------------------------------------------------------
    def show(self, status: StaffStatus) -> None:
        self._status = status
        self._redraw()

    def refresh(self, *_: object) -> None:
        source: Callable[[], StaffStatus] | None = self.status_source
        if source is not None:
            self.show(source())

    def value_of(self, key: str) -> str:
        """The text shown for one line (see `status_rows`), for tests and support."""
        return self._values[key].text

    def _redraw(self) -> None:
        lang, ids = self.language, self.ids
        ids.title.text = translate("Espace personnel", lang)
        ids.sync_now.text = translate("Synchroniser maintenant", lang)
        ids.close.text = (
            translate("Retour à la file", lang)
            if self.for_tablet
            else translate("Retour au questionnaire", lang)
        )
        ids.exit.text = translate("Quitter vers le bureau", lang)
        self._show_notice()
        ids.exit_cancel.text = translate("Annuler", lang)
        ids.exit_confirm.text = translate("Quitter", lang)
        status = self._status
        if status is None:
            return
        ids.pin_warning.text = (
            translate(
                "Code d'accès de développement ({pin}) : définissez-en un avec "
                "« kiosk --staff-pin ».",
                lang,
                pin=DEVELOPMENT_PIN,
            )
            if status.pin_origin is PinOrigin.DEVELOPMENT
            else ""
        )
        rows = status_rows(status, lang)
        facts = ids.facts
        if list(self._values) != [key for key, _, _ in rows]:
            facts.clear_widgets()
            self._labels, self._values = {}, {}
            for key, _, _ in rows:
                row = BoxLayout(spacing=dp(16), size_hint_y=None)
                label = self._cell(theme.MUTED_TEXT, 0.4, bold=False)
                value = self._cell(theme.TEXT, 0.6, bold=True)
                for cell in (label, value):
                    # A line is as tall as its taller cell; both are centred in it.
                    cell.bind(
                        texture_size=lambda *_, r=row, a=label, b=value: setattr(
                            r, "height", max(a.texture_size[1], b.texture_size[1]) + dp(10)
                        )
                    )
                    row.add_widget(cell)
                facts.add_widget(row)
                self._labels[key], self._values[key] = label, value
        for key, label, value in rows:
            self._labels[key].text = label
            self._values[key].text = value

    @staticmethod
    def _cell(colour: tuple[float, ...], width: float, *, bold: bool) -> Label:
        cell = Label(
            color=colour,
            font_size=theme.SMALL_SIZE,
            bold=bold,
            halign="left",
            valign="middle",
            size_hint_x=width,
        )
        cell.bind(width=lambda c, w: setattr(c, "text_size", (w, None)))
        return cell

    # --- screen life -----------------------------------------------------------------------
    def on_pre_enter(self, *args: object) -> None:
        super().on_pre_enter(*args)
        self.confirming_exit = False
        self._awaiting_sync = False
        self._notice = ""
        self._show_notice()
        self.refresh()

    def on_enter(self, *_: object) -> None:
        self.start_timers(self.refresh, self.refresh_seconds)

    def on_leave(self, *_: object) -> None:
        self.stop_timers()

    def on_idle_timeout(self) -> None:
        self.close()
