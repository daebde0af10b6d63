"""The agent's day summary: visitors, waits, walk-outs, share served within the threshold."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk.core.i18n import translate
from kiosk.core.wait_queue import DaySummary
from kiosk.screens.agent_queue import elapsed_text
from kiosk.widgets.settling import SettlingScreen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


def summary_rows(
    summary: DaySummary, threshold_minutes: float, language: str
) -> list[tuple[str, str, str]]:
    """(key, label, value) per line, in display order."""
    lang = language
    none = translate("pas encore de mesure", lang)

    def wait(seconds: float | None) -> str:
        return none if seconds is None else elapsed_text(seconds, False, lang)

    share = summary.within_threshold_percent
    return [
        ("visitors", translate("Visiteurs", lang), str(summary.visitors)),
        ("served", translate("Pris en charge", lang), str(summary.served)),
        ("waiting", translate("En attente", lang), str(summary.waiting)),
        ("mean", translate("Attente moyenne", lang), wait(summary.mean_wait_seconds)),
        ("max", translate("Attente maximale", lang), wait(summary.max_wait_seconds)),
        (
            "within",
            translate("Servis en {n} min ou moins", lang, n=f"{threshold_minutes:g}"),
            none if share is None else f"{share:.0f} %",
        ),
        ("walked_out", translate("Partis sans être servis", lang), str(summary.walked_out)),
        ("unknown", translate("Issue inconnue (fermeture)", lang), str(summary.unknown)),
    ]


class AgentSummaryScreen(SettlingScreen):
    __events__ = ("on_back",)
    language = StringProperty("fr")

    def on_back(self) -> None: ...

    def show(self, summary: DaySummary, threshold_minutes: float) -> None:
        lang = self.language
        self.ids.title.text = translate("Bilan du jour", lang)
        self.ids.back.text = translate("Retour à la file", lang)
        self.rows = summary_rows(summary, threshold_minutes, lang)
        self.ids.labels.text = "\n".join(label for _, label, _ in self.rows)
        self.ids.figures.text = "\n".join(value for _, _, value in self.rows)
