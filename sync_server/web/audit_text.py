"""The audit trail's events as people read them: who, what, on what, with which details, in the
page language. Shared by the audit page, its CSV export and the overview's notices. Pure.

Every action code of `storage.audit.ACTIONS` has a French name here (`ACTION_NAMES`), translated
through the catalogues like every other page text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal

from sync_server import i18n
from sync_server.storage.audit import VISITOR, Actor, AuditEvent
from sync_server.web import audit_labels, dates, labels, plan_labels
from sync_server.web.labels import N_

Gettext = Callable[[str], str]

KIND_NAMES = {
    "accounts": N_("Comptes"),
    "sessions": N_("Connexions"),
    "surveys": N_("Questionnaires"),
    "targets": N_("Objectifs"),
    "register": N_("Registre des commentaires"),
    "triage": N_("Tri des commentaires"),
    "actions": N_("Actions d'amélioration"),
    "referential": N_("Référentiel et périmètre certifié"),
    "internal_audits": N_("Audits internes"),
    "mystery": N_("Évaluations mystères"),
    "meetings": N_("Réunions Qualivilles"),
    "downloads": N_("Exports et rapports"),
    "tokens": N_("Jetons d'API"),
    "devices": N_("Appareils"),
    "town": N_("Configuration de la ville"),
    "notices": N_("Avis aux responsables qualité"),
    "retention": N_("Durées de conservation"),
}
ACTION_NAMES = {
    "account.created": N_("Compte créé"),
    "account.access_changed": N_("Rôle ou services modifiés"),
    "account.password_reset": N_("Mot de passe réinitialisé"),
    "account.disabled": N_("Compte désactivé"),
    "account.enabled": N_("Compte réactivé"),
    "account.password_changed": N_("Mot de passe changé par son titulaire"),
    "session.signed_in": N_("Connexion au tableau de bord"),
    "session.signed_out": N_("Déconnexion du tableau de bord"),
    "session.locked_out": N_("Connexion bloquée après trop d'échecs"),
    "session.unlocked": N_("Connexion débloquée par un administrateur"),
    "survey.published": N_("Questionnaire publié"),
    "survey.put_in_use": N_("Questionnaire mis en cours"),
    "target.set": N_("Objectif modifié"),
    "register.categorised": N_("Commentaire classé"),
    "register.acknowledged": N_("Accusé de réception d'un commentaire"),
    "register.answered": N_("Réponse à un commentaire"),
    "register.closed": N_("Commentaire clos"),
    "register.contact_left": N_("Coordonnées laissées par le visiteur pour une réponse"),
    "register.contact_erased": N_("Coordonnées du visiteur effacées"),
    "triage.released": N_("Commentaire signalé communiqué aux responsables de service"),
    "triage.kept_hidden": N_("Commentaire signalé gardé caché"),
    "triage.names_changed": N_("Noms des agents d'un service modifiés"),
    "action.recorded": N_("Action d'amélioration enregistrée"),
    "action.proposed": N_("Action d'amélioration proposée"),
    "action.edited": N_("Action d'amélioration modifiée"),
    "action.validated": N_("Action d'amélioration validée"),
    "action.status_changed": N_("Statut d'une action d'amélioration changé"),
    "referential.engagement_saved": N_("Engagement du référentiel enregistré"),
    "referential.scope_changed": N_("Périmètre certifié d'un service modifié"),
    "referential.indicator_tied": N_("Indicateur rattaché à un engagement"),
    "internal_audit.planned": N_("Audit interne planifié"),
    "internal_audit.status_changed": N_("Statut d'un audit interne changé"),
    "internal_audit.finding_recorded": N_("Constat d'audit interne enregistré"),
    "mystery.recorded": N_("Évaluation mystère enregistrée"),
    "mystery.criterion_saved": N_("Critère de la grille d'évaluation mystère enregistré"),
    "meeting.planned": N_("Réunion Qualivilles planifiée"),
    "meeting.minutes_saved": N_("Compte rendu de réunion Qualivilles enregistré"),
    "meeting.decision_recorded": N_("Décision de réunion Qualivilles enregistrée"),
    "meeting.closed": N_("Compte rendu de réunion Qualivilles clos"),
    "export.downloaded": N_("Export téléchargé"),
    "report.downloaded": N_("Rapport PDF téléchargé"),
    "audit.exported": N_("Journal d'audit exporté"),
    "token.created": N_("Jeton d'API créé"),
    "token.revoked": N_("Jeton d'API révoqué"),
    "device.code_issued": N_("Code d'enrôlement d'un appareil créé"),
    "device.enrolled": N_("Appareil enrôlé"),
    "device.revoked": N_("Appareil révoqué"),
    "town.loaded": N_("Configuration de la ville chargée"),
    "notice.acknowledged": N_("Avis de nouveau responsable qualité lu"),
    "data.purged": N_("Textes libres supprimés au terme de leur conservation"),
}
DETAIL_NAMES = {  # in the order they are shown
    "role": N_("Rôle"),
    "services": N_("Services"),
    "generated": N_("Mot de passe généré"),
    "current": N_("Questionnaire en cours"),
    "indicator": N_("Indicateur"),
    "service": N_("Service"),
    "site": N_("Site"),
    "period": N_("Période"),
    "year": N_("Année"),
    "plan_status": N_("Statut de l'action"),
    "audit": N_("Audit interne n°"),
    "day": N_("Date"),
    "auditors": N_("Auditeurs"),
    "audit_status": N_("Statut de l'audit"),
    "verdict": N_("Constat"),
    "attachment": N_("Pièce jointe"),
    "origin": N_("Origine"),
    "engagement": N_("Engagement"),
    "owner": N_("Pilote"),
    "due": N_("Échéance"),
    "retitled": N_("Intitulé modifié"),
    "title": N_("Intitulé"),
    "channel": N_("Canal"),
    "visited_on": N_("Date de la visite ou de l'appel"),
    "score": N_("Score de l'évaluation"),
    "criterion": N_("Critère"),
    "weight": N_("Poids"),
    "retired": N_("Retiré de la grille"),
    "all_services": N_("Tous les services certifiés"),
    "phase": N_("Phase"),
    "since": N_("Certifié depuis"),
    "engagements": N_("Engagements applicables"),
    "valid_from": N_("À partir du"),
    "value": N_("Objectif"),
    "status": N_("Statut"),
    "category": N_("Catégorie"),
    "reasons": N_("Motifs du signalement"),
    "decision": N_("Décision"),
    "names": N_("Noms d'agents listés"),
    "token_id": N_("Avec le jeton d'API n°"),
    "label": N_("Nom du jeton"),
    "mode": N_("Type d'appareil"),
    "name": N_("Nom de l'appareil"),
    "desks": N_("Guichets"),
    "failures": N_("Échecs récents"),
    "kind": N_("Type d'action"),
    "person": N_("Personne"),
    "overdue": N_("Délais"),
    "phone": N_("Téléphone laissé"),
    "email": N_("E-mail laissé"),
    "from": N_("Du"),
    "to": N_("Au"),
    "suspect": N_("Réponses suspectes incluses"),
    "rows": N_("Lignes"),
    "comments": N_("Commentaires vidés"),
    "replies": N_("Réponses vidées"),
    "records": N_("Enregistrements allégés"),
    "quarantined": N_("Enregistrements en quarantaine allégés"),
    "heartbeats": N_("Signaux de vie supprimés"),
    "sessions": N_("Sessions expirées supprimées"),
    "login_failures": N_("Échecs de connexion supprimés"),
    "contacts": N_("Coordonnées de visiteurs supprimées"),
    "meeting": N_("Réunion n°"),
    "planned_on": N_("Date prévue"),
    "held_on": N_("Date de la réunion"),
    "attendees_changed": N_("Participants modifiés"),
    "notes_changed": N_("Notes modifiées"),
    "opened_action": N_("Action ouverte n°"),
}
DOWNLOAD_NAMES = {
    "answers": N_("Réponses brutes"),
    "visits": N_("Passages"),
    "indicators": N_("Indicateurs"),
    "monthly": N_("Dossier mensuel"),
    "annual": N_("Bilan annuel"),
    "poster": N_("Affiche des résultats"),
    "audit": N_("Journal d'audit"),
    "register": N_("Registre des commentaires"),
    "internal_audit": N_("Rapport d'audit interne"),
    "meeting": N_("Préparation de réunion Qualivilles"),
    "evidence_pack": N_("Dossier de preuves AFNOR"),
}
MODES = {"kiosk": N_("Borne"), "tablet": N_("Tablette d'agent")}
ROLES = {**labels.ROLES, "admin": N_("Administrateur·rice")}


@dataclass(frozen=True)
class EventLine:
    """One event as a line of the page or the CSV file."""

    id: int
    at: datetime  # UTC
    local: datetime  # in the town's time zone
    person: str
    person_detail: str
    action: str
    code: str
    object: str
    details: tuple[str, ...]


@dataclass(frozen=True)
class Wording:
    """What naming an event needs: the page language's gettext and number format, the town's
    service names and time zone."""

    gettext: Gettext
    language: str
    services: Mapping[str, str]
    zone: ZoneInfo

    @classmethod
    def of(cls, language: str, services: Mapping[str, str], zone: ZoneInfo) -> Wording:
        return cls(i18n.translations(language).gettext, language, services, zone)


def line(event: AuditEvent, wording: Wording) -> EventLine:
    _ = wording.gettext
    person, person_detail = actor_text(event.actor, wording)
    # French typography puts a (no-break) space before a colon.
    colon = "\u00a0: " if wording.language == "fr" else ": "
    return EventLine(
        id=event.id,
        at=event.at,
        local=dates.in_town(event.at, wording.zone),
        person=person,
        person_detail=person_detail,
        action=_(ACTION_NAMES.get(event.action, event.action)),
        code=event.action,
        object=object_text(event, wording),
        details=tuple(
            f"{_(DETAIL_NAMES.get(key, key))}{colon}{detail_text(key, value, wording)}"
            for key, value in sorted(event.details.items(), key=_detail_order)
            if value != []
        ),
    )


_ORDER = {key: index for index, key in enumerate(DETAIL_NAMES)}


def _detail_order(item: tuple[str, Any]) -> tuple[int, str]:
    """Details in the order of `DETAIL_NAMES` (what was changed first), unknown keys last."""
    return _ORDER.get(item[0], len(_ORDER)), item[0]


def actor_text(actor: Actor, wording: Wording) -> tuple[str, str]:
    """Who acted, and what they were: the role at the time, the system account of a command."""
    _ = wording.gettext
    if actor.kind == "user":
        return actor.name, _(ROLES[actor.role]) if actor.role in ROLES else (actor.role or "")
    if actor.kind == "cli":
        return _("Ligne de commande"), _("compte système %(name)s") % {"name": actor.name}
    if actor.kind == "device":
        return _("Appareil"), actor.name
    if actor == VISITOR:
        return _("Visiteur (questionnaire sur téléphone)"), ""
    return _("Serveur"), ""


def object_text(event: AuditEvent, wording: Wording) -> str:
    _ = wording.gettext
    subject = event.object or ""
    if not subject:
        return ""
    if event.kind == "register" or event.action in ("triage.released", "triage.kept_hidden"):
        return _("commentaire n° %(id)s") % {"id": subject}
    if event.action == "triage.names_changed":
        return wording.services.get(subject, subject)
    if event.kind == "actions":
        return _("action n° %(id)s") % {"id": subject}
    if event.action == "internal_audit.finding_recorded":
        return _("constat n° %(id)s") % {"id": subject}
    if event.kind == "internal_audits":
        return _("audit interne n° %(id)s") % {"id": subject}
    if event.kind == "meetings" and event.action != "meeting.decision_recorded":
        return _("réunion n° %(id)s") % {"id": subject}
    if event.action == "meeting.decision_recorded":
        return _("décision n° %(id)s") % {"id": subject}
    if event.kind == "tokens":
        return _("jeton n° %(id)s") % {"id": subject}
    if event.kind == "targets" or event.action == "referential.indicator_tied":
        return indicator_text(subject, wording)
    if event.action == "referential.scope_changed":
        return wording.services.get(subject, subject)
    if event.kind == "downloads":
        name, _dot, fmt = subject.partition(".")
        named = _(DOWNLOAD_NAMES[name]) if name in DOWNLOAD_NAMES else name
        return f"{named} ({fmt.upper()})" if fmt else named
    if event.kind == "notices":
        return _("avis jusqu'à l'événement n° %(id)s") % {"id": subject}
    return subject


def indicator_text(key: str, wording: Wording) -> str:
    if key.startswith("question:"):
        name = labels.QUESTION_NAMES.get(key.split(":", 1)[1])
    else:
        name = labels.INDICATOR_NAMES.get(key)
    return wording.gettext(name) if name else key


def detail_text(key: str, value: Any, wording: Wording) -> str:
    """A detail's value, or "before → after" for a change."""
    if isinstance(value, Mapping) and set(value) == {"before", "after"}:
        before = _value(key, value["before"], wording)
        return f"{before} → {_value(key, value['after'], wording)}"
    return _value(key, value, wording)


