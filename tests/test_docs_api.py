"""What docs/api.md tells an integrator is what the code does."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from qualivilles.protocol import AnswerPayload, RecordIn, VisitEventPayload, canonical_json

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
