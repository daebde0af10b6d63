"""The JSON Schema of a survey definition, for whoever writes or checks one outside Python.

The schema is derived from `qualivilles.survey.SurveyDefinition`, so it cannot drift from what
the kiosk and the server load; `docs/survey-definition.schema.json` is its published copy:

    python -m qualivilles.survey_schema > docs/survey-definition.schema.json

A definition that fits the schema may still be refused for what a schema cannot say (a
`show_if` naming a later question, smiley levels with a gap…): `parse_definition` says which.
"""

from __future__ import annotations

import json
from typing import Any

from qualivilles.survey import SurveyDefinition

SCHEMA_ID = "https://qualivilles.example/schemas/survey-definition.schema.json"


def survey_json_schema() -> dict[str, Any]:
    schema = _closed(SurveyDefinition.model_json_schema())
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "Survey definition",
        "description": (
            "One published version of a survey, as in assets/surveys/<id>.v<version>.json. "
            "Rules beyond this schema: docs/api.md, 'Survey definitions'."
        ),
    }


def _closed(node: Any) -> Any:
    """Texts by language (`{"fr": …}`) admit no other key, as the models check: pydantic writes
    their key pattern as `patternProperties` without closing the object."""
    if isinstance(node, dict):
        if "patternProperties" in node:
            node.setdefault("additionalProperties", False)
        for value in node.values():
            _closed(value)
    elif isinstance(node, list):
        for value in node:
            _closed(value)
    return node


def main() -> None:
    print(json.dumps(survey_json_schema(), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
