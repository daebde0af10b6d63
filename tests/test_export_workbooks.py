"""The exports as a French quality manager opens them in LibreOffice or Excel: one sheet per
topic, words instead of codes, local date cells, units, fitted columns, filters, a frozen
header, a data dictionary, and a file named with its period and service."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from qualivilles.bundled import bundled_surveys
from sync_server import i18n
from sync_server.indicators import catalogue
from sync_server.web import tables
from tests.fixtures.server import SERVICE, SITE, log_in_client
from tests.tools.desk_records import answers, served

MONTH = "2026-12"
# 23:30 UTC on 30 November is 00:30 on 1 December in Paris: a December answer.
LATE = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
CODE_HEADERS = {"Code du site", "Code du service", "Code de l'indicateur", "Code de la raison",
                "Code de la durée", "Id. de la réponse", "Id. du passage", "N°"}  # fmt: skip
SHEETS_FR = ["Indicateurs", "Attente", "Raisons", "Attente déclarée", "Verbatims", "Dictionnaire"]
SHEETS_EN = ["Indicators", "Waiting", "Reasons", "Said wait", "Verbatims", "Dictionary"]


def known_codes() -> set[str]:
    """Every code a reader must never meet in a visible cell."""
    codes = {SITE, SERVICE, "etat-civil", "True", "False", "complete", "partial", "kiosk",
             "phone", "tablet", "served", "walked_out", "waiting", "unknown", "below_min_n",
             "no_data", "more_answers_than_visitors", *catalogue.MEASURES}  # fmt: skip
    for survey in bundled_surveys():
        for question in survey.questions:
            codes.add(question.id)
            codes.update(choice.id for choice in question.choices)
    return codes


@pytest.fixture
def desk(app_client):
    """December at IRIS: an unhappy phone-style answer at 00:30 Paris time on 1 December (the
    wait, the welcome; 15 to 30 minutes), 7 satisfied answers, 5 served visits."""
    storage = app_client.app.state.storage
    answers(storage, ["dissatisfied"], LATE, survey_version=3,
            answers={"overall": "dissatisfied", "why_unhappy": ["waiting", "welcome"],
                     "wait_band": "15to30"})  # fmt: skip
    answers(storage, ["satisfied"] * 7, DECEMBER, survey_version=3)
    served(storage, [3, 5, 7, 9, 31], DECEMBER)
    log_in_client(app_client, "qualite")
    return app_client


def workbook(client, path: str):
    response = client.get(path)
    assert response.status_code == 200, response.text[:300]
    return load_workbook(io.BytesIO(response.content))


def rows(sheet) -> list[tuple]:
    return list(sheet.iter_rows(values_only=True))


def test_the_indicators_workbook_has_a_sheet_per_topic_each_ready_to_filter(desk):
    book = workbook(desk, f"/export/indicators.xlsx?kind=month&period={MONTH}")
    assert book.sheetnames == SHEETS_FR
    for sheet in book.worksheets:
        header = next(sheet.iter_rows(max_row=1))
        last = get_column_letter(len(header))
        assert str(sheet.freeze_panes).endswith("2"), sheet.title
        assert sheet.auto_filter.ref == f"A1:{last}{sheet.max_row}", sheet.title
        assert all(cell.font.b for cell in header), sheet.title
        for index in range(1, len(header) + 1):
            width = sheet.column_dimensions[get_column_letter(index)].width
            assert 8 <= width <= 50, (sheet.title, index)
    # The indicator's name is kept in view when scrolling sideways.
    assert book["Indicateurs"].freeze_panes == "E2"
    english = workbook(desk, f"/export/indicators.xlsx?kind=month&period={MONTH}&lang=en")
    assert english.sheetnames == SHEETS_EN
    assert rows(english["Indicators"])[0][:5] == ("Period", "Site", "Service", "Indicator", "Value")


def test_the_dictionary_names_every_column_of_every_sheet(desk):
    for what in ("indicators", "answers", "visits"):
        book = workbook(desk, f"/export/{what}.xlsx?kind=month&period={MONTH}")
        *sheets, dictionary = book.worksheets
        assert dictionary.title == "Dictionnaire"
        listed = [(r[0], r[1]) for r in rows(dictionary)[1:]]
        assert listed == [(s.title, h) for s in sheets for h in rows(s)[0]], what
        assert all(r[2] for r in rows(dictionary)[1:]), what  # each column has a meaning


def test_figures_are_numbers_in_their_unit_with_the_unit_shown(desk):
    book = workbook(desk, f"/export/indicators.xlsx?kind=month&period={MONTH}")
    lines = rows(book["Indicateurs"])
    column = {name: i for i, name in enumerate(lines[0])}
    key, site = column["Code de l'indicateur"], column["Code du site"]
    wanted = ("satisfaction_rate", SITE, SERVICE)
    [overall] = [r for r in lines if (r[key], r[site], r[-1]) == wanted]
    assert overall[column["Valeur"]] == 87.5  # 7 of 8
    assert (overall[1], overall[2]) == ("Centre administratif municipal", "IRIS – guichet unique")
    assert overall[0] == "Décembre 2026"
    [row] = [r for r in book["Indicateurs"].iter_rows(min_row=2)
             if (r[key].value, r[site].value, r[-1].value) == wanted]  # fmt: skip
    assert row[column["Valeur"]].number_format == '0.0" %"'
    text = desk.get(f"/export/indicators.csv?kind=month&period={MONTH}").content
    lines = list(csv.DictReader(io.StringIO(text.decode("utf-8-sig")), delimiter=";"))
    [line] = [r for r in lines if (r["Code de l'indicateur"], r["Code du service"]) == (
        "satisfaction_rate", SERVICE) and r["Code du site"] == SITE]  # fmt: skip
    assert line["Valeur"] == "87,5"
    # The wait commitment: the threshold, then each wait figure with its target and gap.
    waits = rows(book["Attente"])
    header = waits[0]
    assert header[3] == "Délai d'attente du service (min)"
    assert "Reçus dans le délai d'engagement (%)" in header
    assert "Reçus dans le délai d'engagement : objectif (%)" in header
    assert "Attente au 90e centile : écart (min)" in header
    [iris] = waits[1:]
    values = dict(zip(header, iris, strict=True))
    assert values["Reçus dans le délai d'engagement (%)"] == 80.0  # 4 of 5 within IRIS's 10 min
    assert values["Attente médiane (min)"] == 7.0
    assert values["Passages servis, attente mesurée (N)"] == 5


def test_reasons_and_said_waits_have_their_sheets(desk):
    book = workbook(desk, f"/export/indicators.xlsx?kind=month&period={MONTH}")
    reasons = rows(book["Raisons"])
    assert reasons[0][3:8] == ("Rang", "Raison", "Citations", "Part des raisons citées (%)",
                               "Part cumulée (%)")  # fmt: skip
    said = rows(book["Attente déclarée"])
    assert said[0][3:7] == ("Attente déclarée", "Réponses",
                            "Réponses liées à un passage mesuré (N)",
                            "Attente médiane mesurée (min)")  # fmt: skip
    for line in reasons[1:]:
        assert line[4] in {"L'attente", "L'accueil", "La réponse apportée", "Les locaux",
                           "Les horaires", "Autre chose"}  # fmt: skip


def test_an_answer_reads_in_words_at_the_town_time(desk):
    book = workbook(desk, f"/export/answers.xlsx?kind=month&period={MONTH}")
    assert book.sheetnames == ["Réponses", "Dictionnaire"]
    sheet = book["Réponses"]
    header = rows(sheet)[0]
    first = next(sheet.iter_rows(min_row=2, max_row=2))
    assert first[0].is_date
    assert first[0].value == datetime(2026, 12, 1, 0, 30)
    assert first[0].number_format == "dd/mm/yyyy hh:mm"
    values = dict(zip(header, [cell.value for cell in first], strict=True))
    assert values["Êtes-vous satisfait(e) de l'accueil aujourd'hui ?"] == "Peu satisfait"
    assert values["Qu'est-ce qui n'a pas été ?"] == "L'attente, L'accueil"
    assert values["Combien de temps avez-vous attendu ?"] == "15 à 30 minutes"
    assert (values["Canal"], values["Langue"], values["Statut"], values["Suspect"]) == (
        "Borne", "français", "Complète", "non")  # fmt: skip
    assert header[0] == "Date et heure"
    assert not any("UTC" in str(h) for h in header)
    # The dictionary says what each question column may hold.
    words = {r[1]: r[4] for r in rows(book["Dictionnaire"])[1:]}
    assert "L'attente" in words["Qu'est-ce qui n'a pas été ?"]
    # CSV: the town's day and time, day first in French, ISO in English.
    french = desk.get(f"/export/answers.csv?kind=month&period={MONTH}").content
    line = french.decode("utf-8-sig").splitlines()[1]
    assert line.startswith("01/12/2026 00:30;")
    english = desk.get(f"/export/answers.csv?kind=month&period={MONTH}&lang=en").content
    assert english.decode("utf-8-sig").splitlines()[1].startswith("2026-12-01 00:30,")


def test_no_code_shows_outside_the_code_columns(desk):
    codes = known_codes()
    for path in (f"/export/answers.xlsx?kind=month&period={MONTH}",
                 f"/export/visits.xlsx?kind=month&period={MONTH}",
                 f"/export/indicators.xlsx?kind=month&period={MONTH}",
                 "/comments/export.xlsx"):  # fmt: skip
        book = workbook(desk, path)
        for sheet in book.worksheets:
            lines = rows(sheet)
            hidden = {i for i, h in enumerate(lines[0]) if h in CODE_HEADERS}
            for line in lines:
                shown = [v for i, v in enumerate(line) if i not in hidden]
                assert not [v for v in shown if v is True or v is False], (path, sheet.title)
                assert not codes & {str(v) for v in shown}, (path, sheet.title, line)


def test_a_visit_has_local_date_cells_and_an_outcome_in_words(desk):
    sheet = workbook(desk, f"/export/visits.xlsx?kind=month&period={MONTH}")["Passages"]
    header, *lines = rows(sheet)
    assert header[:2] == ("Arrivée", "Site")
    assert "Attente (min)" in header
    values = dict(zip(header, lines[0], strict=True))
    assert values["Arrivée"] == datetime(2026, 12, 3, 10, 0)  # 9:00 UTC, 10:00 in Paris
    assert values["Issue"] == "Reçu"


def test_the_file_is_named_with_its_period_and_service(desk):
    response = desk.get(f"/export/indicators.xlsx?kind=month&period={MONTH}&service={SERVICE}")
    assert (
        f'filename="indicateurs-{MONTH}-{SERVICE}.xlsx"' in response.headers["content-disposition"]
    )
    response = desk.get(f"/export/answers.csv?kind=month&period={MONTH}")
    disposition = response.headers["content-disposition"]
    assert f'filename="reponses-{MONTH}.csv"' in disposition
    assert f"filename*=UTF-8''r%C3%A9ponses-{MONTH}.csv" in disposition
    english = desk.get(f"/export/visits.csv?kind=month&period={MONTH}&site={SITE}&lang=en")
    assert f'filename="visits-{MONTH}-{SITE}.csv"' in english.headers["content-disposition"]


texts = st.text(alphabet=st.sampled_from(list("=+-@ ;,\"'\tab\r\n1")), min_size=1, max_size=12)


# A workbook is a zip file written and read back: no deadline on a busy machine.
@settings(deadline=None, max_examples=50)
@given(st.lists(st.lists(texts, min_size=1, max_size=4), min_size=1, max_size=4))
def test_no_text_cell_of_a_workbook_is_a_formula(lines):
    width = max(len(line) for line in lines)
    sheet = tables.Sheet("t", [tables.Column(text) for text in lines[0]] + [tables.Column("x")]
                         * (width + 1 - len(lines[0])), lines)  # fmt: skip
    book = load_workbook(io.BytesIO(tables.to_workbook([sheet], tables.FRENCH)))
    for row in book.active.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.value
            text = "" if cell.value is None else str(cell.value)
            assert not text.lstrip(' "').startswith(("=", "+", "-", "@")), text


EXPORT_MODULES = [
    Path(__file__).parents[1] / "sync_server" / "web" / f"{name}.py"
    for name in ("figure_sheets", "record_sheets", "export_words", "pages/exports")
]


def test_every_export_word_has_an_english_translation():
    english = i18n.catalog("en")
    missing = []
    for path in EXPORT_MODULES:
        keywords = {"_": None, "gettext": None, "N_": None, "with_unit": None}
        for _line, message, _comments, _context in extract_from_file("python", path, keywords):
            key = message if isinstance(message, str) else message[0]
            entry = english.get(key)
            if entry is None or not entry.string:
                missing.append(key)
    assert missing == []


def test_the_verbatims_sheet_quotes_masked_comments_never_a_held_one(app_client):
    storage = app_client.app.state.storage
    answers(storage, ["satisfied"], DECEMBER, comment="Dossier 0612 345 678 réglé, merci.")
    answers(storage, ["satisfied"], DECEMBER, comment="Merci à Mme Durand, très claire.")
    answers(storage, ["dissatisfied"], DECEMBER, comment="Guichet fermé sans prévenir.")
    answers(storage, ["very_dissatisfied"], DECEMBER, comment="Bande de connards incompétents.")
    log_in_client(app_client, "qualite")
    response = app_client.get(f"/export/indicators.xlsx?kind=month&period={MONTH}&lang=fr")
    sheet = load_workbook(io.BytesIO(response.content))["Verbatims"]
    header, *lines = list(sheet.iter_rows(values_only=True))
    text = header.index("Commentaire")
    quoted = sorted(line[text] for line in lines)
    # The insult and the agent named wait for the quality manager's review: no document quotes
    # them, not even hers.
    assert quoted == ["Dossier ▒▒▒ réglé, merci.", "Guichet fermé sans prévenir."]
    assert {line[header.index("Avis")] for line in lines} == {"Satisfait", "Insatisfait"}
    assert isinstance(lines[0][header.index("Reçu le")], datetime)
