"""Names shown for the improvement plan's statuses and origins and the referential's channels,
through the catalogues (French msgids, translated at render time)."""

from __future__ import annotations

from sync_server.web.labels import N_

PLAN_STATUSES = {
    "proposed": N_("Proposée"),
    "validated": N_("Validée"),
    "in_progress": N_("En cours"),
    "done": N_("Réalisée"),
    "abandoned": N_("Abandonnée"),
}
# The button that moves an action to each status.
STATUS_STEPS = {
    "validated": N_("Valider"),
    "in_progress": N_("Démarrer"),
    "done": N_("Marquer réalisée"),
    "abandoned": N_("Abandonner"),
}
ORIGINS = {
    "indicator_miss": N_("Indicateur sous l'objectif"),
    "complaint": N_("Réclamation"),
    "alert": N_("Alerte"),
    "internal_audit": N_("Constat d'audit interne"),
    "afnor_audit": N_("Constat de l'audit AFNOR"),
    "meeting": N_("Décision de réunion Qualivilles"),
    "staff_suggestion": N_("Suggestion d'un agent"),
}
CHANNELS = {
    "reception": N_("Accueil physique"),
    "phone": N_("Téléphone"),
    "mail": N_("Courrier et e-mail"),
    "complaints": N_("Réclamations et suggestions"),
    "information": N_("Information"),
}
