"""The AFNOR evidence pack: one ZIP of what the auditor asks for, for a period (a year, or from
one month to another) and a scope (every certified service, or one).

The parts are data (`PARTS`): each builds its files one after the other, and each file goes
into the archive (a temporary file) as soon as it is built, so a pack is never held whole in
memory. The PDFs are laid out in the app's worker process like every other report. Last comes
`index.html`, which names every file in French (or the reader's language), readable offline.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool

from sync_server import i18n
from sync_server.cycle.internal_audits import Audit
from sync_server.cycle.meetings import Meeting
from sync_server.indicators.periods import InvalidPeriod, Period, add_months, months_between
from sync_server.indicators.periods import parse as parse_period
from sync_server.settings import Settings
from sync_server.storage import (
    Storage,
    User,
    internal_audits,
    meetings,
    referential,
    surveys,
    town,
)
from sync_server.storage.internal_audits import Attachment
from sync_server.web import evidence_sheets
from sync_server.web.audit_report import report_html
from sync_server.web.figures import today
from sync_server.web.labels import N_
from sync_server.web.meeting_preparation import prepare as prepare_meeting
from sync_server.web.meeting_report import report_html as meeting_report_html
from sync_server.web.monthly_pack import generated_at
from sync_server.web.pages.internal_audits import report_context
from sync_server.web.pages.reports import annual_html, monthly_html
from sync_server.web.period_choice import period_label
from sync_server.web.templating import environment

# The longest period a pack covers: a certification cycle is audited year by year.
MAX_MONTHS = 24
FIRST_YEAR = 2000
ATTACHMENT_EXTENSIONS = {"pdf": "pdf", "png": "png", "jpeg": "jpg"}


class PackRefused(ValueError):
    """The period or the scope asked is not one; `message` says why (a French msgid)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class PackScope:
    """The months the pack covers and its services (`service`: the one asked, or None for the
    whole certified scope)."""

    period: Period
    services: tuple[str, ...]
    service: str | None = None

    @property
    def key(self) -> str:
        """'2026', or '2026-01..2026-06' for months."""
        if self.period.kind == "year":
            return self.period.key
        return f"{self.period.start:%Y-%m}..{self.period.last:%Y-%m}"

    @property
    def months(self) -> list[Period]:
        return months_between(self.period.start, self.period.last)

    @property
    def years(self) -> list[int]:
        return list(range(self.period.start.year, self.period.last.year + 1))


def choose_scope(
    year: str | None,
    first: str | None,
    last: str | None,
    service: str | None,
    certified: list[str],
    today: date,
) -> PackScope:
    """The pack asked: a year, or the months from `first` to `last` (YYYY-MM, both included),
    none of them after the current month; one certified service or all. PackRefused if not."""
    if year and (first or last):
        raise PackRefused(N_("Choisissez une année, ou un mois de début et de fin, pas les deux."))
    if year:
        if not year.isdigit() or not FIRST_YEAR <= int(year) <= today.year:
            raise PackRefused(N_("L'année demandée n'est pas une année passée ou en cours."))
        period = parse_period("year", year)
    elif first and last:
        try:
            start, end = parse_period("month", first), parse_period("month", last)
        except InvalidPeriod:
            raise PackRefused(N_("Les mois s'écrivent AAAA-MM, par exemple 2026-03.")) from None
        if end.start < start.start:
            raise PackRefused(N_("Le mois de fin précède le mois de début."))
        if end.start > today or start.start.year < FIRST_YEAR:
            raise PackRefused(N_("La période demandée n'a pas encore commencé."))
        if len(months_between(start.start, end.start)) > MAX_MONTHS:
            raise PackRefused(N_("Un dossier couvre au plus 24 mois."))
        period = Period("campaign", start.start, add_months(end.start, 1))
    else:
        raise PackRefused(N_("Choisissez une année, ou un mois de début et de fin."))
    if service:
        if service not in certified:
            raise PackRefused(N_("Ce service n'est pas dans le périmètre certifié."))
        return PackScope(period, (service,), service)
    return PackScope(period, tuple(certified))


