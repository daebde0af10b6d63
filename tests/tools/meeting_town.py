"""A town ready for a monthly meeting: its staff (quality manager, a service manager, the
administrator, an internal auditor), answers at two desks, an overdue action of one service and
an action of another due soon, an internal audit planned; and the quality manager planning a
meeting through the real form."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from pypdf import PdfReader

from sync_server.storage import internal_audits, plan
from tests.fixtures.server import SERVICE, AppServer, add_user
from tests.tools.desk_records import answers
from tests.tools.page_text import text
from tests.tools.staff_forms import post

QUALITY, CHEF, ADMIN, AUDITOR = "qualite", "chef-iris", "informatique", "auditrice"
ZONE = ZoneInfo("Europe/Paris")
TODAY = datetime.now(ZONE).date()
OVERDUE_ACTION, OTHER_SERVICES_ACTION = "Refaire la signalétique", "Former l'accueil"


def furnish(app_server: AppServer) -> AppServer:
    storage = app_server.storage
    add_user(storage, QUALITY, "quality_manager")
    add_user(storage, CHEF, "service_manager", [SERVICE])
    add_user(storage, ADMIN, "admin")
    add_user(storage, AUDITOR, "internal_auditor")
    at = datetime.now(UTC) - timedelta(days=2)
    answers(storage, ["very_satisfied"] * 5 + ["satisfied"] * 2 + ["dissatisfied"] * 2, at)
    answers(storage, ["satisfied"] * 6, at, desk=("hotel-de-ville", "etat-civil"))
    with storage.write() as connection:
        overdue = plan.Draft(OVERDUE_ACTION, "complaint", (SERVICE,),
                             due_on=TODAY - timedelta(days=10))  # fmt: skip
        plan.propose(connection, overdue, by=QUALITY)
        elsewhere = plan.Draft(OTHER_SERVICES_ACTION, "meeting", ("etat-civil",),
                               due_on=TODAY + timedelta(days=5))  # fmt: skip
        plan.propose(connection, elsewhere, by=QUALITY)
        internal_audits.add(connection, SERVICE, TODAY + timedelta(days=20), (QUALITY, AUDITOR),
                            by=QUALITY)  # fmt: skip
    return app_server


def plan_meeting(server, session, day: date = TODAY) -> int:
    response = post(server, session, "/meetings", {"planned_on": day.isoformat()}, page="/meetings")
    assert response.status_code == 303, text(response.text)
    return int(response.headers["location"].rsplit("/", 1)[1])


def pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
