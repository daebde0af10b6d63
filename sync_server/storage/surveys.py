"""Published survey definitions, one row per id × version, never changed in place."""

from __future__ import annotations

import json
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kiosk.core.protocol import canonical_json, payload_hash
from kiosk.core.survey import SurveyDefinition, parse_definition
from sync_server.storage import schema
from sync_server.storage.db import utcnow
from sync_server.storage.errors import SurveyVersionChanged


def definition_json(survey: SurveyDefinition) -> dict[str, object]:
    return survey.model_dump(mode="json", exclude_defaults=False)


def content_hash(survey: SurveyDefinition) -> str:
    return payload_hash(definition_json(survey))


def publish(connection: Connection, survey: SurveyDefinition) -> bool:
    """Store a survey version; True if new. Raises `SurveyVersionChanged` if it differs."""
    digest = content_hash(survey)
    table = schema.surveys
    existing = connection.scalar(
        sa.select(table.c.content_hash).where(
            table.c.id == survey.id, table.c.version == survey.version
        )
    )
    if existing == digest:
        return False
    if existing is not None:
        raise SurveyVersionChanged(
            f"survey {survey.id} v{survey.version} is already published with other content "
            f"(hash {existing[:12]}…, this one {digest[:12]}…); publish it as a new version"
        )
    connection.execute(
        table.insert().values(
            id=survey.id,
            version=survey.version,
            content_hash=digest,
            definition=canonical_json(definition_json(survey)),
            published_at=utcnow(),
        )
    )
    return True


def get(connection: Connection, survey_id: str, version: int) -> SurveyDefinition | None:
    table = schema.surveys
    text = connection.scalar(
        sa.select(table.c.definition).where(table.c.id == survey_id, table.c.version == version)
    )
    return None if text is None else _parsed(text, f"{survey_id} v{version}")


@lru_cache(maxsize=64)
def _parsed(text: str, source: str) -> SurveyDefinition:
    # Every upload batch needs its survey: parse each stored definition once (models are frozen).
    return parse_definition(json.loads(text), source)


def current(connection: Connection) -> SurveyDefinition | None:
    """The most recently published survey version (one survey for every desk, for now)."""
    table = schema.surveys
    row = connection.execute(
        sa.select(table.c.id, table.c.version)
        .order_by(table.c.published_at.desc(), table.c.version.desc())
        .limit(1)
    ).first()
    return None if row is None else get(connection, row.id, row.version)
