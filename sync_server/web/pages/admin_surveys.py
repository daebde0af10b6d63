"""Survey versions for the administrator and the quality manager: the published versions, the
current one (sent to devices and used by the phone survey), one version's questions, and a new
version published from an uploaded JSON definition (validated by `qualivilles.survey`).

A published version never changes: the same id and version with other content is refused.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from qualivilles.protocol import MAX_SAFE_INTEGER
from qualivilles.survey import SurveyDefinition, SurveyDefinitionError, parse_definition
from sync_server.api.deps import StorageDep
from sync_server.phone import desk_cache as phone_desks
from sync_server.storage import Connection, Storage, SurveyVersionChanged, User, audit, surveys
from sync_server.storage.surveys import (
    ReservedSurveyId,
    UnknownSurvey,
    content_hash,
    definition_json,
    reserved_ids,
)
from sync_server.web.access import SurveyForm, SurveyManager, nav_context
from sync_server.web.templating import render

router = APIRouter(include_in_schema=False)

MAX_DEFINITION_BYTES = 256 * 1024  # the default survey is about 10 KB
NOTICES = ("published", "unchanged", "used")


def _page(
    request: Request,
    storage: Storage,
    user: User,
    *,
    error: str | None = None,
    detail: object = None,
    status_code: int = 200,
) -> Response:
    done = request.query_params.get("done")
    with storage.read() as connection:
        published = surveys.published(connection)
    context = {
        **nav_context(request, user),
        "surveys": published,
        "reserved": sorted(reserved_ids()),
        "done": done if done in NOTICES else None,
        "named": request.query_params.get("survey", "")[:80],
        "error": error,
        "detail": detail,
        "max_kb": MAX_DEFINITION_BYTES // 1024,
    }
    return render(request, "admin_surveys.html", context, status_code=status_code)


def _back(**query: str) -> RedirectResponse:
    return RedirectResponse(f"/admin/surveys?{urlencode(query)}", status_code=303)


@router.get("/admin/surveys")
def surveys_page(request: Request, storage: StorageDep, user: SurveyManager) -> Response:
    return _page(request, storage, user)


def _version(connection: Connection, survey_id: str, version: int) -> SurveyDefinition | None:
    """The survey version, None when there is none (a number beyond any stored one included)."""
    if not 0 <= version <= MAX_SAFE_INTEGER:
        return None
    return surveys.get(connection, survey_id, version)


@router.get("/admin/surveys/{survey_id}/{version}")
def survey_page(
    request: Request, storage: StorageDep, user: SurveyManager, survey_id: str, version: int
) -> Response:
    with storage.read() as connection:
        survey = _version(connection, survey_id, version)
        published = surveys.published(connection)
    if survey is None:
        context = {**nav_context(request, user), "error": "not_found"}
        return render(request, "error.html", context, status_code=404)
    listed = next((s for s in published if (s.id, s.version) == (survey_id, version)), None)
    context = {
        **nav_context(request, user),
        "survey": survey,
        "listed": listed,
        "by_id": {q.id: q for q in survey.questions},
    }
    return render(request, "admin_survey.html", context)


@router.get("/admin/surveys/{survey_id}/{version}/definition.json")
def survey_definition(
    storage: StorageDep, _user: SurveyManager, survey_id: str, version: int
) -> Response:
    """The version's definition, to start the next version from."""
    with storage.read() as connection:
        survey = _version(connection, survey_id, version)
    if survey is None:
        return Response(status_code=404)
    filename = f"{survey.id}.v{survey.version}.json"
    return JSONResponse(
        definition_json(survey),
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/admin/surveys/upload")
async def upload_survey(request: Request, storage: StorageDep, posted: SurveyForm) -> Response:
    user, form = posted
    upload = form.get("definition")
    if not isinstance(upload, UploadFile):
        return _page(request, storage, user, error="file_missing", status_code=400)
    body = await upload.read(MAX_DEFINITION_BYTES + 1)
    if not body:
        return _page(request, storage, user, error="file_missing", status_code=400)
    if len(body) > MAX_DEFINITION_BYTES:
        return _page(request, storage, user, error="file_too_large", status_code=413)
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        return _page(request, storage, user, error="encoding", status_code=400)
    except json.JSONDecodeError as error:
        detail = {"message": error.msg, "line": error.lineno, "column": error.colno}
        return _page(request, storage, user, error="json", detail=detail, status_code=400)
    try:
        survey = parse_definition(data, upload.filename or "upload")
    except SurveyDefinitionError as error:
        problems = [str(problem) for problem in error.problems]
        return _page(request, storage, user, error="invalid", detail=problems, status_code=400)
    named = f"{survey.id} v{survey.version}"
    try:
        with storage.write() as connection:
            before = surveys.current_key(connection)
            new = surveys.publish_and_use(connection, survey)
            if new:
                details = {"current": audit.change(audit.survey_name(before), named)}
                audit.record(connection, audit.by_user(user), "survey.published", named, details)
    except ReservedSurveyId:
        return _page(request, storage, user, error="reserved", detail=survey.id, status_code=400)
    except SurveyVersionChanged:
        with storage.read() as connection:
            stored = surveys.get(connection, survey.id, survey.version)
        detail = {
            "survey": named,
            "stored": content_hash(stored)[:12] if stored else "",
            "sent": content_hash(survey)[:12],
        }
        return _page(
            request, storage, user, error="version_changed", detail=detail, status_code=409
        )
    phone_desks.forget(request.app)  # the phone survey asks the new version's questions at once
    return _back(done="published" if new else "unchanged", survey=named)


@router.post("/admin/surveys/use")
async def use_survey(request: Request, storage: StorageDep, posted: SurveyForm) -> Response:
    """Make a published version current, e.g. back to the previous one after a mistake."""
    user, form = posted
    survey_id = form.get("survey_id")
    version = form.get("version")
    if not isinstance(survey_id, str) or not isinstance(version, str) or not version.isdigit():
        return _page(request, storage, user, error="unknown", status_code=400)
    named = f"{survey_id} v{int(version)}"
    try:
        with storage.write() as connection:
            before = surveys.current_key(connection)
            surveys.use(connection, survey_id, int(version))
            details = {"current": audit.change(audit.survey_name(before), named)}
            audit.record(connection, audit.by_user(user), "survey.put_in_use", named, details)
    except UnknownSurvey:
        return _page(request, storage, user, error="unknown", status_code=400)
    phone_desks.forget(request.app)
    return _back(done="used", survey=named)
