"""The answers and visits workbooks, and the register's: one line per record, in words (names,
choice labels of the survey in the reader's language, yes/no), moments as date cells in the
town's time zone, ids and codes in the last columns for BI tools."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale

from qualivilles.survey import Question, QuestionType, SurveyDefinition, localized
from sync_server.web.export_words import (
    Gettext,
    code_columns,
    local,
    place_columns,
    place_names,
    with_unit,
    yes_no,
)
from sync_server.web.labels import N_
from sync_server.web.tables import Column, Sheet

CHANNELS = {"kiosk": N_("Borne"), "phone": N_("Téléphone"), "tablet": N_("Tablette d'agent")}
ANSWER_STATUSES = {"complete": N_("Complète"), "partial": N_("Partielle (interrompue)")}
OUTCOMES = {
    "served": N_("Reçu"),
    "walked_out": N_("Parti sans être reçu"),
    "waiting": N_("En attente"),
    "cancelled": N_("Annulé"),
    "unknown": N_("Issue inconnue"),
}


def questions_of(surveys: Iterable[SurveyDefinition]) -> dict[str, Question]:
    """Every question of the surveys answered, by id, in the order of the survey given first
    (the current one), the newest version's wording winning."""
    found: dict[str, Question] = {}
    ordered = list(surveys)
    for survey in sorted(ordered[1:], key=lambda s: s.version) + ordered[:1]:
        for question in survey.questions:
            found[question.id] = question
    order = [q.id for survey in ordered for q in survey.questions]
    return {qid: found[qid] for qid in dict.fromkeys(order)}


def answer_value(question: Question | None, stored: str, language: str, _: Gettext) -> Any:
    """A stored answer ("waiting;welcome") as its reader's words ("L'attente, L'accueil")."""
    values = stored.split(";")
    if question is None:
        return stored
    if question.type == QuestionType.YES_NO:
        return ", ".join(yes_no(value in ("True", "true", "yes"), _) for value in values)
    if question.type == QuestionType.SCALE_0_10 and len(values) == 1 and values[0].isdigit():
        return int(values[0])
    choices = {choice.id: localized(choice.label, language) for choice in question.choices}
    return ", ".join(choices.get(value, value) for value in values)


def _possible(question: Question, language: str, _: Gettext) -> str:
    if question.type == QuestionType.YES_NO:
        values = [_("oui"), _("non")]
    elif question.type == QuestionType.SCALE_0_10:
        values = ["0 … 10"]
    else:
        values = [localized(choice.label, language) for choice in question.choices]
    several = question.type == QuestionType.MULTIPLE_CHOICE
    said = _("Plusieurs choix possibles : %(values)s") if several else _("Valeurs : %(values)s")
    return said % {"values": " ; ".join(values)}


def answers_sheet(
    rows: Sequence[Mapping[str, Any]],
    questions: Mapping[str, Question],
    names: tuple[Mapping[str, str], Mapping[str, str]],
    zone: ZoneInfo,
    language: str,
    _: Gettext,
) -> Sheet:
    """One line per answer, one column per question answered (its text, the chosen labels)."""
    answered = {q for row in rows for q in row["items"]}
    asked = [q for q in questions if q in answered and questions[q].type != QuestionType.TEXT]
    asked += sorted(answered - set(asked))
    columns = [
        Column(_("Date et heure"), _("Moment de la réponse, heure de la ville"), "",
               _("Horloge de l'appareil corrigée par le serveur")),
        *place_columns(_),
        Column(_("Canal"), _("Borne, téléphone (QR code) ou tablette d'agent")),
        Column(_("Langue"), _("Langue choisie par le visiteur")),
        Column(_("Statut"), _("Complète, ou interrompue avant la fin (partielle)")),
        Column(_("Suspect"), _("Appui répété en quelques secondes : écarté des indicateurs")),
    ]  # fmt: skip
    for qid in asked:
        question = questions.get(qid)
        text = localized(question.text, language) if question else qid
        possible = _possible(question, language, _) if question else ""
        columns.append(Column(text, text, "", possible))
    columns += [
        Column(_("Id. de la réponse"), _("Identifiant unique de la réponse (UUID)")),
        *code_columns(_),
    ]
    sites, services = names
    lines = []
    for row in rows:
        lines.append([
            local(row["captured_at"], zone), *place_names(row["site"], row["service"], sites,
                                                          services),
            _(CHANNELS.get(row["channel"], row["channel"])), _language_name(row["language"],
                                                                            language),
            _(ANSWER_STATUSES.get(row["status"], row["status"])), yes_no(row["suspect"], _),
            *[answer_value(questions.get(q), row["items"][q], language, _)
              if q in row["items"] else None for q in asked],
            row["id"], row["site"], row["service"],
        ])  # fmt: skip
    return Sheet(_("Réponses"), columns, lines, frozen_columns=1)


