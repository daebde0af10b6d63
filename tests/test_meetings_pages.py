"""The monthly Qualivilles meeting on the real app in-process (temp SQLite, the demo town): the
quality manager plans a meeting and reads its preparation (the desks' figures are the one
computation's for the days since the last meeting; the register, alerts, actions due and
audits to come), records the minutes and a decision that opens an improvement action, and
closes them: closed minutes refuse every change. A service manager reads their services' part;
the administrator and internal auditors see nothing. The PDF holds the preparation and the
minutes, with its edition time in town time, and is drawn to a PNG to be looked at."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from datetime import timedelta

import pytest

from sync_server.cycle.meetings import since_last
from sync_server.indicators.query import WAITS
from sync_server.storage import audit, plan
from sync_server.storage import meetings as storage_meetings
from sync_server.web.figures import desk_figures
from sync_server.web.meeting_report import meeting_pdf
from sync_server.web.pdf_pool import PdfPool
from tests.fixtures.server import SERVICE
from tests.fixtures.web import form_token
from tests.tools.meeting_town import (
    ADMIN,
    AUDITOR,
    CHEF,
    QUALITY,
    TODAY,
    furnish,
    pdf_text,
    plan_meeting,
)
from tests.tools.page_text import text
from tests.tools.staff_forms import post, sign_in


@pytest.fixture
def town(app_server):
    return furnish(app_server)


def events(server, action: str) -> list[audit.AuditEvent]:
    with server.storage.read() as connection:
        return [e for e in audit.events(connection, limit=1000) if e.action == action]


def test_the_preparation_shows_the_one_computation_since_the_last_meeting(town):
    quality = sign_in(town, QUALITY)
    meeting_id = plan_meeting(town, quality)
    page = quality.get(f"{town.url}/meetings/{meeting_id}")
    assert page.status_code == 200
    window = since_last(None, TODAY, TODAY)
    assert f'data-window="{window.start.isoformat()}..{window.last.isoformat()}"' in page.text
    rows = desk_figures(town.storage, town.settings, window, services=None, parts=WAITS)
    for row in rows:
        n = row.figures["satisfaction_rate"].n
        assert f'data-site="{row.site}" data-service="{row.service}" data-n="{n}"' in page.text
    assert any(row.figures["satisfaction_rate"].n == 9 for row in rows)  # 9 answers, 7 happy
    shown = text(page.text)
    assert "77,8" in shown  # IRIS: 7 satisfied of 9 expressed
    assert "Refaire la signalétique" in shown
    assert "En retard" in shown
    assert "Former l'accueil" in shown
    assert 'data-audit="' in page.text
    assert f'data-register="{SERVICE}" data-received="1"' not in page.text  # no comment sent
    assert [e.object for e in events(town, "meeting.planned")] == [str(meeting_id)]


def test_minutes_with_a_decision_that_opens_an_action_then_closed_and_frozen(town):
    quality = sign_in(town, QUALITY)
    meeting_id = plan_meeting(town, quality)
    page = f"/meetings/{meeting_id}"
    minutes = {"held_on": TODAY.isoformat(), "attendees": "Mme Martin\r\nM. Petit\r\n",
               "notes": "Affluence du lundi à l'IRIS."}  # fmt: skip
    assert post(town, quality, f"{page}/minutes", minutes, page=page).status_code == 303
    decision = {"text": "Ouvrir un second guichet le lundi", "service": SERVICE,
                "opens_action": "1", "owner": "M. Petit",
                "due_on": (TODAY + timedelta(days=30)).isoformat()}  # fmt: skip
    assert post(town, quality, f"{page}/decisions", decision, page=page).status_code == 303
    with town.storage.read() as connection:
        [recorded] = storage_meetings.decisions(connection, meeting_id)
        action = plan.get(connection, recorded.action_id)
    assert action is not None
    assert (action.title, action.origin, action.status, action.services, action.owner) == (
        "Ouvrir un second guichet le lundi", "meeting", "validated", (SERVICE,), "M. Petit",
    )  # fmt: skip
    assert post(town, quality, f"{page}/close", {}, page=page).status_code == 303
    closed = quality.get(f"{town.url}{page}")
    assert "data-closed" in closed.text
    assert f'action="{page}/minutes"' not in closed.text
    assert f'href="/actions/{action.id}"' in closed.text
    # A form posted by hand once closed changes nothing.
    token = form_token(quality.get(f"{town.url}/meetings").text)
    for path, data in [(f"{page}/minutes", {**minutes, "notes": "Réécrit"}),
                       (f"{page}/decisions", decision), (f"{page}/close", {})]:  # fmt: skip
        refused = quality.post(f"{town.url}{path}", data={**data, "csrf_token": token})
        assert refused.status_code == 400, path
    with town.storage.read() as connection:
        found = storage_meetings.get(connection, meeting_id)
        assert len(storage_meetings.decisions(connection, meeting_id)) == 1
        assert len(plan.actions(connection)) == 3
    assert found is not None
    assert (found.notes, found.attendee_lines) == ("Affluence du lundi à l'IRIS.",
                                                   ["Mme Martin", "M. Petit"])  # fmt: skip
    [saved] = events(town, "meeting.minutes_saved")
    assert saved.details == {"held_on": {"before": None, "after": TODAY.isoformat()},
                             "attendees_changed": True, "notes_changed": True}  # fmt: skip
    assert "Affluence" not in str(saved.details)
    assert len(events(town, "meeting.decision_recorded")) == 1
    assert len(events(town, "meeting.closed")) == 1
    assert any(e.object == str(action.id) for e in events(town, "action.proposed"))


def test_wrong_minutes_and_decisions_are_refused_and_nothing_changes(town):
    quality = sign_in(town, QUALITY)
    meeting_id = plan_meeting(town, quality)
    page = f"/meetings/{meeting_id}"
    ahead = {"held_on": (TODAY + timedelta(days=1)).isoformat(), "attendees": "", "notes": ""}
    refused = post(town, quality, f"{page}/minutes", ahead, page=page)
    assert refused.status_code == 400
    assert "ne peut pas avoir eu lieu après aujourd" in text(refused.text)
    no_service = {"text": "Revoir l'affichage", "opens_action": "1"}
    assert post(town, quality, f"{page}/decisions", no_service, page=page).status_code == 400
    assert post(town, quality, f"{page}/close", {}, page=page).status_code == 400  # not held
    bad_day = post(town, quality, "/meetings", {"planned_on": "demain"}, page="/meetings")
    assert bad_day.status_code == 400
    csrf = quality.post(f"{town.url}{page}/minutes", data={"notes": "x"})
    assert csrf.status_code == 403
    with town.storage.read() as connection:
        found = storage_meetings.get(connection, meeting_id)
        assert storage_meetings.decisions(connection, meeting_id) == []
        assert len(storage_meetings.every(connection)) == 1
    assert found is not None
    assert (found.held_on, found.notes, found.status) == (None, "", "open")
    assert events(town, "meeting.minutes_saved") == []


def test_a_service_manager_reads_their_part_others_see_nothing(town):
    meeting_id = plan_meeting(town, sign_in(town, QUALITY))
    page = f"/meetings/{meeting_id}"
    chef = sign_in(town, CHEF)
    read = chef.get(f"{town.url}{page}")
    assert read.status_code == 200
    assert f'data-service="{SERVICE}"' in read.text
    assert 'data-service="etat-civil"' not in read.text
    assert "Former l'accueil" not in text(read.text)  # another service's action
    assert f'action="{page}/minutes"' not in read.text
    assert chef.get(f"{town.url}/meetings").status_code == 200
    assert 'href="/meetings"' in chef.get(f"{town.url}/").text
    token = form_token(read.text)
    refused = chef.post(f"{town.url}{page}/close", data={"csrf_token": token})
    assert refused.status_code == 403
    for name in (ADMIN, AUDITOR):
        other = sign_in(town, name)
        for path in ("/meetings", page, f"{page}/preparation.pdf"):
            assert other.get(f"{town.url}{path}").status_code == 403, (name, path)
    assert chef.get(f"{town.url}/meetings/999999").status_code == 403


def test_the_pdf_holds_the_preparation_and_the_minutes_and_draws_to_png(town, tmp_path):
    quality = sign_in(town, QUALITY)
    meeting_id = plan_meeting(town, quality)
    page = f"/meetings/{meeting_id}"
    minutes = {"held_on": TODAY.isoformat(), "attendees": "Mme Martin", "notes": "RAS"}
    post(town, quality, f"{page}/minutes", minutes, page=page)
    decision = {"text": "Afficher les horaires du samedi", "service": SERVICE}
    post(town, quality, f"{page}/decisions", decision, page=page)
    response = quality.get(f"{town.url}{page}/preparation.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    content = pdf_text(response.content)
    for expected in ("Indicateurs depuis la dernière réunion", "Édité le", "Mme Martin",
                     "Afficher les horaires du samedi", "Refaire la signalétique"):  # fmt: skip
        assert expected in content, expected
    downloaded = events(town, "report.downloaded")
    assert [e.details.get("meeting") for e in downloaded] == [meeting_id]
    # The service manager's PDF holds their services only.
    chef = sign_in(town, CHEF).get(f"{town.url}{page}/preparation.pdf")
    assert "Former l'accueil" not in pdf_text(chef.content)
    assert "Former l'accueil" in content
    # Drawn to PNG, as a person would see it (kept in the test's folder to look at).
    assert shutil.which("pdftoppm")
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-",
                    str(tmp_path / "meeting")], input=response.content, check=True)  # fmt: skip
    [png] = tmp_path.glob("meeting*.png")
    assert png.read_bytes().startswith(b"\x89PNG")
    assert png.stat().st_size > 10_000


def test_the_whole_towns_pdf_of_a_meeting_for_other_code(town):
    with town.storage.write() as connection:
        meeting_id = storage_meetings.add(connection, TODAY, by=QUALITY)
    pool = PdfPool()
    try:
        content = asyncio.run(meeting_pdf(town.storage, town.settings, pool, meeting_id))
        with pytest.raises(LookupError):
            asyncio.run(meeting_pdf(town.storage, town.settings, pool, 999999))
    finally:
        pool.shutdown()
    shown = pdf_text(content)
    assert "Former l'accueil" in shown
    assert "Refaire la signalétique" in shown