def certified_services(storage: Storage) -> list[str]:
    """The services of the certified scope: a phase and a date of certification."""
    with storage.read() as connection:
        scope = referential.scope(connection)
    return [s.slug for s in scope if s.phase is not None and s.since is not None]


@dataclass(frozen=True)
class PackFile:
    path: str
    what: str  # what the file is, in the reader's language
    content: bytes


@dataclass(frozen=True)
class Listed:
    """A file of the pack as its index names it."""

    part: str
    path: str
    what: str
    size: int


@dataclass
class Pack:
    """What every part reads: the request's storage, the reader, the scope and the PDF builder."""

    storage: Storage
    settings: Settings
    user: User
    language: str
    scope: PackScope
    pdf: Callable[[str], Awaitable[bytes]]
    names: dict[str, str] = field(default_factory=dict)  # service names

    def gettext(self, message: str) -> str:
        return i18n.translations(self.language).gettext(message)

    @property
    def reader(self) -> User:
        """The reports are read as a reader of the scope's services alone: their figures, their
        register, the comments a service manager reads (none held for review)."""
        return replace(self.user, role="service_manager", services=list(self.scope.services))


Builder = Callable[[Pack], AsyncIterator[PackFile]]


@dataclass(frozen=True)
class Part:
    key: str
    title: str  # msgid: the index's heading for this part's files
    build: Builder


# -- the parts ---------------------------------------------------------------------------------


async def annual_reviews(pack: Pack) -> AsyncIterator[PackFile]:
    _ = pack.gettext
    for year in pack.scope.years:
        period = parse_period("year", str(year))
        html = await run_in_threadpool(
            annual_html, pack.storage, pack.settings, pack.reader, period, pack.language
        )
        what = _("Bilan annuel %(year)s : indicateurs, enquêtes, audits, actions") % {"year": year}
        yield PackFile(f"bilan-annuel-{year}.pdf", what, await pack.pdf(html))


async def monthly_packs(pack: Pack) -> AsyncIterator[PackFile]:
    _ = pack.gettext
    on = today(pack.settings)
    for month in pack.scope.months:
        if month.start > on:
            break
        html = await run_in_threadpool(
            monthly_html, pack.storage, pack.settings, pack.reader, month, pack.language
        )
        what = _("Dossier mensuel Qualivilles · %(period)s") % {
            "period": period_label(month, pack.language)
        }
        yield PackFile(f"dossiers-mensuels/dossier-{month.key}.pdf", what, await pack.pdf(html))


async def meeting_minutes(pack: Pack) -> AsyncIterator[PackFile]:
    """Each monthly quality meeting of the period: its preparation for the scope's services,
    its minutes and decisions."""
    _ = pack.gettext
    found = await run_in_threadpool(meetings_of, pack)
    for meeting in found:
        html = await run_in_threadpool(meeting_html_for, pack, meeting)
        what = _("Réunion Qualivilles du %(day)s : préparation, compte rendu, décisions") % {
            "day": meeting.day.isoformat()
        }
        path = f"reunions/reunion-{meeting.day.isoformat()}-{meeting.id}.pdf"
        yield PackFile(path, what, await pack.pdf(html))


def meetings_of(pack: Pack) -> list[Meeting]:
    end = pack.scope.period.last + timedelta(days=1)
    with pack.storage.read() as connection:
        return meetings.meetings_between(connection, pack.scope.period.start, end)


def meeting_html_for(pack: Pack, meeting: Meeting) -> str:
    services = list(pack.scope.services)
    preparation = prepare_meeting(pack.storage, pack.settings, meeting, services)
    return meeting_report_html(pack.storage, pack.settings, preparation, pack.language)


async def register(pack: Pack) -> AsyncIterator[PackFile]:
    _ = pack.gettext
    content = await run_in_threadpool(evidence_sheets.register_workbook, pack)
    what = _("Registre des commentaires et réclamations : dates, délais, retards")
    yield PackFile(f"registre-{pack.scope.key}.xlsx", what, content)


