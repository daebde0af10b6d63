"""The evidence pack's spreadsheets and trail: the register (the export's own sheet), the action
plan, the mystery evaluations, and the audit trail of the period as CSV, each for the pack's
period and services."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sync_server.cycle.mystery import score
from sync_server.storage import audit, exports, mystery, plan
from sync_server.storage.models import PlanAction
from sync_server.web import export_words, plan_labels, record_sheets, tables
from sync_server.web.audit_text import Wording, line
from sync_server.web.pages.audit import CSV_HEADERS, csv_row
from sync_server.web.pages.register import Filters, export_lines, register_lines
from sync_server.web.pages.review import indicator_name
from sync_server.web.tables import Column, Sheet

if TYPE_CHECKING:
    from sync_server.web.evidence_pack import Pack

MYSTERY_CHANNELS = plan_labels.CHANNELS


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A stored moment as a spreadsheet's date cell holds it: local, without its zone."""
    return None if moment is None else moment.astimezone(zone).replace(tzinfo=None)


def register_workbook(pack: Pack) -> bytes:
    """The register's entries received in the period at the scope's desks, oldest first, as
    the register's own export writes them (dates, delays, who did each step, never the text)."""
    _ = pack.gettext
    period = pack.scope.period
    filters = Filters(first=period.start, last=period.last)
    lines = register_lines(pack.storage, pack.settings, pack.reader, filters, unmask=False)
    lines.sort(key=lambda item: (item.entry.received_at, item.entry.id))
    with pack.storage.read() as connection:
        names = exports.place_names(connection)
    sheet = record_sheets.register_sheet(export_lines(lines, _), names, _)
    sheets = [sheet, export_words.dictionary([sheet], _)]
    return tables.to_workbook(sheets, tables.writing(pack.language))


def in_period(action: PlanAction, pack: Pack) -> bool:
    """An action of the period: proposed before its end, and not closed before its start."""
    zone = ZoneInfo(pack.settings.timezone)
    period = pack.scope.period
    if action.created_at.astimezone(zone).date() >= period.end:
        return False
    closed = action.status in ("done", "abandoned")
    return not closed or action.updated_at.astimezone(zone).date() >= period.start


def plan_workbook(pack: Pack) -> bytes:
    _ = pack.gettext
    zone = ZoneInfo(pack.settings.timezone)
    with pack.storage.read() as connection:
        found = plan.actions(connection, plan.Filter(services=list(pack.scope.services)))
    headers = [
        (_("N°"), _("Numéro de l'action")),
        (_("Action"), _("Ce qui est fait")),
        (_("Origine"), _("D'où vient l'action")),
        (_("Statut"), _("Proposée, validée, en cours, réalisée ou abandonnée")),
        (_("Services"), _("Services concernés")),
        (_("Site"), _("Le guichet visé, s'il n'y en a qu'un")),
        (_("Engagement"), _("Code de l'engagement du référentiel")),
        (_("Indicateur"), _("L'indicateur dont l'effet est mesuré")),
        (_("Pilote"), _("Qui porte l'action")),
        (_("Échéance"), _("Date prévue")),
        (_("Proposée le"), _("Heure de la ville")),
        (_("Proposée par"), _("Compte")),
        (_("Validée le"), _("Heure de la ville")),
        (_("Validée par"), _("Compte")),
        (_("Réalisée le"), _("Heure de la ville")),
    ]
    rows = [
        [
            a.id, a.title, _(plan_labels.ORIGINS.get(a.origin, a.origin)),
            _(plan_labels.PLAN_STATUSES.get(a.status, a.status)),
            ", ".join(pack.names.get(s, s) for s in a.services), a.site, a.engagement,
            _(indicator_name(a.indicator)) if a.indicator else None, a.owner, a.due_on,
            _local(a.created_at, zone), a.created_by, _local(a.validated_at, zone),
            a.validated_by, _local(a.done_at, zone),
        ]
        for a in sorted(found, key=lambda a: a.id)
        if in_period(a, pack)
    ]  # fmt: skip
    sheet = Sheet(_("Plan d'actions"), [Column(h, m) for h, m in headers], rows, frozen_columns=1)
    return tables.to_workbook(
        [sheet, export_words.dictionary([sheet], _)], tables.writing(pack.language)
    )


def mystery_workbook(pack: Pack) -> bytes:
    _ = pack.gettext
    period = pack.scope.period
    with pack.storage.read() as connection:
        found = mystery.evaluations(
            connection, first=period.start, last=period.last, services=list(pack.scope.services)
        )
        sites = exports.place_names(connection)[0]
    rows = [
        [e.id, e.visited_on, pack.names.get(e.service, e.service), sites.get(e.site, e.site),
         _(MYSTERY_CHANNELS.get(e.channel, e.channel)), e.evaluator, _rounded(score(e.answers)),
         e.comment]
        for e in found
    ]  # fmt: skip
    columns = [
        Column(_("N°"), _("Numéro de l'évaluation")),
        Column(_("Date"), _("Jour de la visite ou de l'appel")),
        Column(_("Service")),
        Column(_("Site")),
        Column(_("Canal"), _("Accueil physique, téléphone…")),
        Column(_("Évaluateur")),
        Column(_("Score (%)"), _("Moyenne des critères évalués, pondérée par leur poids")),
        Column(_("Commentaire")),
    ]
    evaluations = Sheet(_("Évaluations"), columns, rows, frozen_columns=1)
    answers = Sheet(
        _("Réponses"),
        [
            Column(_("N° de l'évaluation")),
            Column(_("Engagement")),
            Column(_("Critère"), _("Le critère tel qu'il était le jour de l'évaluation")),
            Column(_("Réponse"), _("Oui = 1, non = 0 ; sur une échelle, de 1 à son maximum")),
            Column(_("Maximum")),
            Column(_("Poids")),
        ],
        [
            [e.id, criterion.engagement, criterion.label, value, criterion.top, criterion.weight]
            for e in found
            for criterion, value in e.answers
        ],
        frozen_columns=1,
    )
    sheets = [evaluations, answers]
    return tables.to_workbook(
        [*sheets, export_words.dictionary(sheets, _)], tables.writing(pack.language)
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def named_services(details: Mapping[str, Any]) -> set[str]:
    """The services an event's details name ("service", "services", or their before/after)."""
    found: set[str] = set()

    def take(value: Any) -> None:
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, list | tuple):
            found.update(v for v in value if isinstance(v, str))
        elif isinstance(value, Mapping):
            for side in ("before", "after"):
                take(value.get(side))

    for key in ("service", "services"):
        take(details.get(key))
    return found


def in_scope(events: Iterable[audit.AuditEvent], services: Sequence[str]) -> list[audit.AuditEvent]:
    """The events naming no service, or one of `services`: another service's are left out."""
    return [e for e in events if not (named := named_services(e.details)) or named & set(services)]


def trail_csv(pack: Pack) -> bytes:
    """The audit trail of the period (oldest first), as the audit page's CSV export."""
    zone = ZoneInfo(pack.settings.timezone)
    start, end = pack.scope.period.bounds(zone)
    with pack.storage.read() as connection:
        found = audit.events(connection, audit.Filter(start=start, end=end), limit=1_000_000)
    words = Wording.of(pack.language, pack.names, zone)
    lines = [line(e, words) for e in reversed(in_scope(found, pack.scope.services))]
    return tables.to_csv(
        [words.gettext(header) for header in CSV_HEADERS],
        [csv_row(item) for item in lines],
        delimiter=";" if pack.language == "fr" else ",",
    )
