"""Closed minutes keep what the meeting saw: closing a meeting keeps the whole town's
preparation as it stood; afterwards its page and PDF show that (narrowed to a reader's services
as the live preparation is), whatever happens to the actions, audits and register since. A
meeting closed before preparations were kept, or whose kept preparation no longer reads back,
shows the preparation of today, and says so. On the real app in-process (temp SQLite, the demo
town) and on the storage of both engines."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from sync_server.storage import internal_audits, migrations, plan, schema
from sync_server.storage import meetings as storage_meetings
from sync_server.web.meeting_preparation import kept, narrowed, prepare, thawed
from sync_server.web.meeting_report import meeting_pdf
from sync_server.web.pdf_pool import PdfPool
from tests.fixtures.server import SERVICE
from tests.tools.meeting_town import (
    CHEF,
    OTHER_SERVICES_ACTION,
    OVERDUE_ACTION,
    QUALITY,
    TODAY,
    furnish,
    pdf_text,
    plan_meeting,
)
from tests.tools.page_text import text
from tests.tools.staff_forms import post, sign_in

OVERDUE, ELSEWHERE = OVERDUE_ACTION, OTHER_SERVICES_ACTION


@pytest.fixture
def town(app_server):
    return furnish(app_server)


def held_and_closed(server, session) -> int:
    meeting_id = plan_meeting(server, session)
    page = f"/meetings/{meeting_id}"
    minutes = {"held_on": TODAY.isoformat(), "attendees": "Mme Martin", "notes": "RAS"}
    assert post(server, session, f"{page}/minutes", minutes, page=page).status_code == 303
    assert post(server, session, f"{page}/close", {}, page=page).status_code == 303
    return meeting_id


def the_world_moves_on(storage) -> None:
    """After the meeting: every action it brought up is done or pushed a year away, a new one
    is due tomorrow, its audit is cancelled."""
    with storage.write() as connection:
        for action in plan.actions(connection):
            if action.title == OVERDUE:
                plan.move(connection, action.id, "validated", may_validate=True, by=QUALITY)
                plan.move(connection, action.id, "done", may_validate=True, by=QUALITY)
            else:
                later = plan.Draft(action.title, action.origin, action.services,
                                   due_on=TODAY + timedelta(days=365))  # fmt: skip
                plan.edit(connection, action.id, later, by=QUALITY)
        new = plan.Draft("Nouvelle action après la réunion", "meeting", (SERVICE,),
                         due_on=TODAY + timedelta(days=1))  # fmt: skip
        plan.propose(connection, new, by=QUALITY)
        connection.execute(sa.update(schema.internal_audits).values(status="cancelled"))


def test_a_closed_meetings_page_shows_what_the_meeting_saw(town):
    quality = sign_in(town, QUALITY)
    meeting_id = held_and_closed(town, quality)
    before = quality.get(f"{town.url}/meetings/{meeting_id}").text
    the_world_moves_on(town.storage)
    after = quality.get(f"{town.url}/meetings/{meeting_id}")
    assert after.status_code == 200
    shown = text(after.text)
    assert 'data-preparation="kept"' in after.text
    assert "telle qu'à la clôture du compte rendu" in shown
    assert OVERDUE in shown
    assert ELSEWHERE in shown
    assert "Nouvelle action après la réunion" not in shown
    assert after.text.count('data-audit="') == before.count('data-audit="') == 1
    # The figures' rows are the same as at the closing.
    rows = [line for line in before.splitlines() if "data-site=" in line]
    assert rows
    assert all(row in after.text for row in rows)
    # A meeting still open shows today's.
    open_id = plan_meeting(town, quality)
    live = quality.get(f"{town.url}/meetings/{open_id}").text
    assert "Nouvelle action après la réunion" in text(live)
    assert "data-preparation=" not in live


def test_a_service_manager_reads_their_part_of_the_kept_preparation(town):
    meeting_id = held_and_closed(town, sign_in(town, QUALITY))
    the_world_moves_on(town.storage)
    read = sign_in(town, CHEF).get(f"{town.url}/meetings/{meeting_id}")
    assert read.status_code == 200
    assert 'data-preparation="kept"' in read.text
    assert f'data-service="{SERVICE}"' in read.text
    assert 'data-service="etat-civil"' not in read.text
    assert OVERDUE in text(read.text)
    assert ELSEWHERE not in text(read.text)  # another service's action, kept but not theirs


def test_the_whole_towns_pdf_of_a_closed_meeting_is_the_kept_one(town):
    meeting_id = held_and_closed(town, sign_in(town, QUALITY))
    the_world_moves_on(town.storage)
    pool = PdfPool()
    try:
        content = asyncio.run(meeting_pdf(town.storage, town.settings, pool, meeting_id))
    finally:
        pool.shutdown()
    shown = pdf_text(content)
    assert OVERDUE in shown
    assert "Nouvelle action après la réunion" not in shown
    assert "telle qu" in shown


@pytest.mark.parametrize("stored", [None, "not json", '{"meeting": 3}', "[]"])
def test_minutes_closed_without_a_readable_preparation_show_todays_and_say_so(
    town,
    stored,
    caplog,
):
    quality = sign_in(town, QUALITY)
    meeting_id = held_and_closed(town, quality)
    with town.storage.write() as connection:
        t = schema.meetings
        connection.execute(t.update().where(t.c.id == meeting_id).values(preparation=stored))
    the_world_moves_on(town.storage)
    with caplog.at_level(logging.WARNING, logger="sync_server.web.meeting_preparation"):
        page = quality.get(f"{town.url}/meetings/{meeting_id}")
        pdf = quality.get(f"{town.url}/meetings/{meeting_id}/preparation.pdf")
    assert page.status_code == 200
    assert pdf.status_code == 200
    assert 'data-preparation="recomputed"' in page.text
    assert "préparation recalculée à ce jour" in text(page.text)
    assert "Nouvelle action après la réunion" in text(page.text)
    assert (stored is not None) == any("does not read back" in r.message for r in caplog.records)


def test_the_kept_preparation_narrows_as_the_live_one_does(town):
    with town.storage.write() as connection:
        meeting_id = storage_meetings.add(connection, TODAY, by=QUALITY)
        meeting = storage_meetings.get(connection, meeting_id)
        audits = internal_audits.of_year(connection, TODAY.year)
    assert meeting is not None
    whole = prepare(town.storage, town.settings, meeting, None)
    back = thawed(kept(whole), meeting)
    assert back == replace(whole, kept=True)
    assert narrowed(whole, None) == whole
    for services in ([SERVICE], ["etat-civil"], [], [SERVICE, "etat-civil"]):
        live = prepare(town.storage, town.settings, meeting, services)
        assert narrowed(whole, services) == live, services
        assert narrowed(whole, services, readable=[]) == replace(live, audits=[])
        mine = prepare(town.storage, town.settings, meeting, services, readable=audits)
        assert narrowed(whole, services, readable=audits) == mine, services


def test_closing_keeps_the_preparation_on_both_engines(any_storage):
    with any_storage.write() as connection:
        meeting_id = storage_meetings.add(connection, TODAY, by=QUALITY)
        assert storage_meetings.frozen_preparation(connection, meeting_id) is None
        storage_meetings.close(connection, meeting_id, by=QUALITY, preparation='{"x": "é"}')
    with any_storage.read() as connection:
        assert storage_meetings.frozen_preparation(connection, meeting_id) == '{"x": "é"}'
        found = storage_meetings.get(connection, meeting_id)
    assert found is not None
    assert found.closed
    assert "0026_frozen_preparations" in [name for name, _ in migrations.MIGRATIONS]
