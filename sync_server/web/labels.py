"""Names shown for indicators, register categories and statuses, through the catalogues.

`gettext_noop`-style: the French text is the msgid; pages translate it with `_()` at render time.
"""

from __future__ import annotations

import re

from sync_server.comments.triage import NAME_AFTER_TITLE


def N_(text: str) -> str:
    return text


INDICATOR_NAMES = {
    "satisfaction_rate": N_("Satisfaction globale"),
    "question_rate": N_("Satisfaction par question"),
    "net_satisfaction": N_("Satisfaction nette"),
    "score": N_("Note sur 10"),
    "good_score_share": N_("Part des notes ≥ 8"),
    "participation_rate": N_("Taux de participation"),
    "mean_wait_minutes": N_("Attente moyenne"),
    "median_wait_minutes": N_("Attente médiane"),
    "within_threshold_rate": N_("Reçus dans le délai d'engagement"),
    "p90_wait_minutes": N_("Attente au 90e centile"),
    "walk_out_rate": N_("Partis sans être reçus"),
    "acknowledged_on_time": N_("Accusés de réception sous 7 jours"),
    "answered_on_time": N_("Réponses sous 15 jours ouvrés"),
    "answers": N_("Réponses"),
    "margin_of_error": N_("Marge d'erreur"),
    "expressed_answers": N_("Avis exprimés"),
    "visits": N_("Passages enregistrés par les agents"),
    "unknown_outcomes": N_("Issue inconnue (encore en attente à la fermeture)"),
    "max_wait_minutes": N_("Attente la plus longue"),
    "wait_threshold_minutes": N_("Délai d'attente du service"),
    "satisfaction_rate_wait_0_5": N_("Satisfaction après moins de 5 min d'attente"),
    "satisfaction_rate_wait_5_10": N_("Satisfaction après 5 à 10 min d'attente"),
    "satisfaction_rate_wait_10_20": N_("Satisfaction après 10 à 20 min d'attente"),
    "satisfaction_rate_wait_20_plus": N_("Satisfaction après 20 min d'attente et plus"),
}
# What a figure's N counts (`indicators.catalogue`), in words.
COUNTED_NAMES = {
    "answers": N_("réponses, « sans avis » compris"),
    "expressed_answers": N_("avis exprimés, « sans avis » exclus"),
    "visits": N_("passages enregistrés par les agents"),
    "served_waits": N_("passages servis, attente mesurée"),
    "known_outcomes": N_("passages servis ou partis sans être reçus"),
    "linked_answers": N_("avis exprimés liés à une attente mesurée"),
    "visitors": N_("visiteurs enregistrés par les agents"),
    "decided_entries": N_("commentaires arrivés à échéance"),
}
UNIT_NAMES = {"%": "%", "pts": N_("pts"), "/10": "/10", "min": N_("min"), "count": N_("nombre")}
QUESTION_NAMES = {
    "overall": N_("Satisfaction globale"),
    "welcome": N_("Accueil"),
    "waiting": N_("Temps d'attente"),
    "clarity": N_("Clarté des réponses"),
    "premises": N_("Locaux"),
}
CHOICE_NAMES = {
    "very_dissatisfied": N_("Très insatisfait"),
    "dissatisfied": N_("Insatisfait"),
    "satisfied": N_("Satisfait"),
    "very_satisfied": N_("Très satisfait"),
    "no_opinion": N_("Sans avis"),
}
CATEGORIES = {
    "none": N_("Non classé"),
    "compliment": N_("Remerciement"),
    "complaint": N_("Réclamation"),
    "suggestion": N_("Suggestion"),
    "waiting": N_("Attente"),
    "welcome": N_("Accueil"),
    "premises": N_("Locaux"),
    "other": N_("Autre"),
}
STATUSES = {
    "new": N_("Nouveau"),
    "acknowledged": N_("Accusé de réception"),
    "answered": N_("Répondu"),
    "closed": N_("Clos"),
}
# The register's filter on deadlines (`?overdue=`).
DEADLINE_FILTERS = {
    "open": N_("En retard, à traiter"),
    "late": N_("Hors délai, traitées ou non"),
    "on_time": N_("Dans les délais"),
}
DEADLINE_OUTCOMES = {
    "on_time": N_("dans le délai"),
    "late": N_("hors délai"),
    "pending": N_("en cours"),
}
# Why triage flagged a comment (`sync_server.comments.triage`), in the order shown.
TRIAGE_REASONS = {
    "urgent": N_("Urgent"),
    "insult": N_("Insulte ou grossièreté"),
    "names_person": N_("Nomme une personne"),
}
# The register's filter on flagged comments (`?flagged=`).
FLAG_FILTERS = {
    "pending": N_("Signalés, à relire"),
    "flagged": N_("Tous les signalés"),
}
# The quality manager's decisions on a flagged comment.
REVIEWS = {
    "released": N_("Communiqué aux responsables de service"),
    "kept_hidden": N_("Gardé caché"),
}
ROLES = {
    "quality_manager": N_("Responsable qualité"),
    "service_manager": N_("Responsable de service"),
    "admin": N_("Administrateur"),
    "internal_auditor": N_("Auditeur·rice interne"),
}

_LONG_NUMBER = re.compile(r"\d[\d .-]{5,}\d")
MASK = "▒▒▒"


def mask_personal(text: str) -> str:
    """Names after a civility and long numbers (file, card, phone numbers) hidden by default.

    E-mail addresses and phone numbers were already removed before storage (`scrub`); this is
    the second guard for what a person reads on screen."""
    text = NAME_AFTER_TITLE.sub(lambda m: f"{m.group(1)} {MASK}", text)
    return _LONG_NUMBER.sub(MASK, text)
