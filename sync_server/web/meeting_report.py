"""A monthly meeting as a PDF: its preparation (the page's own) and its minutes and decisions,
as the HTML of `meeting_report.html` that a worker process of `pdf_pool` lays out, like the
monthly pack.

`meeting_pdf` is the whole town's version, for code outside a request (the AFNOR auditor's
evidence): `storage.meetings.meetings_between` lists a period's meetings, this renders each.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sync_server import i18n
from sync_server.cycle.meetings import Meeting
from sync_server.settings import Settings
from sync_server.storage import Storage, meetings, town
from sync_server.web import dates
from sync_server.web.meeting_preparation import Preparation, preparation_of
from sync_server.web.pdf_pool import PdfPool
from sync_server.web.templating import environment


def report_html(
    storage: Storage, settings: Settings, preparation: Preparation, language: str
) -> str:
    """The HTML of the meeting's PDF: its preparation as given, then its minutes."""
    _ = i18n.translations(language).gettext
    zone = ZoneInfo(settings.timezone)
    meeting = preparation.meeting
    with storage.read() as connection:
        decisions = meetings.decisions(connection, meeting.id)
        town_name = town.town_name(connection) or ""
    generated = dates.shown(datetime.now(UTC), zone, "minute")
    context: dict[str, Any] = {
        "prep": preparation,
        "meeting": meeting,
        "decisions": decisions,
        "town": town_name,
        "min_answers": settings.min_answers,
        "generated_line": _("Édité le %(when)s") % {"when": generated},
        "town_zone": zone,
    }
    return environment(language).get_template("meeting_report.html").render(**context)


def meeting_html(
    storage: Storage, settings: Settings, meeting: Meeting, language: str = "fr"
) -> str:
    """The whole town's PDF HTML of `meeting` (every service; as kept at the closing once
    closed)."""
    whole = preparation_of(storage, settings, meeting, None)
    return report_html(storage, settings, whole, language)


async def meeting_pdf(
    storage: Storage, settings: Settings, pool: PdfPool, meeting_id: int, language: str = "fr"
) -> bytes:
    """The PDF of meeting `meeting_id` for the whole town, laid out in `pool` (the app's
    `app.state.pdf_pool`); LookupError if there is no such meeting, `PdfUnavailable` if the
    worker died."""
    with storage.read() as connection:
        meeting = meetings.get(connection, meeting_id)
    if meeting is None:
        raise LookupError(meeting_id)
    html = await asyncio.to_thread(meeting_html, storage, settings, meeting, language)
    return await pool.build(html)