async def audits(pack: Pack) -> AsyncIterator[PackFile]:
    _ = pack.gettext
    found = await run_in_threadpool(scope_audits, pack)
    for audit in found:
        context = await run_in_threadpool(report_context, pack.storage, pack.settings, audit)
        html = report_html(pack.language, context)
        what = _("Rapport d'audit interne n° %(id)s · %(service)s, %(day)s") % {
            "id": audit.id,
            "service": pack.names.get(audit.service, audit.service),
            "day": audit.audit_on.isoformat(),
        }
        folder = f"audits-internes/audit-{audit.id}"
        yield PackFile(f"{folder}/rapport.pdf", what, await pack.pdf(html))
        for finding, attachment in await run_in_threadpool(attachments_of, pack, audit.id):
            stored = await run_in_threadpool(content_of, pack, audit.id, attachment.id)
            if stored is None:
                continue
            kind, content = stored
            what = _("Pièce jointe au constat n° %(finding)s de l'audit n° %(id)s") % {
                "finding": finding,
                "id": audit.id,
            }
            path = f"{folder}/piece-{attachment.id}.{ATTACHMENT_EXTENSIONS.get(kind, 'bin')}"
            yield PackFile(path, what, content)


def scope_audits(pack: Pack) -> list[Audit]:
    """The internal audits of the period for the services of the scope, cancelled ones left
    out."""
    period = pack.scope.period
    with pack.storage.read() as connection:
        return [
            audit
            for year in pack.scope.years
            for audit in internal_audits.of_year(connection, year)
            if period.start <= audit.audit_on < period.end
            and audit.service in pack.scope.services
            and audit.status != "cancelled"
        ]


def attachments_of(pack: Pack, audit_id: int) -> list[tuple[int, Attachment]]:
    """An audit's files, by finding then upload (their content is read one at a time)."""
    with pack.storage.read() as connection:
        found = internal_audits.attachments(connection, audit_id)
    return [(finding, item) for finding, items in sorted(found.items()) for item in items]


def content_of(pack: Pack, audit_id: int, attachment_id: int) -> tuple[str, bytes] | None:
    with pack.storage.read() as connection:
        return internal_audits.attachment_content(connection, audit_id, attachment_id)


async def action_plan(pack: Pack) -> AsyncIterator[PackFile]:
    _ = pack.gettext
    content = await run_in_threadpool(evidence_sheets.plan_workbook, pack)
    what = _("Plan d'actions d'amélioration : origine, pilote, échéance, statut et dates")
    yield PackFile(f"plan-actions-{pack.scope.key}.xlsx", what, content)


async def mystery(pack: Pack) -> AsyncIterator[PackFile]:
    _ = pack.gettext
    content = await run_in_threadpool(evidence_sheets.mystery_workbook, pack)
    what = _("Visites et appels mystère : évaluations, scores et réponses critère par critère")
    yield PackFile(f"evaluations-mystere-{pack.scope.key}.xlsx", what, content)


async def survey_definitions(pack: Pack) -> AsyncIterator[PackFile]:
    _ = pack.gettext
    found = await run_in_threadpool(used_surveys, pack)
    for (survey_id, version), text in found:
        what = _("Questionnaire %(id)s, version %(version)s, tel qu'enregistré (JSON)") % {
            "id": survey_id,
            "version": version,
        }
        yield PackFile(f"questionnaires/{survey_id}-v{version}.json", what, text.encode("utf-8"))


def used_surveys(pack: Pack) -> list[tuple[tuple[str, int], str]]:
    """The survey versions answered in the period at the scope's desks, and the current one."""
    period = pack.scope.period
    with pack.storage.read() as connection:
        keys = set(surveys.answered(connection, period.start, period.last, pack.scope.services))
        current = surveys.current_key(connection)
        if current is not None:
            keys.add(current)
        found = [(key, surveys.stored_text(connection, *key)) for key in sorted(keys)]
    return [(key, text) for key, text in found if text is not None]


