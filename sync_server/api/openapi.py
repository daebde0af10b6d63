"""The OpenAPI document, plus wire models that routes read by hand (e.g. `SyncRequest`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from qualivilles.protocol import SyncRequest

EXTRA_MODELS: list[type[BaseModel]] = [SyncRequest]


def install(app: FastAPI, models: list[type[BaseModel]] = EXTRA_MODELS) -> None:
    """Serve an OpenAPI document whose components also describe `models`."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for model in models:
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                for name, definition in schema.pop("$defs", {}).items():
                    schemas.setdefault(name, definition)
                schemas[model.__name__] = schema
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
