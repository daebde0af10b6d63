"""An API answer against the OpenAPI document the server serves: every object has exactly the
properties its schema lists (none missing, none undocumented), down to the last nested one,
with its values of the documented JSON types."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def answer_schema(app: FastAPI, path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The 200 answer's schema of `GET path`, and the document's components to resolve it."""
    document = app.openapi()
    schema = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    return schema["schema"], document["components"]["schemas"]


def assert_documented(
    value: Any, schema: dict[str, Any], components: dict[str, Any], at: str = "$"
) -> None:
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in schema:
        kinds = [s for s in schema["anyOf"] if s.get("type") != "null"]
        if value is None:
            assert len(kinds) < len(schema["anyOf"]), f"{at}: null, not documented as nullable"
            return
        assert len(kinds) == 1, f"{at}: several non-null kinds, not handled here"
        schema = kinds[0]
        if "$ref" in schema:
            schema = components[schema["$ref"].rsplit("/", 1)[1]]
    kind = schema.get("type")
    assert kind is not None, f"{at}: the document gives no type ({schema})"
    assert isinstance(value, JSON_TYPES[kind]), f"{at}: {value!r} is not {kind}"
    assert not (kind in ("integer", "number") and isinstance(value, bool)), f"{at}: a boolean"
    if kind == "array":
        for index, item in enumerate(value):
            assert_documented(item, schema["items"], components, f"{at}[{index}]")
    elif kind == "object" and "properties" in schema:
        documented = set(schema["properties"])
        assert set(value) == documented, (
            f"{at}: undocumented {sorted(set(value) - documented)},"
            f" missing {sorted(documented - set(value))}"
        )
        for name, item in value.items():
            assert_documented(item, schema["properties"][name], components, f"{at}.{name}")
    elif kind == "object":
        inner = schema.get("additionalProperties")
        assert isinstance(inner, dict), f"{at}: an object the document does not describe"
        for name, item in value.items():
            assert_documented(item, inner, components, f"{at}.{name}")