async def audit_trail(pack: Pack) -> AsyncIterator[PackFile]:
    _ = pack.gettext
    content = await run_in_threadpool(evidence_sheets.trail_csv, pack)
    what = _("Journal d'audit des modifications de la période (CSV)")
    yield PackFile(f"journal-audit-{pack.scope.key}.csv", what, content)


PARTS: tuple[Part, ...] = (
    Part("annual_review", N_("Bilans annuels"), annual_reviews),
    Part("monthly_packs", N_("Dossiers mensuels Qualivilles"), monthly_packs),
    Part("meeting_minutes", N_("Réunions Qualivilles mensuelles"), meeting_minutes),
    Part("register", N_("Registre des commentaires et réclamations"), register),
    Part("internal_audits", N_("Audits internes et pièces jointes"), audits),
    Part("action_plan", N_("Plan d'actions d'amélioration"), action_plan),
    Part("mystery", N_("Visites et appels mystère"), mystery),
    Part("surveys", N_("Questionnaires utilisés"), survey_definitions),
    Part("audit_trail", N_("Journal d'audit"), audit_trail),
)


# -- assembly ----------------------------------------------------------------------------------


class _Spool(io.RawIOBase):
    """Where the ZIP writer puts its bytes until they are sent: not seekable, so `zipfile`
    writes each member's sizes after its data, and nothing needs to be read back."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._pending += data
        return len(data)

    def take(self) -> bytes:
        taken = bytes(self._pending)
        self._pending.clear()
        return taken


async def stream_pack(
    pack: Pack,
    parts: tuple[Part, ...] = PARTS,
    before_last: Callable[[list[Listed]], Awaitable[None]] | None = None,
) -> AsyncIterator[bytes]:
    """The pack as a ZIP, piece by piece as each file is built: a year's pack takes a minute to
    lay out, and a proxy waiting that long for a first byte would give up. `before_last` is
    awaited with the files listed before the ZIP's directory, its last piece, is sent (the file
    is unusable without it)."""
    with pack.storage.read() as connection:
        pack.names = {d.service.slug: d.service.name for d in town.desks(connection)}
    listed: list[Listed] = []
    spool = _Spool()
    archive = zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED)
    for part in parts:
        async for item in part.build(pack):
            await run_in_threadpool(archive.writestr, item.path, item.content)
            listed.append(Listed(part.key, item.path, item.what, len(item.content)))
            yield spool.take()
    index = await run_in_threadpool(index_html, pack, listed, parts)
    archive.writestr("index.html", index)
    yield spool.take()
    if before_last is not None:
        await before_last(listed)
    archive.close()
    yield spool.take()


def index_html(pack: Pack, listed: list[Listed], parts: tuple[Part, ...] = PARTS) -> str:
    """The pack's first page: the period, the scope, and every file with what it is."""
    with pack.storage.read() as connection:
        town_name = town.town_name(connection) or ""
    sections = [(part, [item for item in listed if item.part == part.key]) for part in parts]
    context = {
        "town": town_name,
        "period": pack_period_label(pack.scope, pack.language),
        "service": pack.names.get(pack.scope.service, "") if pack.scope.service else None,
        "services": [pack.names.get(s, s) for s in pack.scope.services],
        "generated": generated_at(pack.settings, datetime.now(UTC)),
        "by": pack.user.username,
        "sections": sections,
    }
    return environment(pack.language).get_template("evidence_index.html").render(**context)


def pack_period_label(scope: PackScope, language: str) -> str:
    if scope.period.kind == "year":
        return period_label(scope.period, language)
    first, last = scope.months[0], scope.months[-1]
    return f"{period_label(first, language)} – {period_label(last, language)}"


def file_stem(scope: PackScope, service_word: str) -> str:
    """The pack's name without extension: 'preuves-afnor-2026-iris', '…-2026-01..2026-06'."""
    return "-".join(["preuves-afnor", scope.key, scope.service or service_word])
