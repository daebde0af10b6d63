"""The service page's waiting-time section in a real browser (Debian's Chromium via Playwright).

The live server holds the seeded demo data plus a busy month of measured visits at IRIS, some
linked to a phone answer. The mean wait expected on the page is counted here from the generated
records, independently of the indicator code. Screenshot: docs/screens/dashboard-service-waits.png.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from qualivilles.protocol import RecordKind
from sync_server.indicators.periods import containing
from sync_server.storage import Source, uploads
from tests.fixtures.browser import SCREENS
from tests.fixtures.server import PASSWORD, SERVICE, SITE, answer_payload, make_record

pytestmark = pytest.mark.browser
PARIS = ZoneInfo("Europe/Paris")

# Longer waits at the morning rush and after lunch, as at a real one-stop desk.
BUSY_HOURS = {9: 2.0, 10: 1.6, 14: 1.8}


def busy_month(month_start: date, seed: int = 6) -> tuple[list, list]:
    """(tablet records, linked phone answers) for every weekday of the month, 8:30–17:30."""
    rng = random.Random(seed)
    visits, answers = [], []
    day = month_start
    while day.month == month_start.month:
        if day.weekday() < 5:
            for _ in range(rng.randint(18, 30)):
                minute = rng.randrange(8 * 60 + 30, 17 * 60 + 30)
                arrived = datetime(day.year, day.month, day.day, minute // 60, minute % 60,
                                   tzinfo=PARIS)  # fmt: skip
                factor = BUSY_HOURS.get(arrived.hour, 1.0) * (1.3 if day.weekday() == 0 else 1)
                wait = round(min(60.0, rng.lognormvariate(1.3, 0.5) * factor), 1)
                walked = wait > 15 and rng.random() < 0.3
                event = "walked_out" if walked else "taken_in_charge"
                visit_id = str(uuid.uuid4())
                visits.append(make_record({"visit_id": visit_id, "event": "arrived"},
                                          RecordKind.VISIT_EVENT, arrived))  # fmt: skip
                visits.append(make_record(
                    {"visit_id": visit_id, "event": event, "wait_seconds": wait * 60},
                    RecordKind.VISIT_EVENT, arrived + timedelta(minutes=wait)))  # fmt: skip
                if not walked and rng.random() < 0.35:
                    happy = rng.random() < max(0.25, 0.97 - wait / 40)
                    choice = rng.choice(["satisfied", "very_satisfied"] if happy else
                                        ["dissatisfied", "very_dissatisfied"])  # fmt: skip
                    payload = answer_payload(choice, channel="phone", visit_id=visit_id)
                    answers.append(make_record(payload, at=arrived + timedelta(minutes=wait + 8)))
        day += timedelta(days=1)
    return visits, answers


def served_minutes(records, month_start: date) -> list[float]:
    """Measured waits of visits served at IRIS that arrived in the month, from raw records."""
    arrivals, waits = {}, {}
    for record in records:
        payload = record.payload
        if payload["event"] == "arrived":
            arrivals[payload["visit_id"]] = record.device_time.astimezone(PARIS)
        elif payload["event"] == "taken_in_charge" and "wait_seconds" in payload:
            waits[payload["visit_id"]] = payload["wait_seconds"] / 60
    return [
        wait
        for visit_id, wait in waits.items()
        if (arrivals[visit_id].year, arrivals[visit_id].month)
        == (month_start.year, month_start.month)
    ]


def test_quality_manager_reads_the_waits_of_a_busy_desk(browser, demo_server):
    live_server, data = demo_server
    storage = live_server.storage
    month = containing("month", datetime.now(PARIS).date()).previous()
    visits, answers = busy_month(month.start)
    uploads.store_batch(storage, visits, Source(site=SITE, service=SERVICE, channel="tablet"))
    uploads.store_batch(storage, answers, Source(site=SITE, service=SERVICE, channel="phone"))

    tablet_records = [r for b in data.batches if (b.site, b.service, b.source) ==
                      (SITE, SERVICE, "tablet") for r in b.records]  # fmt: skip
    waits = served_minutes(tablet_records + visits, month.start)
    mean = f"{sum(waits) / len(waits):.1f}".replace(".", ",")

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Identifiant").fill("qualite")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()
    page.goto(f"{live_server.url}/service/{SERVICE}?kind=month&period={month.key}")

    section = page.locator("section.waits")
    expect(section.get_by_role("heading", name="Temps d'attente")).to_be_visible()
    mean_row = section.locator('tr[data-figure="mean_wait_minutes"] td').first
    expect(mean_row).to_have_text(f"{mean} min")
    heatmap = section.get_by_role("img", name="Attente moyenne par heure et jour d'arrivée")
    expect(heatmap).to_be_visible()
    bands = section.get_by_role("img", name="Satisfaction selon l'attente mesurée")
    expect(bands).to_be_visible()
    expect(section.locator("table.wait-bands tbody tr").first).to_contain_text("moins de 5 min")
    SCREENS.mkdir(parents=True, exist_ok=True)
    section.screenshot(path=str(SCREENS / "dashboard-service-waits.png"))

    # The table equivalent of the heatmap opens from its summary, keyboard or mouse.
    summary = section.get_by_text("Voir le tableau des arrivées et des attentes par heure")
    summary.focus()
    page.keyboard.press("Enter")
    table = section.locator("details.heat-table table")
    expect(table).to_be_visible()
    expect(table.locator("tbody tr").first.locator("th")).to_have_text("lundi")
    context.close()
