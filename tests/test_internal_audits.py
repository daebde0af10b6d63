"""Internal audits on the real app in-process (temp SQLite, the demo town): the quality manager
plans an audit with a pair of auditors; each auditor sees only their audits and nothing else of
the town; a service manager reads their services' audits; the administrator none. A
non-conformity opens an improvement action; refused inputs change nothing; the report's PDF
holds the findings."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from sync_server.storage import audit, internal_audits, plan, users
from sync_server.web.pages.internal_audits import attachment_limit
from tests.fixtures.server import add_user
from tests.fixtures.web import form_token
from tests.tools.page_text import text
from tests.tools.staff_forms import post, sign_in

QUALITY, CHEF, OTHER_CHEF, ADMIN = "qualite", "chef-iris", "chef-etat-civil", "informatique"
FIRST, SECOND, OUTSIDER = "auditrice-a", "auditeur-b", "auditrice-c"
DAY = date(date.today().year, 6, 15)


@pytest.fixture
def town(app_server):
    storage = app_server.storage
    add_user(storage, QUALITY, "quality_manager")
    add_user(storage, CHEF, "service_manager", ["iris"])
    add_user(storage, OTHER_CHEF, "service_manager", ["etat-civil"])
    add_user(storage, ADMIN, "admin")
    for name in (FIRST, SECOND, OUTSIDER):
        add_user(storage, name, "internal_auditor")
    return app_server


def plan_audit(server, session, **fields) -> int:
    data = {"service": "iris", "audit_on": DAY.isoformat(), "first_auditor": FIRST,
            "second_auditor": SECOND, **fields}  # fmt: skip
    response = post(server, session, "/audits", data, page="/audits")
    assert response.status_code == 303, text(response.text)
    return int(response.headers["location"].rsplit("/", 1)[1])


def find(server, session, audit_id: int, **fields):
    page = f"/audits/{audit_id}"
    data = {"engagement": "ACC-01", "verdict": "conformity", "evidence": "Accueil souriant",
            **fields}  # fmt: skip
    return post(server, session, f"{page}/findings", data, page=page)


def stored_findings(server, audit_id: int):
    with server.storage.read() as connection:
        return internal_audits.findings(connection, audit_id)


def events(server, action: str) -> list[audit.AuditEvent]:
    with server.storage.read() as connection:
        return [e for e in audit.events(connection, limit=10_000) if e.action == action]


def test_each_auditor_sees_only_their_audits_and_nothing_else(town):
    quality = sign_in(town, QUALITY)
    audit_id = plan_audit(town, quality)
    [event] = events(town, "internal_audit.planned")
    assert (event.object, event.actor.name) == (str(audit_id), QUALITY)
    assert event.details["auditors"] == [FIRST, SECOND]
    page = f"{town.url}/audits/{audit_id}"
    first = sign_in(town, FIRST)
    listing = first.get(f"{town.url}/audits?year={DAY.year}")
    assert f'data-audit="{audit_id}"' in listing.text
    assert "Enregistrer un constat" in first.get(page).text
    # Their home is the audits; the figures, comments, plan and exports are not theirs.
    home = first.get(f"{town.url}/", follow_redirects=False)
    assert (home.status_code, home.headers["location"]) == (303, "/audits")
    for path in ("/service/iris", "/comments", "/actions", "/review", "/referential",
                 "/export/answers.csv?service=iris", "/audit", "/admin/users"):  # fmt: skip
        assert first.get(f"{town.url}{path}", follow_redirects=False).status_code == 403, path
    outsider = sign_in(town, OUTSIDER)
    listing = outsider.get(f"{town.url}/audits?year={DAY.year}")
    assert (listing.status_code, f'data-audit="{audit_id}"' in listing.text) == (200, False)
    assert outsider.get(page).status_code == 403
    assert outsider.get(f"{page}/report.pdf").status_code == 403
    assert find(town, outsider, audit_id).status_code == 403
    # The service manager reads their service's audit, without a form; the other one does not.
    chef = sign_in(town, CHEF)
    read = chef.get(page)
    assert read.status_code == 200
    assert "Enregistrer un constat" not in read.text
    assert 'action="/audits/' not in read.text
    assert find(town, chef, audit_id).status_code == 403
    other = sign_in(town, OTHER_CHEF)
    assert other.get(page).status_code == 403
    assert f'data-audit="{audit_id}"' not in other.get(f"{town.url}/audits?year={DAY.year}").text
    admin = sign_in(town, ADMIN)
    assert admin.get(page).status_code == 403
    assert admin.get(f"{town.url}/audits").status_code == 403
    assert stored_findings(town, audit_id) == []


def test_a_non_conformity_opens_a_proposed_action_in_the_plan(town):
    audit_id = plan_audit(town, sign_in(town, QUALITY))
    first = sign_in(town, FIRST)
    assert find(town, first, audit_id).status_code == 303
    response = find(town, first, audit_id, verdict="non_conformity", evidence="Horaires absents")
    assert response.status_code == 303, text(response.text)
    conformity, gap = stored_findings(town, audit_id)
    assert (conformity.verdict, conformity.action_id) == ("conformity", None)
    assert (gap.verdict, gap.recorded_by) == ("non_conformity", FIRST)
    with town.storage.read() as connection:
        action = plan.get(connection, gap.action_id)
        every = plan.actions(connection)
    assert [a.id for a in every] == [gap.action_id]
    assert (action.origin, action.status, action.services, action.engagement) == (
        "internal_audit", "proposed", ("iris",), "ACC-01")  # fmt: skip
    recorded = events(town, "internal_audit.finding_recorded")
    assert {e.details["verdict"] for e in recorded} == {"conformity", "non_conformity"}
    assert "Horaires" not in str([e.details for e in recorded])
    [proposed] = events(town, "action.proposed")
    assert proposed.object == str(gap.action_id)
    # The plan's page shows it to the service manager, with its origin.
    chef = sign_in(town, CHEF)
    assert "Constat d'audit interne" in text(chef.get(f"{town.url}/actions/{gap.action_id}").text)


def test_the_status_is_the_quality_managers_and_an_issued_report_takes_no_finding(town):
    quality, first = sign_in(town, QUALITY), sign_in(town, FIRST)
    audit_id = plan_audit(town, quality)
    page = f"/audits/{audit_id}"
    assert post(town, first, f"{page}/status", {"status": "done"}, page=page).status_code == 403
    refused = post(town, quality, f"{page}/status", {"status": "report_issued"}, page=page)
    assert refused.status_code == 400
    for step in ("done", "report_issued"):
        assert post(town, quality, f"{page}/status", {"status": step}, page=page).status_code == 303
    assert [e.details["audit_status"] for e in events(town, "internal_audit.status_changed")] == [
        {"before": "done", "after": "report_issued"},
        {"before": "planned", "after": "done"},
    ]
    assert find(town, first, audit_id).status_code == 403
    assert stored_findings(town, audit_id) == []


@pytest.mark.parametrize(
    "fields",
    [
        {"audit_on": "2026-02-30"},
        {"audit_on": "demain"},
        {"audit_on": "1990-01-01"},
        {"service": "piscine"},
        {"service": "logement-inconnu"},
        {"second_auditor": FIRST},
        {"second_auditor": CHEF},
        {"first_auditor": ""},
    ],
)
def test_a_refused_plan_says_why_and_stores_nothing(town, fields):
    quality = sign_in(town, QUALITY)
    data = {"service": "iris", "audit_on": DAY.isoformat(), "first_auditor": FIRST,
            "second_auditor": SECOND, **fields}  # fmt: skip
    response = post(town, quality, "/audits", data, page="/audits")
    assert response.status_code == 400
    assert "Rien n'a été enregistré" in text(response.text)
    with town.storage.read() as connection:
        assert internal_audits.of_year(connection, DAY.year) == []
    assert events(town, "internal_audit.planned") == []


@pytest.mark.parametrize(
    "fields",
    [
        {"engagement": "ZZZ-99"},
        {"engagement": "ACC-07"},  # not among the engagements applying to this service
        {"verdict": "excellent"},
        {"evidence": "   "},
        {"evidence": "x" * 4001},
    ],
)
def test_a_refused_finding_says_why_and_stores_nothing(town, fields):
    audit_id = plan_audit(town, sign_in(town, QUALITY))
    response = find(town, sign_in(town, FIRST), audit_id, **{"verdict": "non_conformity", **fields})
    assert response.status_code == 400
    assert "Rien n'a été enregistré" in text(response.text)
    assert stored_findings(town, audit_id) == []
    with town.storage.read() as connection:
        assert plan.actions(connection) == []


def test_the_report_pdf_holds_the_findings(town):
    audit_id = plan_audit(town, sign_in(town, QUALITY))
    first = sign_in(town, FIRST)
    find(town, first, audit_id, evidence="Panneau d'horaires lisible")
    find(town, first, audit_id, verdict="non_conformity", evidence="Délai de réponse dépassé")
    response = first.get(f"{town.url}/audits/{audit_id}/report.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    content = " ".join(
        page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages
    )
    content = " ".join(content.split())
    for expected in ("Panneau d'horaires lisible", "Délai de réponse dépassé",
                     "Non-conformité", "Conformité", FIRST, SECOND, "ACC-01"):  # fmt: skip
        assert expected in content, expected
    [download] = events(town, "report.downloaded")
    assert (download.object, download.actor.name) == ("internal_audit", FIRST)


# -- files joined to a finding ---------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def attach(server, session, audit_id: int, name: str, content: bytes, media: str):
    page = f"/audits/{audit_id}"
    token = form_token(session.get(f"{server.url}{page}").text)
    data = {"engagement": "ACC-01", "verdict": "observation", "evidence": "Photo de l'affiche",
            "csrf_token": token}  # fmt: skip
    return session.post(
        f"{server.url}{page}/findings", data=data, files={"attachment": (name, content, media)},
        follow_redirects=False,
    )  # fmt: skip


def test_a_file_joined_to_a_finding_is_served_only_to_its_readers_as_a_download(town):
    audit_id = plan_audit(town, sign_in(town, QUALITY))
    first = sign_in(town, FIRST)
    # Named like a text file, a PNG by its first bytes: kept as a PNG.
    response = attach(town, first, audit_id, "notes.txt", PNG, "text/plain")
    assert response.status_code == 303, text(response.text)
    [finding] = stored_findings(town, audit_id)
    with town.storage.read() as connection:
        [[joined]] = internal_audits.attachments(connection, audit_id).values()
    assert (joined.finding_id, joined.kind, joined.size) == (finding.id, "png", len(PNG))
    address = f"{town.url}/audits/{audit_id}/attachments/{joined.id}"
    assert (
        f'href="/audits/{audit_id}/attachments/{joined.id}"'
        in first.get(f"{town.url}/audits/{audit_id}").text
    )
    served = sign_in(town, CHEF).get(address)
    assert (served.status_code, served.content) == (200, PNG)
    assert served.headers["content-type"] == "image/png"
    assert served.headers["content-disposition"].startswith("attachment;")
    assert served.headers["x-content-type-options"] == "nosniff"
    for who in (OUTSIDER, OTHER_CHEF, ADMIN):
        assert sign_in(town, who).get(address).status_code == 403, who
    # Another audit's address does not reach this audit's file.
    other = plan_audit(town, sign_in(town, QUALITY), service="etat-civil")
    assert (
        sign_in(town, QUALITY).get(f"{town.url}/audits/{other}/attachments/{joined.id}").status_code
        == 404
    )
    [event] = events(town, "internal_audit.finding_recorded")
    assert event.details["attachment"] == "png"


def test_a_scanned_report_of_several_megabytes_is_taken_but_no_other_form_takes_as_much(town):
    """A scan or a phone's photo weighs megabytes: the findings form takes one up to the
    attachment limit, though every other route keeps the server's smaller body limit."""
    audit_id = plan_audit(town, sign_in(town, QUALITY))
    scan = b"%PDF-1.7\n" + b"0" * 3_000_000
    response = attach(town, sign_in(town, FIRST), audit_id, "scan.pdf", scan, "application/pdf")
    assert response.status_code == 303, text(response.text)
    with town.storage.read() as connection:
        [[joined]] = internal_audits.attachments(connection, audit_id).values()
    assert (joined.kind, joined.size) == ("pdf", len(scan))
    quality = sign_in(town, QUALITY)
    token = form_token(quality.get(f"{town.url}/actions").text)
    refused = quality.post(
        f"{town.url}/actions", data={"title": "x" * 3_000_000, "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert refused.status_code == 413


@pytest.mark.parametrize(
    ("name", "content", "media"),
    [
        ("photo.png", b"GIF89a" + b"\x00" * 64, "image/png"),  # a GIF named as a PNG
        ("rapport.pdf", b"<html><script>alert(1)</script>", "application/pdf"),
        ("grand.png", PNG + b"\x00" * 5_100_000, "image/png"),
    ],
)
def test_a_file_of_another_kind_or_too_big_is_refused_and_nothing_stored(
    town, name, content, media
):
    audit_id = plan_audit(town, sign_in(town, QUALITY))
    response = attach(town, sign_in(town, FIRST), audit_id, name, content, media)
    assert response.status_code in (400, 413)
    assert stored_findings(town, audit_id) == []
    with town.storage.read() as connection:
        assert internal_audits.attachments(connection, audit_id) == {}


def test_a_file_just_over_the_limit_is_refused_with_the_page(town):
    audit_id = plan_audit(town, sign_in(town, QUALITY))
    limit = attachment_limit(town.app.state.settings)
    response = attach(town, sign_in(town, FIRST), audit_id, "a.png", PNG.ljust(limit + 1, b"\0"),
                      "image/png")  # fmt: skip
    assert response.status_code == 400
    assert "trop volumineux" in text(response.text)
    assert stored_findings(town, audit_id) == []


def test_the_administrator_creates_an_auditor_account_that_a_pair_may_name(town):
    admin = sign_in(town, ADMIN)
    data = {"username": "n.auditrice", "role": "internal_auditor", "services": ["iris"]}
    response = post(town, admin, "/admin/users/create", data, page="/admin/users")
    assert response.status_code in (200, 303), text(response.text)
    with town.storage.read() as connection:
        account = users.get(connection, "n.auditrice")
        pairable = internal_audits.auditors(connection)
    assert (account.role, account.services) == ("internal_auditor", [])
    assert "n.auditrice" in pairable
    assert "Auditeur·rice interne" in text(admin.get(f"{town.url}/admin/users").text)