@lru_cache(maxsize=64)
def _language_name(code: str, language: str) -> str:
    try:
        return Locale.parse(code).get_language_name(Locale.parse(language)) or code
    except (ValueError, TypeError):
        return code


def visits_sheet(
    rows: Sequence[Mapping[str, Any]],
    names: tuple[Mapping[str, str], Mapping[str, str]],
    zone: ZoneInfo,
    _: Gettext,
) -> Sheet:
    """One line per visit recorded by an agent, with its outcome and measured wait."""
    columns = [
        Column(_("Arrivée"), _("Arrivée dans la file, notée par l'agent (heure de la ville)")),
        *place_columns(_),
        Column(_("Ticket"), _("Numéro de ticket noté par l'agent, s'il y en a un")),
        Column(_("Prise en charge"), _("Prise en charge par l'agent (heure de la ville)")),
        Column(_("Issue"), _("Reçu, parti sans être reçu, en attente, annulé ou inconnue")),
        Column(with_unit("Attente", "min", _), _("Attente mesurée d'un passage reçu"),
               _("min"), _("Prise en charge − arrivée, horloges corrigées"), "0.0"),
        Column(_("Id. du passage"), _("Identifiant unique du passage (UUID)")),
        *code_columns(_),
    ]  # fmt: skip
    sites, services = names
    lines = [
        [local(r["arrived_at"], zone), *place_names(r["site"], r["service"], sites, services),
         r["ticket"], local(r["taken_at"], zone), _(OUTCOMES.get(r["outcome"], r["outcome"])),
         None if r["wait_seconds"] is None else round(r["wait_seconds"] / 60, 2),
         r["id"], r["site"], r["service"]]
        for r in rows
    ]  # fmt: skip
    return Sheet(_("Passages"), columns, lines, frozen_columns=1)


REGISTER_COLUMNS = [
    (N_("N°"), N_("Numéro de l'entrée du registre")),
    (N_("Reçu le"), N_("Réception du commentaire (heure de la ville)")),
    (N_("Site"), N_("Nom du site (lieu d'accueil)")),
    (N_("Service"), N_("Nom du service")),
    (N_("Catégorie"), N_("Catégorie donnée par le responsable")),
    (N_("État"), N_("Nouveau, accusé de réception, répondu ou clos")),
    (N_("Accusé de réception le"), N_("Heure de la ville")),
    (N_("Accusé de réception par"), N_("Compte qui a accusé réception")),
    (N_("Accusé de réception dû le"), N_("7 jours après la réception")),
    (N_("Délai d'accusé de réception (jours)"), N_("Jours calendaires jusqu'à l'accusé")),
    (N_("Accusé de réception : délai"), N_("Dans le délai, hors délai ou en cours")),
    (N_("Répondu le"), N_("Heure de la ville")),
    (N_("Répondu par"), N_("Compte qui a répondu")),
    (N_("Réponse due le"), N_("15 jours ouvrés après la réception, jours fériés exclus")),
    (N_("Délai de réponse (jours ouvrés)"), N_("Jours ouvrés jusqu'à la réponse")),
    (N_("Réponse : délai"), N_("Dans le délai, hors délai ou en cours")),
    (N_("Clos le"), N_("Heure de la ville")),
    (N_("Clos par"), N_("Compte qui a clos l'entrée")),
    (N_("En retard, à traiter"), N_("Une étape encore à faire après son échéance")),
    (N_("Coordonnées retirées du texte"), N_("Adresse ou téléphone effacés avant stockage")),
    (N_("Réponse demandée (coordonnées laissées)"), N_("Le visiteur a laissé de quoi le joindre")),
    (N_("Texte supprimé (durée de conservation)"), N_("Texte effacé à la fin de sa conservation")),
]


def register_sheet(
    rows: Sequence[Sequence[Any]],
    names: tuple[Mapping[str, str], Mapping[str, str]],
    _: Gettext,
) -> Sheet:
    """The register's lines (`register.export_lines`, site and service as codes in columns 3
    and 4), with the names in their place and the codes last."""
    sites, services = names
    columns = [Column(_(header), _(meaning)) for header, meaning in REGISTER_COLUMNS]
    columns += code_columns(_)
    lines = [
        [*row[:2], *place_names(row[2], row[3], sites, services), *row[4:], row[2], row[3]]
        for row in rows
    ]
    return Sheet(_("Registre"), columns, lines, frozen_columns=1)
