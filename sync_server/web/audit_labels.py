"""Names shown for the internal audits' statuses and findings' verdicts, through the catalogues
(French msgids, translated at render time)."""

from __future__ import annotations

from sync_server.web.labels import N_

AUDIT_STATUSES = {
    "planned": N_("Planifié"),
    "done": N_("Réalisé"),
    "report_issued": N_("Rapport remis"),
    "cancelled": N_("Annulé"),
}
# The button that moves an audit to each status.
AUDIT_STEPS = {
    "done": N_("Marquer réalisé"),
    "report_issued": N_("Rapport remis"),
    "cancelled": N_("Annuler l'audit"),
}
VERDICTS = {
    "conformity": N_("Conformité"),
    "non_conformity": N_("Non-conformité"),
    "observation": N_("Observation"),
    "strong_point": N_("Point fort"),
}
# The title of the improvement action a non-conformity opens.
ACTION_TITLE = N_("Non-conformité de l'audit interne n° %(audit)s, engagement %(engagement)s")
