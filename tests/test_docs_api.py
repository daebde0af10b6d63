"""What docs/api.md tells an integrator is what the code does."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from qualivilles.protocol import AnswerPayload, RecordIn, VisitEventPayload, canonical_json
from sync_server.indicators import catalogue
from sync_server.indicators.formulas import BANDS, Figure, band_label

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def section(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(title)
    following = re.search(r"^#{2,3} ", text[start + len(title) :], flags=re.MULTILINE)
    return text[start : start + len(title) + (following.start() if following else len(text))]


def canonical_examples() -> list[tuple[str, str]]:
    rows = re.findall(r"^\| `(.+?)` +\| `(.+?)` +\|$", section("### Canonical JSON"), re.M)
    return rows


def test_the_canonical_examples_are_read():
    assert len(canonical_examples()) >= 8


@pytest.mark.parametrize(("sent", "canonical"), canonical_examples())
def test_each_canonical_example_is_what_the_server_hashes(sent, canonical):
    assert canonical_json(json.loads(sent)) == canonical


@pytest.mark.parametrize(
    ("table", "model"),
    [("| record field", RecordIn), ("| answer field", AnswerPayload),
     ("| visit-event field", VisitEventPayload)],
)  # fmt: skip
def test_every_field_of_the_wire_models_is_in_its_table(table, model):
    text = section("### Every field and its bound")
    rows = text[text.index(table) :].split("\n\n", 1)[0]
    documented = re.findall(r"^\| `([a-z_]+)`", rows, flags=re.MULTILINE)
    assert documented == list(model.model_fields)


def test_every_field_of_a_figure_is_in_the_indicators_table():
    text = section("## Indicators: `GET /api/v1/indicators`")
    rows = text[text.index("| figure field") :].split("\n\n", 1)[0]
    documented = re.findall(r"^\| `([a-z_]+)`", rows, flags=re.MULTILINE)
    assert documented == [field.name for field in dataclasses.fields(Figure)]


def test_every_figure_key_is_documented_with_its_unit_and_what_n_counts():
    text = section("## Indicators: `GET /api/v1/indicators`")
    rows = text[text.index("| figure key") :].split("\n\n", 1)[0]
    documented = {
        key: (unit, counted)
        for keys, unit, counted in re.findall(
            r"^\| (`.+?`.*?) \| `(.+?)` \| `(.+?)` \|$", rows, flags=re.MULTILINE
        )
        for key in re.findall(r"`([a-z_:<>0-9]+)`", keys)
    }
    expected = {
        key: (spec.unit, spec.counted)
        for key, spec in catalogue.MEASURES.items()
        if key != "question_rate"  # documented as `question:<id>`
    }
    expected["question:<id>"] = (catalogue.MEASURES["question_rate"].unit, "expressed_answers")
    # The bands share a row: `satisfaction_rate_wait_0_5`, `_5_10`, `_10_20`, `_20_plus`.
    band = catalogue.measure(f"{catalogue.BAND_PREFIX}0_5")
    first, *others = [band_label(low, high) for low, high in BANDS]
    expected[f"{catalogue.BAND_PREFIX}{first}"] = (band.unit, band.counted)
    expected |= {f"_{label}": (band.unit, band.counted) for label in others}
    assert documented == expected
