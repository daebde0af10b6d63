"""The phone survey reached from a desk's QR code: the main question, server-rendered, no script.

The form is CSRF-free on purpose (anonymous visitors, no session, no cookie); instead the body is
small and size-limited, and the answer goes through the same ingestion as a kiosk upload.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kiosk.core.protocol import AckStatus
from kiosk.core.survey import Choice, SurveyDefinition, localized
from sync_server import i18n
from sync_server.api.deps import StorageDep
from sync_server.phone_answers import InvalidChoice, main_answer_record
from sync_server.storage import Desk, Source, Storage
from sync_server.web.templating import page_language, render

router = APIRouter(include_in_schema=False)

# One radio choice and a language code fit in a few dozen bytes; anything far larger is not ours.
MAX_FORM_BYTES = 4096


class FormTooLarge(Exception):
    pass


def face(choice: Choice, levels: int) -> str:
    """The smiley drawn for a choice: the shape follows the level, "no opinion" is neutral."""
    if choice.level is None or levels < 2:
        return "neutral"
    share = choice.level / (levels - 1)
    if share == 0:
        return "very_sad"
    if share < 0.5:
        return "sad"
    return "very_happy" if share == 1 else "happy"


def _choices(survey: SurveyDefinition, language: str) -> list[dict[str, str]]:
    main = survey.main
    levels = sum(1 for c in main.choices if c.level is not None)
    return [
        {"id": c.id, "label": localized(c.label, language), "face": face(c, levels)}
        for c in main.choices
    ]


def _survey_page(
    request: Request,
    storage: Storage,
    desk: Desk,
    language: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    survey = storage.current_survey()
    context = {
        "title": localized(survey.title, language),
        "question": localized(survey.main.text, language),
        "choices": _choices(survey, language),
        "site_name": desk.site.name,
        "service_name": desk.service.name,
        "action": _path(desk),
        "error": error,
    }
    return render(request, "phone_survey.html", context, status_code=status_code, language=language)


def _path(desk: Desk) -> str:
    return f"/s/{quote(desk.site.slug)}/{quote(desk.service.slug)}"


def _not_found(request: Request, language: str | None = None) -> Response:
    return render(
        request, "phone_error.html", {"error": "not_found"}, status_code=404, language=language
    )


async def _read_form(request: Request) -> dict[str, str]:
    """The urlencoded body, refused past MAX_FORM_BYTES without reading the rest."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_FORM_BYTES):
        raise FormTooLarge
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormTooLarge
    fields = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=10)
    return {name: values[0] for name, values in fields.items()}


@router.get("/s/{site}/{service}")
def survey_form(request: Request, storage: StorageDep, site: str, service: str) -> Response:
    desk = storage.desk(site, service)
    if desk is None:
        return _not_found(request)
    return _survey_page(request, storage, desk, page_language(request))


@router.post("/s/{site}/{service}")
async def submit_answer(request: Request, storage: StorageDep, site: str, service: str) -> Response:
    desk = storage.desk(site, service)
    if desk is None:
        return _not_found(request)
    try:
        form = await _read_form(request)
    except (FormTooLarge, ValueError):
        return render(request, "phone_error.html", {"error": "too_large"}, status_code=413)
    language = i18n.negotiate(form.get("lang"), request.headers.get("accept-language"))
    survey = storage.current_survey()
    received_at = datetime.now(UTC)
    try:
        # visit_id stays None until per-visit signed links exist (they will resolve it here).
        record = main_answer_record(survey, form.get("choice"), language, received_at)
    except InvalidChoice:
        return _survey_page(request, storage, desk, language, error="choice", status_code=400)
    source = Source(site=desk.site.slug, service=desk.service.slug, channel="phone")
    [ack] = storage.ingest([record], source, received_at=received_at)
    if ack.status != AckStatus.STORED:
        return render(
            request, "phone_error.html", {"error": "invalid"}, status_code=400, language=language
        )
    # Post/redirect/get: reloading the thank-you page does not send the answer twice.
    return RedirectResponse(f"{_path(desk)}/merci?lang={language}", status_code=303)


@router.get("/s/{site}/{service}/merci")
def thanks(request: Request, storage: StorageDep, site: str, service: str) -> Response:
    desk = storage.desk(site, service)
    if desk is None:
        return _not_found(request)
    language = page_language(request)
    survey = storage.current_survey()
    context = {"thanks": localized(survey.thanks, language), "service_name": desk.service.name}
    return render(request, "phone_thanks.html", context, language=language)