def _value(key: str, value: Any, wording: Wording) -> str:
    _ = wording.gettext
    if key in ("service", "services") and value is None:
        return _("Tous les services")
    if key == "site" and value is None:
        return _("Tous les sites")
    if key == "category" and value is None:
        return _(labels.CATEGORIES["none"])
    if value is None or value == []:
        return "—"
    if isinstance(value, bool):
        return _("oui") if value else _("non")
    if isinstance(value, list):
        return ", ".join(_value(key, item, wording) for item in value)
    if isinstance(value, float):
        return format_decimal(value, locale=i18n.BABEL_LOCALES[wording.language])
    names: Mapping[str, str] | None = {
        "role": ROLES,
        "status": labels.STATUSES,
        "category": labels.CATEGORIES,
        "mode": MODES,
        "kind": KIND_NAMES,
        "overdue": labels.DEADLINE_FILTERS,
        "reasons": labels.TRIAGE_REASONS,
        "decision": labels.REVIEWS,
        "plan_status": plan_labels.PLAN_STATUSES,
        "origin": plan_labels.ORIGINS,
        "channel": plan_labels.CHANNELS,
        "audit_status": audit_labels.AUDIT_STATUSES,
        "verdict": audit_labels.VERDICTS,
    }.get(key)
    text = str(value)
    if names is not None:
        return _(names[text]) if text in names else text
    if key in ("service", "services"):
        return wording.services.get(text, text)
    if key == "indicator":
        return indicator_text(text, wording)
    return text
