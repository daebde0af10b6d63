"""Published survey definitions, one row per id × version, never changed in place.

The current survey (sent to every device and used by the phone survey) is the version an
administrator chose on the surveys page, kept in `town_settings`; until one was chosen it is
the most recently published version, so a software update's new bundled version takes over.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from qualivilles.bundled import bundled_surveys, load_default_survey
from qualivilles.protocol import canonical_json, payload_hash
from qualivilles.survey import SurveyDefinition, parse_definition
from sync_server.storage import db, schema
from sync_server.storage.db import utcnow
from sync_server.storage.errors import StorageError, SurveyVersionChanged

CURRENT_KEY = "current_survey"  # town_settings key: {"id": …, "version": …} as JSON


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


def publish_bundled(connection: Connection) -> None:
    """Every version shipped in assets/surveys/, so that answers to older ones stay valid; those
    already published are left as they are."""
    for survey in bundled_surveys():
        publish(connection, survey)


def get(connection: Connection, survey_id: str, version: int) -> SurveyDefinition | None:
    table = schema.surveys
    text = connection.scalar(
        sa.select(table.c.definition).where(table.c.id == survey_id, table.c.version == version)
    )
    return None if text is None else _parsed(text, f"{survey_id} v{version}")


# Published versions never change in place (`publish` refuses it), so each engine keeps those it
# has read: ingestion and projection look a survey up once per batch without a query.
_PUBLISHED: weakref.WeakKeyDictionary[Engine, dict[tuple[str, int], SurveyDefinition]] = (
    weakref.WeakKeyDictionary()
)


def remembered(connection: Connection, survey_id: str, version: int) -> SurveyDefinition | None:
    """As `get`, remembered per engine once found (an unpublished version is asked again)."""
    known = _PUBLISHED.setdefault(connection.engine, {})
    key = (survey_id, version)
    if key not in known:
        found = get(connection, survey_id, version)
        if found is None:
            return None
        known[key] = found
    return known[key]


def published_version(engine: Engine, survey_id: str, version: int) -> SurveyDefinition | None:
    """As `remembered`, reading the database only when this version was not found before (an
    upload is checked before its transaction opens)."""
    known = _PUBLISHED.get(engine, {})
    if (survey_id, version) in known:
        return known[(survey_id, version)]
    with db.read(engine) as connection:
        return remembered(connection, survey_id, version)


@lru_cache(maxsize=64)
def _parsed(text: str, source: str) -> SurveyDefinition:
    # Every upload batch needs its survey: parse each stored definition once (models are frozen).
    return parse_definition(json.loads(text), source)


def current(connection: Connection) -> SurveyDefinition:
    """The current survey version (one survey for every desk, for now; see the module doc), or
    the bundled default while none is published."""
    key = current_key(connection)
    survey = None if key is None else get(connection, *key)
    return survey if survey is not None else load_default_survey()


def _latest_key(connection: Connection) -> tuple[str, int] | None:
    table = schema.surveys
    row = connection.execute(
        sa.select(table.c.id, table.c.version)
        .order_by(table.c.published_at.desc(), table.c.version.desc())
        .limit(1)
    ).first()
    return None if row is None else (row.id, row.version)


def _chosen_key(connection: Connection) -> tuple[str, int] | None:
    table = schema.town_settings
    text = connection.scalar(sa.select(table.c.value).where(table.c.key == CURRENT_KEY))
    if text is None:
        return None
    try:
        chosen = json.loads(text)
        key = (str(chosen["id"]), int(chosen["version"]))
    except (ValueError, TypeError, KeyError):
        return None
    return key if _stored(connection, *key) else None


def _stored(connection: Connection, survey_id: str, version: int) -> bool:
    table = schema.surveys
    found = connection.scalar(
        sa.select(table.c.id).where(table.c.id == survey_id, table.c.version == version)
    )
    return found is not None


def current_key(connection: Connection) -> tuple[str, int] | None:
    """(id, version) of the current survey: the chosen one, else the latest published."""
    return _chosen_key(connection) or _latest_key(connection)


# -- the surveys page: list, publish an uploaded version, choose the current one -------------


class UnknownSurvey(StorageError):
    pass


class ReservedSurveyId(StorageError):
    """The id is the bundled survey's: its versions come with software updates, and an
    uploaded version of it would collide with a later update's file of the same number."""


@dataclass(frozen=True)
class PublishedSurvey:
    id: str
    version: int
    languages: tuple[str, ...]
    questions: int
    content_hash: str
    published_at: datetime
    current: bool
    bundled: bool


def reserved_ids() -> set[str]:
    return {survey.id for survey in bundled_surveys()}


def published(connection: Connection) -> list[PublishedSurvey]:
    """Every published version, newest publication first, the current one flagged."""
    table = schema.surveys
    rows = connection.execute(
        sa.select(table).order_by(table.c.published_at.desc(), table.c.version.desc())
    ).all()
    key = current_key(connection)
    bundled = {(s.id, s.version): content_hash(s) for s in bundled_surveys()}
    result = []
    for row in rows:
        survey = _parsed(row.definition, f"{row.id} v{row.version}")
        result.append(
            PublishedSurvey(
                id=row.id,
                version=row.version,
                languages=tuple(survey.languages),
                questions=len(survey.questions),
                content_hash=row.content_hash,
                published_at=row.published_at,
                current=(row.id, row.version) == key,
                bundled=bundled.get((row.id, row.version)) == row.content_hash,
            )
        )
    return result


def use(connection: Connection, survey_id: str, version: int) -> None:
    """Make a published version the current one; UnknownSurvey if it was never published."""
    if not _stored(connection, survey_id, version):
        raise UnknownSurvey(f"{survey_id} v{version}")
    table = schema.town_settings
    value = json.dumps({"id": survey_id, "version": version})
    changed = connection.execute(
        sa.update(table).where(table.c.key == CURRENT_KEY).values(value=value)
    )
    if changed.rowcount == 0:
        connection.execute(sa.insert(table).values(key=CURRENT_KEY, value=value))


def publish_and_use(connection: Connection, survey: SurveyDefinition) -> bool:
    """Publish an uploaded version and make it current; False (and nothing changed) if this
    very content is already published. Raises ReservedSurveyId or SurveyVersionChanged."""
    if survey.id in reserved_ids():
        raise ReservedSurveyId(survey.id)
    if not publish(connection, survey):
        return False
    use(connection, survey.id, survey.version)
    return True


def stored_text(connection: Connection, survey_id: str, version: int) -> str | None:
    """A published version's definition exactly as stored (JSON text); None if unknown."""
    table = schema.surveys
    return connection.scalar(
        sa.select(table.c.definition).where(table.c.id == survey_id, table.c.version == version)
    )


def answered(
    connection: Connection, first: date, last: date, services: Sequence[str] | None = None
) -> list[tuple[str, int]]:
    """The survey versions answered between the local days `first` and `last` (included), at
    the desks of `services` (None: every one), by id and version."""
    t = schema.item_days
    query = (
        sa.select(t.c.survey_id, t.c.survey_version)
        .where(t.c.day >= first, t.c.day <= last)
        .distinct()
    )
    if services is not None:
        query = query.where(t.c.service.in_(list(services)))
    return sorted((row.survey_id, row.survey_version) for row in connection.execute(query))
