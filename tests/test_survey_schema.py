"""The published JSON Schema of survey definitions: generated from the models, current, and
agreeing with them on what a definition's shape may be."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from qualivilles.bundled import SURVEYS_DIR
from qualivilles.survey import SurveyDefinition
from qualivilles.survey_schema import survey_json_schema

PUBLISHED = Path(__file__).resolve().parents[1] / "docs" / "survey-definition.schema.json"
BUNDLED = sorted(SURVEYS_DIR.glob("*.v*.json"))
VALIDATOR = jsonschema.Draft202012Validator(survey_json_schema())


def test_the_published_schema_is_the_generated_one():
    published = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    assert published == survey_json_schema(), (
        "regenerate: python -m qualivilles.survey_schema > docs/survey-definition.schema.json"
    )
    jsonschema.Draft202012Validator.check_schema(published)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_every_bundled_survey_fits_the_schema(path):
    VALIDATOR.validate(json.loads(path.read_text(encoding="utf-8")))


def fits_models(data: Any) -> bool:
    try:
        SurveyDefinition.model_validate(data)
    except ValidationError:
        return False
    return True


def paths(node: Any, here: tuple = ()) -> list[tuple]:
    """Every place in a JSON value: keys of objects and indexes of arrays."""
    found = [here]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*here, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*here, index))
    return found


BASE = json.loads(BUNDLED[-1].read_text(encoding="utf-8"))
PLACES = [place for place in paths(BASE) if place]
EDGES = [None, True, 0, -1, 11, 1.5, "", "FR", "x" * 501, "Not a slug", [], {}, {"FR": "a"}]


@settings(max_examples=300, deadline=None)
@given(
    place=st.sampled_from(PLACES),
    value=st.sampled_from(EDGES) | st.text(max_size=5) | st.integers(),
    extra_key=st.sampled_from([None, "colour", "FR", "fr"]),
)
def test_schema_and_models_agree_on_every_damaged_field(place, value, extra_key):
    data = copy.deepcopy(BASE)
    *parent_path, last = place
    parent = data
    for part in parent_path:
        parent = parent[part]
    parent[last] = value
    if extra_key and isinstance(parent, dict):
        parent[extra_key] = "texte"
    assert VALIDATOR.is_valid(data) == fits_models(data), (place, value, extra_key)
