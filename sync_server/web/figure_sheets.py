"""The indicators workbook, one sheet per topic: every figure with its target and gap, the wait
commitments, the reasons for dissatisfaction, and the waits visitors said against those
measured. Figures keep their unit's scale (a share is 0–100, as in the JSON API); the unit is in
the header or its own column, and an XLSX cell's number format shows it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from qualivilles.survey import localized
from sync_server.comments.verbatims import Verbatim
from sync_server.indicators.catalogue import QUESTION_PREFIX
from sync_server.indicators.figures import DeskFigures
from sync_server.indicators.formulas import Figure
from sync_server.web import labels
from sync_server.web.export_words import (
    Gettext,
    code_columns,
    hidden_reason,
    local,
    place_columns,
    shown,
    with_unit,
)
from sync_server.web.tables import Column, Sheet

# The wait commitment's figures, each with its target and gap, in the order a reader checks them.
WAIT_KEYS = ("within_threshold_rate", "mean_wait_minutes", "median_wait_minutes",
             "p90_wait_minutes", "max_wait_minutes", "walk_out_rate")  # fmt: skip


def _period_column(_: Gettext) -> Column:
    return Column(_("Période"), _("Période des chiffres (mois, trimestre, année ou campagne)"))


def _desk_start(row: DeskFigures, period: str) -> list[Any]:
    return [period, row.site_name, row.service_name]


def figure_name(key: str, _: Gettext, question_texts: Mapping[str, str]) -> str:
    """An indicator's name; a question's rate is named by its question."""
    if key.startswith(QUESTION_PREFIX):
        question = key.removeprefix(QUESTION_PREFIX)
        if question in labels.QUESTION_NAMES:
            return _(labels.QUESTION_NAMES[question])
        return question_texts.get(question, question)
    return _(labels.INDICATOR_NAMES.get(key, key))


def indicator_sheet(
    rows: Sequence[DeskFigures],
    period: str,
    _: Gettext,
    min_n: int,
    question_texts: Mapping[str, str],
) -> Sheet:
    """One line per desk and figure, each question's rate included once: the figures of the
    JSON API with their unit, what N counts, the previous period, the target and the gap."""
    columns = [
        _period_column(_),
        *place_columns(_),
        Column(_("Indicateur"), _("Nom de l'indicateur, ou la question pour un taux par question")),
        Column(_("Valeur"), _("Valeur sur la période"), _("voir la colonne Unité"),
               _("Taux de satisfaction = (très satisfaits + satisfaits) / avis exprimés × 100")),
        Column(_("Unité"), _("Unité de la valeur, de la période précédente et de l'objectif")),
        Column(_("N"), _("Effectif sur lequel la valeur est calculée"), _("nombre"),
               _("voir la colonne N compte"), "0"),
        Column(_("N compte"), _("Ce que N compte (réponses, avis exprimés, passages…)")),
        Column(_("Période précédente"), _("Valeur de la période précédente de même durée"),
               _("voir la colonne Unité")),
        Column(_("Objectif"), _("Objectif en vigueur (Qualivilles : 90 % de satisfaction)"),
               _("voir la colonne Unité")),
        Column(_("Écart"), _("Valeur moins objectif"), _("voir la colonne Unité de l'écart"),
               _("Un taux s'écarte en points de pourcentage")),
        Column(_("Unité de l'écart"), _("Unité de l'écart à l'objectif")),
        Column(_("Intervalle à 95 % : bas"), _("Borne basse de l'intervalle de confiance"),
               "%", _("Intervalle de Wilson à 95 % d'un taux")),
        Column(_("Intervalle à 95 % : haut"), _("Borne haute de l'intervalle de confiance"),
               "%", _("Intervalle de Wilson à 95 % d'un taux")),
        Column(_("Masqué (raison)"), _("Pourquoi la valeur n'est pas publiée"), "",
               _("Moins de réponses que le minimum (5 par défaut) : chiffre masqué")),
        Column(_("Code de l'indicateur"),
               _("Identifiant stable de l'indicateur, pour les outils BI")),
        *code_columns(_),
    ]  # fmt: skip
    lines = []
    for row in rows:
        for key, figure in row.every_figure().items():
            lines.append([
                *_desk_start(row, period), figure_name(key, _, question_texts),
                shown(figure.value, figure.unit), _(labels.UNIT_NAMES[figure.unit]),
                figure.n, _(labels.COUNTED_NAMES[figure.n_counts]),
                shown(figure.previous, figure.unit), shown(figure.target, figure.unit),
                shown(figure.gap, figure.gap_unit), _(labels.UNIT_NAMES[figure.gap_unit]),
                shown(figure.low, "%"), shown(figure.high, "%"),
                hidden_reason(figure, min_n, _), key, row.site, row.service,
            ])  # fmt: skip
    return Sheet(_("Indicateurs"), columns, lines, frozen_columns=4)


def wait_sheet(rows: Sequence[DeskFigures], period: str, _: Gettext, min_n: int) -> Sheet:
    """The "délai d'attente" commitment, one line per desk whose agents record visits (a tablet
    now, or visits in the period): the
    threshold, then every wait figure with its target and gap."""
    columns = [
        _period_column(_),
        *place_columns(_),
        Column(with_unit("Délai d'attente du service", "min", _),
               _("Attente maximale que le service s'engage à tenir"), _("min"),
               _("Réglé par service"), "0"),
    ]  # fmt: skip
    for key in WAIT_KEYS:
        unit = "%" if key.endswith("rate") else "min"
        gap_unit = "pts" if unit == "%" else "min"
        name = labels.INDICATOR_NAMES[key]
        columns += [
            Column(with_unit(name, unit, _), _(name), _(labels.UNIT_NAMES[unit]),
                   _(WAIT_COMPUTED[key])),
            Column(with_unit(_("%(name)s : objectif") % {"name": _(name)}, unit, _),
                   _("Objectif en vigueur"), _(labels.UNIT_NAMES[unit])),
            Column(with_unit(_("%(name)s : écart") % {"name": _(name)}, gap_unit, _),
                   _("Valeur moins objectif"), _(labels.UNIT_NAMES[gap_unit])),
        ]  # fmt: skip
    columns += [
        Column(_("Passages servis, attente mesurée (N)"),
               _("N des attentes et de la part reçue dans le délai"), _("nombre"), "", "0"),
        Column(_("Passages enregistrés par les agents"), _("Arrivées notées sur la tablette"),
               _("nombre"), "", "0"),
        Column(_("Issue inconnue (encore en attente à la fermeture)"),
               _("Passages ni servis ni partis à la fin de la journée"), _("nombre"), "", "0"),
        Column(_("Chiffres masqués"), _("Pourquoi des chiffres de la ligne ne sont pas publiés")),
        *code_columns(_),
    ]  # fmt: skip
    lines = []
    for row in rows:
        figures = row.figures
        if "within_threshold_rate" not in figures or not (row.measured or row.has_tablet):
            continue  # no agent tablet at the desk: no measured wait
        line = [*_desk_start(row, period), row.threshold_minutes]
        reasons = []
        for key in WAIT_KEYS:
            figure = figures.get(key, Figure(None, 0))
            line += [shown(figure.value, figure.unit or "min"),
                     shown(figure.target, figure.unit or "min"),
                     shown(figure.gap, figure.gap_unit or "min")]  # fmt: skip
            reason = hidden_reason(figure, min_n, _)
            if reason and reason not in reasons:
                reasons.append(reason)
        served = figures["within_threshold_rate"].n
        visits, unknown = figures.get("visits"), figures.get("unknown_outcomes")
        line += [served, visits and visits.value, unknown and unknown.value, " ".join(reasons),
                 row.site, row.service]  # fmt: skip
        lines.append(line)
    return Sheet(_("Attente"), columns, lines, frozen_columns=3)


WAIT_COMPUTED = {
    "within_threshold_rate": labels.N_(
        "Passages servis attendus au plus le délai du service / passages servis × 100"
    ),
    "mean_wait_minutes": labels.N_("Moyenne des attentes mesurées des passages servis"),
    "median_wait_minutes": labels.N_("Médiane des attentes mesurées des passages servis"),
    "p90_wait_minutes": labels.N_("9 passages servis sur 10 ont attendu au plus cette durée"),
    "max_wait_minutes": labels.N_("Plus longue attente mesurée d'un passage servi"),
    "walk_out_rate": labels.N_("Partis sans être reçus / (servis + partis) × 100"),
}


def reasons_sheet(rows: Sequence[DeskFigures], period: str, _: Gettext, language: str) -> Sheet:
    """Why unhappy visitors were unhappy, per desk, most chosen first (the answers to "what
    went wrong?"; several reasons may be chosen in one answer)."""
    columns = [
        _period_column(_),
        *place_columns(_),
        Column(_("Rang"), _("Rang de la raison au guichet, la plus citée d'abord"), "", "", "0"),
        Column(_("Raison"), _("Choix de la question « Qu'est-ce qui n'a pas été ? »")),
        Column(_("Citations"), _("Réponses insatisfaites citant cette raison"), _("nombre"), "",
               "0"),
        Column(with_unit("Part des raisons citées", "%", _), _("Part de cette raison"), "%",
               _("Citations de la raison / citations de toutes les raisons × 100")),
        Column(with_unit("Part cumulée", "%", _), _("Cette raison et celles avant elle (Pareto)"),
               "%", _("Somme des parts jusqu'à ce rang")),
        Column(_("Code de la raison"), _("Identifiant stable du choix dans le questionnaire")),
        *code_columns(_),
    ]  # fmt: skip
    lines = []
    for row in rows:
        for rank, reason in enumerate(row.reasons, start=1):
            lines.append([
                *_desk_start(row, period), rank, localized(reason.label, language), reason.count,
                shown(reason.share, "%"),
                shown(reason.cumulative, "%"), reason.choice,
                row.site, row.service,
            ])  # fmt: skip
    return Sheet(_("Raisons"), columns, lines, frozen_columns=3)


def said_waits_sheet(
    rows: Sequence[DeskFigures], period: str, _: Gettext, language: str, min_n: int
) -> Sheet:
    """The wait visitors said ("how long did you wait?"), per band, against the wait the agents
    measured for those of them whose answer is linked to a visit."""
    columns = [
        _period_column(_),
        *place_columns(_),
        Column(_("Attente déclarée"), _("Réponse à « Combien de temps avez-vous attendu ? »")),
        Column(_("Réponses"), _("Visiteurs ayant choisi cette durée"), _("nombre"), "", "0"),
        Column(_("Réponses liées à un passage mesuré (N)"),
               _("Réponses données par le lien du passage, dont l'attente est mesurée"),
               _("nombre"), "", "0"),
        Column(with_unit("Attente médiane mesurée", "min", _),
               _("Médiane des attentes mesurées de ces réponses liées"), _("min"),
               _("Masquée sous le minimum de réponses liées")),
        Column(_("Masqué (raison)"), _("Pourquoi l'attente mesurée n'est pas publiée")),
        Column(_("Code de la durée"), _("Identifiant stable du choix dans le questionnaire")),
        *code_columns(_),
    ]  # fmt: skip
    lines = []
    for row in rows:
        for said in row.said_waits:
            measured = said.measured
            lines.append([
                *_desk_start(row, period), localized(said.label, language), said.answers,
                measured.n, shown(measured.value, "min"), hidden_reason(measured, min_n, _),
                said.band, row.site, row.service,
            ])  # fmt: skip
    return Sheet(_("Attente déclarée"), columns, lines, frozen_columns=3)


MOODS = {
    "unhappy": labels.N_("Insatisfait"),
    "happy": labels.N_("Satisfait"),
    "neutral": labels.N_("Sans avis"),
}


def verbatims_sheet(
    rows: Sequence[DeskFigures],
    verbatims: Mapping[tuple[str, str], Sequence[Verbatim]],
    period: str,
    zone: ZoneInfo,
    _: Gettext,
) -> Sheet:
    """The visitors' words quoted for each desk: a balanced selection, masked, never a comment
    the quality manager has not released (`comments.verbatims`)."""
    columns = [
        _period_column(_),
        *place_columns(_),
        Column(_("Reçu le"), _("Réception du commentaire (heure de la ville)")),
        Column(_("Avis"), _("Réponse à la question principale : insatisfait, satisfait, "
                            "sans avis")),
        Column(_("Commentaire"), _("Texte du visiteur, noms et numéros masqués, coupé par « … » "
                                   "au-delà de 280 caractères")),
        *code_columns(_),
    ]  # fmt: skip
    lines = [
        [*_desk_start(row, period), local(v.received_at, zone), _(MOODS[v.mood]), v.text,
         row.site, row.service]
        for row in rows
        for v in verbatims.get((row.site, row.service), [])
    ]  # fmt: skip
    return Sheet(_("Verbatims"), columns, lines, frozen_columns=3)
