"""The audit trail for administrators and quality managers: every recorded event, newest first,
filtered by period, kind of action and person, fifty to a page, and the same as a CSV file.
Also where a quality manager acknowledges the overview's notices of new quality managers.

Reading the trail is itself no event; exporting it is (`audit.exported`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from sync_server.api.deps import SettingsDep, StorageDep
from sync_server.settings import Settings
from sync_server.storage import Connection, audit, town
from sync_server.web import tables
from sync_server.web.access import AuditReader, NoticeForm, nav_context
from sync_server.web.audit_text import KIND_NAMES, EventLine, Wording, line
from sync_server.web.labels import N_
from sync_server.web.templating import page_language, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
MAX_CSV_ROWS = 100_000
CSV_HEADERS = [N_("N°"), N_("Date (UTC)"), N_("Date (heure locale)"), N_("Personne"),
               N_("Rôle ou compte"), N_("Action"), N_("Code de l'action"), N_("Objet"),
               N_("Détails")]  # fmt: skip


@dataclass(frozen=True)
class Asked:
    """The filters as asked in the address, checked: dates in the town's time zone, inclusive."""

    first: date | None
    last: date | None
    kind: str | None
    person: str | None
    bad_date: bool

    def chosen(self, zone: ZoneInfo) -> audit.Filter:
        def start_of(day: date | None) -> datetime | None:
            return None if day is None else datetime.combine(day, time.min, tzinfo=zone)

        return audit.Filter(
            start=start_of(self.first),
            end=start_of(self.last + timedelta(days=1) if self.last else None),
            kind=self.kind,
            actor=self.person,
        )

    def query(self, **extra: object) -> str:
        values = {
            "from": self.first.isoformat() if self.first else None,
            "to": self.last.isoformat() if self.last else None,
            "kind": self.kind,
            "person": self.person,
            **extra,
        }
        return urlencode({k: v for k, v in values.items() if v is not None})

    def details(self) -> dict[str, object]:
        """The filters as the `audit.exported` event keeps them."""
        values = {
            "from": self.first.isoformat() if self.first else None,
            "to": self.last.isoformat() if self.last else None,
            "kind": self.kind,
            "person": self.person,
        }
        return {k: v for k, v in values.items() if v is not None}


# Dates a filter may name: the trail starts with the software, and a day near the calendar's
# ends cannot be turned into UTC.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


def _day(text: str | None) -> tuple[date | None, bool]:
    """The date, and whether the text was one that could not be read."""
    if not text:
        return None, False
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None, True
    return (day, False) if FIRST_DAY <= day <= LAST_DAY else (None, True)


def _page_number(text: str | None) -> int:
    """The page asked, from 1; anything else is the first page."""
    return int(text) if text and text.isdigit() and len(text) < 10 else 1


def asked(
    first: Annotated[str | None, Query(alias="from")] = None,
    last: Annotated[str | None, Query(alias="to")] = None,
    kind: str | None = None,
    person: str | None = None,
) -> Asked:
    """The filters as the address asks for them: the page and its CSV alike."""
    start, bad_start = _day(first)
    end, bad_end = _day(last)
    return Asked(
        first=start,
        last=end,
        kind=kind if kind in audit.KINDS else None,
        person=audit.asked(person, 100) if person else None,
        bad_date=bad_start or bad_end,
    )


AskedFilters = Annotated[Asked, Depends(asked)]


def wording(connection: Connection, request: Request, settings: Settings) -> Wording:
    services = {desk.service.slug: desk.service.name for desk in town.desks(connection)}
    return Wording.of(page_language(request), services, ZoneInfo(settings.timezone))


@router.get("/audit")
def audit_page(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: AuditReader,
    filters: AskedFilters,
    page: str | None = None,
) -> Response:
    chosen = filters.chosen(ZoneInfo(settings.timezone))
    with storage.read() as connection:
        total = audit.count(connection, chosen)
        pages = max(1, -(-total // PAGE_SIZE))
        shown = min(max(_page_number(page), 1), pages)
        found = audit.events(connection, chosen, PAGE_SIZE, (shown - 1) * PAGE_SIZE)
        people = audit.actors(connection)
        words = wording(connection, request, settings)
    context = {
        **nav_context(request, user),
        "lines": [line(event, words) for event in found],
        "total": total,
        "page": shown,
        "pages": pages,
        "filters": filters,
        "kinds": KIND_NAMES,
        "people": people,
        "previous_link": filters.query(page=shown - 1) if shown > 1 else None,
        "next_link": filters.query(page=shown + 1) if shown < pages else None,
        "csv_link": filters.query(),
    }
    return render(request, "audit.html", context)


@router.get("/audit.csv")
def audit_csv(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: AuditReader,
    filters: AskedFilters,
) -> Response:
    chosen = filters.chosen(ZoneInfo(settings.timezone))
    with storage.read() as connection:
        found = audit.events(connection, chosen, MAX_CSV_ROWS)
        words = wording(connection, request, settings)
    lines = [line(event, words) for event in found]
    french = words.language == "fr"
    body = tables.to_csv(
        [words.gettext(header) for header in CSV_HEADERS],
        [csv_row(item) for item in lines],
        delimiter=";" if french else ",",
    )
    details = {**filters.details(), "rows": len(lines)}
    with storage.write() as connection:
        audit.record(connection, audit.by_user(user), "audit.exported", "audit.csv", details)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="journal-audit.csv"'},
    )


def csv_row(item: EventLine) -> list[object]:
    return [
        item.id,
        item.at.replace(tzinfo=None).isoformat(timespec="seconds"),
        item.local.replace(tzinfo=None).isoformat(timespec="seconds"),
        item.person,
        item.person_detail,
        item.action,
        item.code,
        item.object,
        " ; ".join(item.details),
    ]


@router.post("/audit/notices")
async def acknowledge_notices(
    request: Request, storage: StorageDep, posted: NoticeForm
) -> Response:
    """A quality manager has read the notices of new quality managers shown on their overview
    (up to the newest event the page showed: a later one still shows)."""
    user, form = posted
    try:
        up_to = int(str(form.get("up_to") or ""))
    except ValueError:
        up_to = 0
    with storage.write() as connection:
        if up_to > 0 and audit.acknowledge(connection, user.username, up_to):
            audit.record(connection, audit.by_user(user), "notice.acknowledged", str(up_to))
    return RedirectResponse("/", status_code=303)
