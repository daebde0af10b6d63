"""A CSV export read with either separator never makes a formula out of a text cell."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_server.web.tables import to_csv
from tests.fixtures.server import log_in_client

SEPARATORS = [";", ","]


def formula(cell: str) -> bool:
    """Whether a spreadsheet could read the cell as a formula, even behind spaces, quotes, tabs
    or line breaks (which a spreadsheet may strip)."""
    return cell.lstrip(' "\t\r\n').startswith(("=", "+", "-", "@"))


def read(body: bytes, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), delimiter=delimiter))


@pytest.mark.parametrize("written", SEPARATORS)
@pytest.mark.parametrize("read_with", SEPARATORS)
def test_a_ticket_holding_a_formula_between_commas_stays_one_text_cell(written, read_with):
    body = to_csv(["Ticket", "Attente"], [["abc,=2+5,", 12.5]], delimiter=written)
    cells = [cell for row in read(body, read_with) for cell in row]
    assert "=2+5" not in cells
    assert not any(formula(cell) for cell in cells)


texts = st.text(alphabet=st.sampled_from(list("=+-@ ;,\"'\tab\r\n1")), min_size=1, max_size=12)


@given(st.lists(st.lists(texts, min_size=1, max_size=4), min_size=1, max_size=4))
def test_no_text_cell_starts_a_formula_whichever_separator_reads_it(rows):
    for written in SEPARATORS:
        body = to_csv(["a"] * max(len(r) for r in rows), rows, delimiter=written)
        for read_with in SEPARATORS:
            for row in read(body, read_with)[1:]:
                assert not any(formula(cell) for cell in row), (written, read_with, row)
        # Read with its own separator, every cell comes back whole, apostrophes aside.
        back = read(body, written)[1:]
        assert [[c.replace("'", "") for c in r] for r in back] == [
            [c.replace("'", "") for c in row] + [""] * (len(r) - len(row))
            for r, row in zip(back, rows, strict=True)
        ]


def test_numbers_stay_unquoted_numbers():
    body = to_csv(["n"], [[92.5], [-1.5]], delimiter=";", decimal=",").decode("utf-8-sig")
    assert body.splitlines()[1:] == ["92,5", "-1,5"]


def test_the_answers_export_quotes_a_hostile_ticket(app_client):
    """Through the real export: a ticket typed on a tablet reaches the visits CSV quoted."""
    from datetime import UTC, datetime

    from tests.tools.desk_records import served

    storage = app_client.app.state.storage
    served(storage, [3.0], datetime.now(UTC))
    log_in_client(app_client, "qualite")
    body = app_client.get("/export/visits.csv").content
    for read_with in SEPARATORS:
        for row in read(body, read_with):
            assert not any(formula(cell) for cell in row), row
