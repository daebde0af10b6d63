"""Flagged comments on the real app (in-process, temp SQLite), staff signed in through the real
form: a service manager never reads an unreleased flagged comment (register, service page,
register export), the quality manager reads it with its reasons and releases it or keeps it
hidden, an agent's name added to the list flags a comment already there, the overview's notice
counts what is left to review; and the verbatims reports quote."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from sync_server.comments.verbatims import selected_verbatims, shorten
from sync_server.indicators.periods import containing
from sync_server.storage import audit, quality
from tests.fixtures.server import SERVICE, SITE, add_user
from tests.tools.desk_records import answers
from tests.tools.page_text import text
from tests.tools.staff_forms import post, sign_in

MANAGER, CHEF = "qualite", "chef-iris"
NOW = datetime.now(UTC)
LAST_MONTH = containing("month", NOW.date()).previous()
AT = datetime.combine(LAST_MONTH.start, datetime.min.time(), tzinfo=UTC) + timedelta(days=3)
PERIOD = f"kind=month&period={LAST_MONTH.start:%Y-%m}"
INSULT = "Bande de connards, trois heures d'attente pour rien"
URGENT = "Ça sent le gaz dans le hall, faites quelque chose"
NAMED = "Karim m'a très mal reçu, dossier 123 456 789"
PLAIN = "Accueil agréable, merci pour les explications"
PENDING = "Commentaire en attente de relecture par le responsable qualité"


@pytest.fixture
def town(app_server):
    storage = app_server.storage
    add_user(storage, MANAGER, "quality_manager")
    add_user(storage, CHEF, "service_manager", [SERVICE])
    for i, (text_, level) in enumerate(
        [(PLAIN, "satisfied"), (INSULT, "dissatisfied"), (URGENT, "dissatisfied"),
         (NAMED, "dissatisfied")]
    ):  # fmt: skip
        answers(storage, [level], AT + timedelta(hours=i), comment=text_)
    return app_server


def ids(server) -> dict[str, int]:
    with server.storage.read() as connection:
        return {e.text: e.id for e in quality.register(connection)}


def entry(page: str, comment_id: int) -> str:
    found = re.search(rf'<li class="entry[^"]*" id="c{comment_id}".*?</li>', page, re.S)
    assert found, comment_id
    return html.unescape(found.group(0))


def flagged_count(page: str) -> int | None:
    found = re.search(r'data-flagged="(\d+)"', page)
    return int(found.group(1)) if found else None


def review(server, session, comment_id: int, decision: str):
    return post(server, session, f"/comments/{comment_id}/review", {"decision": decision},
                page="/comments")  # fmt: skip


def test_a_service_manager_never_reads_an_unreleased_flagged_comment(town):
    chef = sign_in(town, CHEF)
    register = html.unescape(chef.get(f"{town.url}/comments").text)
    service = html.unescape(chef.get(f"{town.url}/service/{SERVICE}?{PERIOD}").text)
    export = chef.get(f"{town.url}/comments/export.csv").text
    for page in (register, service):
        assert PLAIN in page
        assert page.count(PENDING) == 2  # the insult and the gas leak
        for flagged in ("connards", "sent le gaz"):
            assert flagged not in page
        # Karim is not listed yet: the comment reads, its number masked.
        assert "Karim m'a très mal reçu, dossier ▒▒▒" in page
        assert "123 456" not in page
    assert "Commentaire en attente" in register
    assert "connards" not in export
    assert "gaz" not in export
    # Nor may they release it themselves.
    comment_id = ids(town)[INSULT]
    assert review(town, chef, comment_id, "released").status_code == 403
    assert PENDING in entry(chef.get(f"{town.url}/comments").text, comment_id)


def test_the_quality_manager_reads_it_first_and_releases_it_masked(town):
    manager, chef = sign_in(town, MANAGER), sign_in(town, CHEF)
    found = ids(town)
    page = manager.get(f"{town.url}/comments").text
    insult = entry(page, found[INSULT])
    assert "Insulte ou grossièreté (connard)" in text(insult)
    assert '<mark class="hit hit-insult"' in insult
    assert "connards" in insult
    urgent = entry(page, found[URGENT])
    assert "Urgent : à lire en premier" in text(urgent)
    # Urgent ones to review come first.
    assert re.findall(r'id="c(\d+)"', page)[0] == str(found[URGENT])
    assert flagged_count(manager.get(f"{town.url}/").text) == 2

    assert review(town, manager, found[INSULT], "released").status_code == 303
    event = next(e for e in audit_events(town) if e.action == "triage.released")
    assert (event.actor.name, event.object) == (MANAGER, str(found[INSULT]))
    assert event.details == {"service": SERVICE, "reasons": ["insult"], "decision": "released"}
    assert INSULT in html.unescape(chef.get(f"{town.url}/comments").text)
    assert flagged_count(manager.get(f"{town.url}/").text) == 1
    assert "Communiqué aux responsables de service par qualite" in text(
        entry(manager.get(f"{town.url}/comments").text, found[INSULT])
    )

    assert review(town, manager, found[URGENT], "kept_hidden").status_code == 303
    hidden = entry(chef.get(f"{town.url}/comments").text, found[URGENT])
    assert "Commentaire non communiqué par le responsable qualité" in hidden
    assert "gaz" not in hidden
    assert flagged_count(manager.get(f"{town.url}/").text) is None
    assert flagged_count(chef.get(f"{town.url}/").text) is None  # never told to a chef


def test_an_agents_name_added_to_the_list_flags_a_comment_already_there(town):
    manager, chef = sign_in(town, MANAGER), sign_in(town, CHEF)
    comment_id = ids(town)[NAMED]
    assert "Karim m'a très mal reçu, dossier ▒▒▒" in entry(
        chef.get(f"{town.url}/comments").text, comment_id
    )
    typed = "Karim Benali\n  \nkarim benali\nMarie Dubois"
    saved = post(town, manager, "/staff-names", {"service": SERVICE, "names": typed},
                 page="/staff-names")  # fmt: skip
    assert saved.status_code == 303
    event = next(e for e in audit_events(town) if e.action == "triage.names_changed")
    assert event.details == {"service": SERVICE, "names": {"before": 0, "after": 2}}
    assert "Karim" not in str(event.details)

    held = entry(chef.get(f"{town.url}/comments").text, comment_id)
    assert PENDING in held
    assert "Karim" not in held
    assert flagged_count(manager.get(f"{town.url}/").text) == 3
    pending = manager.get(f"{town.url}/comments?flagged=pending").text
    assert len(re.findall(r'<li class="entry', pending)) == 3
    assert "Nomme une personne" in text(entry(pending, comment_id))
    # Released, the agent's name is masked for everyone who did not ask to see names.
    review(town, manager, comment_id, "released")
    assert "▒▒▒ m'a très mal reçu, dossier ▒▒▒" in entry(
        chef.get(f"{town.url}/comments").text, comment_id
    )
    assert "Karim Benali\nMarie Dubois" in html.unescape(
        manager.get(f"{town.url}/staff-names").text
    )


def test_a_names_list_beyond_bounds_or_for_a_stranger_changes_nothing(town):
    manager, chef = sign_in(town, MANAGER), sign_in(town, CHEF)
    long_name = "x" * 101
    refused = post(town, manager, "/staff-names", {"service": SERVICE, "names": long_name},
                   page="/staff-names")  # fmt: skip
    assert refused.status_code == 400
    assert long_name in refused.text  # typed back, nothing lost
    unknown = post(town, manager, "/staff-names", {"service": "nowhere", "names": "Karim"},
                   page="/staff-names")  # fmt: skip
    assert unknown.status_code == 400
    assert chef.get(f"{town.url}/staff-names").status_code == 403
    assert not [e for e in audit_events(town) if e.action == "triage.names_changed"]


def test_the_verbatims_of_a_period_never_hold_a_withheld_comment(town):
    storage = town.storage
    start = datetime.combine(LAST_MONTH.start, datetime.min.time(), tzinfo=UTC)
    end = start + timedelta(days=40)
    with storage.read() as connection:
        found = selected_verbatims(connection, start, end, services=[SERVICE])
        none_for_admin = selected_verbatims(connection, start, end, reader_role="admin")
        other_site = selected_verbatims(connection, start, end, sites=["ailleurs"])
    assert none_for_admin == {}
    assert other_site == {}
    quoted = found[(SITE, SERVICE)]
    assert [v.text for v in quoted] == ["Karim m'a très mal reçu, dossier ▒▒▒", PLAIN]
    assert [v.mood for v in quoted] == ["unhappy", "happy"]
    manager = sign_in(town, MANAGER)
    review(town, manager, ids(town)[INSULT], "released")
    with storage.read() as connection:
        quoted = selected_verbatims(connection, start, end, limit=2, max_length=30)
    [desk] = quoted.values()
    # Newest first, one unhappy and one happy, cut with an explicit "…".
    assert [v.text for v in desk] == ["Karim m'a très mal reçu…", "Accueil agréable, merci pour…"]


def test_a_long_text_is_cut_at_a_word_and_never_beyond_its_length():
    assert shorten("court", 10) == "court"
    assert shorten("un deux trois quatre cinq", 12) == "un deux…"
    assert len(shorten("x" * 500, 280)) == 280


def audit_events(server) -> list[audit.AuditEvent]:
    with server.storage.read() as connection:
        return audit.events(connection, limit=1000)
