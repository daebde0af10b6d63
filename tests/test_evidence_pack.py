"""The AFNOR evidence pack from the real app: every part listed is in the ZIP and opens (PDF,
XLSX, JSON, CSV, the audit's file), the index names each file, a one-service pack leaves the
other services out, only the quality manager downloads it, a wrong period or service is a 400
with nothing recorded, and each download is in the audit trail."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from pypdf import PdfReader

from sync_server.indicators.periods import add_months
from sync_server.storage import audit, users
from sync_server.web.evidence_pack import PARTS, PackRefused, choose_scope
from sync_server.web.evidence_sheets import in_scope
from sync_server.web.figures import today
from tests.fixtures.server import SERVICE, SITE, add_user
from tests.tools.cycle_records import (
    PNG,
    action,
    audit_with_findings,
    held_meeting,
    mystery_visit,
    noon,
)
from tests.tools.desk_records import answers

CIVIL = ("hotel-de-ville", "etat-civil")
IRIS_NAME = "IRIS – guichet unique"
CERTIFIED = ["iris", "etat-civil", "education"]
ON = date(2026, 6, 10)


@pytest.fixture
def town(app_server):
    """Last year, in September and October: answers with comments at IRIS and État civil, an
    audit of each (IRIS's non-conformity with a PNG), a mystery visit of each, an action each."""
    storage = app_server.storage
    year = today(app_server.settings).year - 1
    answers(storage, ["dissatisfied"] * 2, noon(date(year, 9, 2)), comment="Trop d'attente")
    answers(storage, ["satisfied"] * 6, noon(date(year, 9, 3)))
    answers(storage, ["dissatisfied"], noon(date(year, 10, 2)), desk=CIVIL, comment="Fermé")
    answers(storage, ["satisfied"] * 5, noon(date(year, 10, 3)), desk=CIVIL)
    audit_with_findings(storage, SERVICE, date(year, 9, 15), [("ACC-01", "non_conformity")],
                        attachment=PNG)  # fmt: skip
    audit_with_findings(storage, "etat-civil", date(year, 10, 2), [("ACC-01", "strong_point")])
    mystery_visit(storage, SERVICE, SITE, date(year, 9, 20), 4)
    mystery_visit(storage, "etat-civil", "hotel-de-ville", date(year, 10, 20), 4)
    action(storage, "Ouvrir un second guichet", (SERVICE,), created_on=date(year, 9, 1))
    action(storage, "Revoir l'affichage", ("etat-civil",), created_on=date(year, 10, 1))
    held_meeting(storage, date(year, 9, 28), "Afficher les horaires du samedi")
    held_meeting(storage, date(year, 11, 30), "Hors de la période demandée")
    client = app_server.login_session(app_server.client())
    return app_server, client, year


def unzip(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    pages = PdfReader(io.BytesIO(content)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def check_opens(name: str, content: bytes) -> None:
    """Each kind of file the pack holds is valid of its kind."""
    if name.endswith(".pdf"):
        assert content.startswith(b"%PDF"), name
        assert PdfReader(io.BytesIO(content)).pages, name
    elif name.endswith(".xlsx"):
        assert load_workbook(io.BytesIO(content), read_only=True).sheetnames, name
    elif name.endswith(".json"):
        assert json.loads(content), name
    elif name.endswith(".csv"):
        assert content.decode("utf-8-sig").splitlines()[0].startswith("N°"), name
    elif name.endswith(".png"):
        assert content == PNG
    else:
        assert name == "index.html", name


def test_the_pack_holds_every_part_each_valid_and_named_by_the_index(town):
    server, client, year = town
    response = client.get(f"/evidence-pack?from={year}-09&to={year}-10")
    disposition = response.headers["content-disposition"]
    assert f'filename="preuves-afnor-{year}-09..{year}-10-perimetre-certifie.zip"' in disposition
    pack = unzip(response)
    names = pack.namelist()
    assert names[-1] == "index.html"
    expected = {
        f"bilan-annuel-{year}.pdf",
        f"dossiers-mensuels/dossier-{year}-09.pdf",
        f"dossiers-mensuels/dossier-{year}-10.pdf",
        f"registre-{year}-09..{year}-10.xlsx",
        f"plan-actions-{year}-09..{year}-10.xlsx",
        f"evaluations-mystere-{year}-09..{year}-10.xlsx",
        f"journal-audit-{year}-09..{year}-10.csv",
    }
    assert expected <= set(names)
    audits = [n for n in names if n.startswith("audits-internes/")]
    assert len([n for n in audits if n.endswith("/rapport.pdf")]) == 2
    assert len([n for n in audits if n.endswith(".png")]) == 1
    assert any(n.startswith("questionnaires/") and n.endswith(".json") for n in names)
    for name in names:
        check_opens(name, pack.read(name))
    # The monthly meeting of the period, its minutes and decision; not the one after it.
    [minutes] = [n for n in names if n.startswith("reunions/")]
    assert minutes.startswith(f"reunions/reunion-{year}-09-28-")
    assert "Afficher les horaires du samedi" in pdf_text(pack.read(minutes))
    index = pack.read("index.html").decode("utf-8")
    for name in names[:-1]:
        assert f'<a href="{name}">{name}</a>' in index
    for part in PARTS:
        assert part.title in index  # its heading, even when it has no file
    assert "http" not in index  # opens offline, nothing fetched
    assert "<script" not in index
    # The register's entries, with their dates and delays.
    register = load_workbook(io.BytesIO(pack.read(f"registre-{year}-09..{year}-10.xlsx")))
    rows = list(register.worksheets[0].iter_rows(values_only=True))
    assert "Réponse due le" in rows[0]
    assert len(rows) == 1 + 3
    # The download is in the audit trail: who took which period and scope.
    with server.storage.read() as connection:
        [event] = [e for e in audit.events(connection, limit=50) if e.object == "evidence_pack"]
    assert event.action == "export.downloaded"
    assert event.actor.name == "qualite"
    assert event.details["period"] == f"{year}-09..{year}-10"
    assert event.details["service"] is None
    assert event.details["files"] == len(names) - 1


def test_a_one_service_pack_leaves_the_other_services_out(town):
    _server, client, year = town
    response = client.get(f"/evidence-pack?from={year}-09&to={year}-10&service=etat-civil")
    assert (
        f"preuves-afnor-{year}-09..{year}-10-etat-civil.zip"
        in response.headers["content-disposition"]
    )
    pack = unzip(response)
    names = pack.namelist()
    assert len([n for n in names if n.endswith("/rapport.pdf")]) == 1
    assert not [n for n in names if n.endswith(".png")]  # IRIS's audit file
    for name in names:
        content = pack.read(name)
        if name.endswith(".pdf"):
            assert IRIS_NAME not in pdf_text(content), name
        elif name.endswith(".xlsx"):
            book = load_workbook(io.BytesIO(content), read_only=True)
            cells = [c for s in book.worksheets for r in s.iter_rows(values_only=True) for c in r]
            assert IRIS_NAME not in cells, name
            assert "Ouvrir un second guichet" not in cells, name
        elif name == "index.html":
            assert IRIS_NAME not in content.decode("utf-8")
            assert "Service : État civil" in content.decode("utf-8")
    mystery = load_workbook(io.BytesIO(pack.read(f"evaluations-mystere-{year}-09..{year}-10.xlsx")))
    assert [r[2] for r in mystery.worksheets[0].iter_rows(min_row=2, values_only=True)] == [
        "État civil"
    ]
    trail = pack.read(f"journal-audit-{year}-09..{year}-10.csv").decode("utf-8-sig")
    assert "État civil" in trail
    assert IRIS_NAME not in trail


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("year=abc", "n'est pas une année passée ou en cours"),
        ("year=2999", "n'est pas une année passée ou en cours"),
        ("from=2025-05&to=2025-03", "Le mois de fin précède le mois de début."),
        ("from=2025-13&to=2026-01", "Les mois s'écrivent AAAA-MM"),
        ("from=2020-01&to=2025-01", "Un dossier couvre au plus 24 mois."),
        ("", "Choisissez une année, ou un mois de début et de fin."),
        ("year=2025&service=logement", "Ce service n'est pas dans le périmètre certifié."),
        ("year=2025&service=nowhere", "Ce service n'est pas dans le périmètre certifié."),
    ],
)
def test_a_wrong_period_or_service_is_refused_and_nothing_recorded(app_server, query, message):
    client = app_server.login_session(app_server.client())
    response = client.get(f"/evidence-pack?{query}")
    assert response.status_code == 400
    assert message in response.text.replace("&#39;", "'")
    with app_server.storage.read() as connection:
        assert not [e for e in audit.events(connection, limit=50) if e.object == "evidence_pack"]


@pytest.mark.parametrize("role", ["service_manager", "admin", "internal_auditor"])
def test_only_the_quality_manager_takes_the_pack(app_server, role):
    add_user(app_server.storage, f"someone-{role}", role, ["iris"])
    client = app_server.login_session(app_server.client(), f"someone-{role}", role)
    response = client.get("/evidence-pack?year=2025", follow_redirects=False)
    assert response.status_code in (303, 403)
    assert response.headers["content-type"] != "application/zip"
    anonymous = app_server.client().get("/evidence-pack?year=2025", follow_redirects=False)
    assert anonymous.status_code == 303


def test_the_review_page_offers_the_pack_to_the_quality_manager_alone(app_server):
    manager = app_server.login_session(app_server.client())
    assert 'action="/evidence-pack"' in manager.get("/review").text
    add_user(app_server.storage, "chef", "service_manager", ["iris"])
    chief = app_server.login_session(app_server.client(), "chef", "service_manager")
    assert "/evidence-pack" not in chief.get("/review").text


# -- the period and the scope asked (pure) ------------------------------------------------------


def test_a_year_or_months_and_one_certified_service():
    whole = choose_scope("2025", None, None, None, CERTIFIED, ON)
    assert (whole.key, whole.services, whole.service) == ("2025", tuple(CERTIFIED), None)
    assert len(whole.months) == 12
    assert whole.years == [2025]
    span = choose_scope(None, "2025-11", "2026-02", "iris", CERTIFIED, ON)
    assert (span.key, span.services) == ("2025-11..2026-02", ("iris",))
    assert [m.key for m in span.months] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert span.years == [2025, 2026]
    with pytest.raises(PackRefused):
        choose_scope(None, "2026-07", "2026-07", None, CERTIFIED, ON)  # not begun
    with pytest.raises(PackRefused):
        choose_scope("2025", "2025-01", "2025-02", None, CERTIFIED, ON)  # both asked


@given(st.integers(0, 23), st.integers(0, 40))
def test_months_asked_are_exactly_the_pack_s_months(length, back):
    last = add_months(date(ON.year, ON.month, 1), -back)
    first = add_months(last, -length)
    scope = choose_scope(None, f"{first:%Y-%m}", f"{last:%Y-%m}", None, CERTIFIED, ON)
    assert len(scope.months) == length + 1
    assert scope.period.start == first
    assert scope.period.end == add_months(last, 1)
    assert scope.months[-1].start == last


def test_the_trail_keeps_the_events_of_the_scope_and_those_naming_no_service():
    def event(number: int, details: dict) -> audit.AuditEvent:
        actor = audit.Actor("user", "qualite", "quality_manager")
        return audit.AuditEvent(number, datetime(2026, 1, 5, tzinfo=UTC), actor, "x", None, details)

    events = [
        event(1, {"service": "iris"}),
        event(2, {"service": "etat-civil"}),
        event(3, {"services": {"before": ["iris"], "after": ["etat-civil"]}}),
        event(4, {"services": ["education", "iris"]}),
        event(5, {"period": "2026-01"}),
    ]
    assert [e.id for e in in_scope(events, ["etat-civil"])] == [2, 3, 5]
    assert [e.id for e in in_scope(events, ["education"])] == [4, 5]


def test_the_pack_is_sent_as_its_files_are_built_and_recorded_before_it_opens(app_server):
    """A year's pack takes a minute to lay out: the first file's bytes leave while a later part
    is still being built (a proxy never waits a minute for a first byte), and the download is
    recorded before the ZIP's directory, without which the file does not open."""
    import asyncio

    from sync_server.web.evidence_pack import Pack, PackFile, Part, stream_pack

    later = asyncio.Event()
    seen: list[str] = []

    async def first(_pack):
        yield PackFile("premier.txt", "le premier", b"premier fichier " * 100)

    async def second(_pack):
        await later.wait()
        yield PackFile("second.txt", "le second", b"second")

    async def record(listed):
        seen.append(f"recorded {len(listed)} files")

    add_user(app_server.storage, "responsable.qualite", "quality_manager", [])
    with app_server.storage.read() as connection:
        reader = users.get(connection, "responsable.qualite")

    async def run() -> bytes:
        scope = choose_scope("2025", None, None, None, ["iris"], ON)
        pack = Pack(app_server.storage, app_server.settings, reader, "fr", scope, None)
        pieces = stream_pack(pack, (Part("a", "A", first), Part("b", "B", second)), record)
        sent = await anext(pieces)
        assert b"premier.txt" in sent  # already on its way; the second part still waits
        assert not later.is_set()
        later.set()
        async for piece in pieces:
            if not seen:
                sent += piece
            else:
                seen.append("directory sent")
                sent += piece
        return sent

    content = asyncio.run(run())
    assert seen == ["recorded 2 files", "directory sent"]
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert archive.namelist() == ["premier.txt", "second.txt", "index.html"]
    assert archive.read("second.txt") == b"second"
