"""The routes an app serves, flat, whatever FastAPI version built it."""

from __future__ import annotations

from typing import Any

from fastapi import routing


def served_routes(app: Any) -> list[Any]:
    """Every route of `app.routes`; recent FastAPI keeps an included router as one entry, which
    `iter_route_contexts` opens (older versions list the routes flat)."""
    flatten = getattr(routing, "iter_route_contexts", iter)
    return list(flatten(app.routes))
