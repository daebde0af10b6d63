"""The phone survey reached from a desk's QR code (`/s/{site}/{service}`) or from a per-visit link
made offline on the agent's tablet (`/v/{token}`).

One question per page, server-rendered, no script: each answer is posted, checked with the kiosk's
own flow rules (`qualivilles.flow`) and the visitor is redirected to the next question, whose page
carries the answers so far in a signed token (`phone_answers.pack`). Nothing is stored until the
visitor finishes; then the answer goes through the device ingestion path (comment scrubbing
included) with channel "phone" and, for a per-visit link, the visit's id.

No cookie, no server session, no IP address kept: anti-abuse counts submissions per client under a
rotating salted hash, in the database every server process shares (`sync_server.phone.guard`).
The forms are CSRF-free on purpose (anonymous visitors); their bodies are small and size-limited
instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape

from qualivilles import flow
from qualivilles.protocol import AckStatus, new_record_id
from qualivilles.survey import (
    FALLBACK_LANGUAGE,
    Choice,
    Question,
    QuestionType,
    SurveyDefinition,
    localized,
)
from qualivilles.visit_link import MalformedVisitLink, read_claims
from sync_server import i18n
from sync_server.api.deps import StorageDep
from sync_server.phone import page_cache
from sync_server.phone.answers import (
    Progress,
    StateExpired,
    StateInvalid,
    SurveyFinder,
    SurveyGone,
    pack,
    response_record,
    stored_surveys,
    unpack,
)
from sync_server.phone.desk_cache import Current, desk_cache
from sync_server.phone.guard import PhoneGuard, RateLimited
from sync_server.phone.reply_contact import ContactForm, OfferInvalid, check, offer, read_offer
from sync_server.phone.visit_links import (
    InvalidVisitLink,
    VisitLink,
    already_answered,
    verify_visit_link,
)
from sync_server.storage import (
    Desk,
    Source,
    Storage,
    VisitLinkUsed,
    audit,
    quality,
    surveys,
    town,
    uploads,
)
from sync_server.storage import visit_links as stored_links
from sync_server.web.templating import environment

router = APIRouter(include_in_schema=False)

# A comment of 2,000 Arabic characters is ~12 KB once form-encoded, plus the signed state.
MAX_FORM_BYTES = 16_384
LANGUAGE_NAMES = {"fr": "Français", "en": "English", "es": "Español", "ar": "العربية"}
# Pages are built per request from signed state: nothing to cache. (The Content-Security-Policy
# and other security headers are the app's, on every response.)
PAGE_HEADERS = {"Cache-Control": "no-store"}


class FormTooLarge(Exception):
    pass


@dataclass(frozen=True)
class Entry:
    """Where the visitor came in: a desk's general link, or one visit's link."""

    desk: Desk
    base: str  # the path the survey pages are served at
    binding: str  # what the signed state is tied to
    current: Current
    visit: VisitLink | None = None

    @property
    def survey(self) -> SurveyDefinition:
        return self.current.survey


# -- helpers ---------------------------------------------------------------------------------


def guard(request: Request) -> PhoneGuard:
    """The app's abuse guard on its database (made on first use; tests may put their own)."""
    state = request.app.state
    if getattr(state, "phone_guard", None) is None:
        state.phone_guard = PhoneGuard(state.storage)
    return state.phone_guard


def state_surveys(storage: Storage, entry: Entry) -> SurveyFinder:
    """Finds the survey version a signed state names: the current one without a query."""

    def find(survey_id: str, version: int) -> SurveyDefinition | None:
        if entry.current.key == (survey_id, version):
            return entry.survey
        with storage.read() as connection:
            return surveys.remembered(connection, survey_id, version)

    return find


def client_address(request: Request) -> str | None:
    # Only ever hashed (phone_guard); a trusted reverse proxy names it (QV_TRUSTED_PROXIES).
    return request.client.host if request.client else None


def offered_languages(survey: SurveyDefinition) -> tuple[str, ...]:
    """The survey's languages that the pages are translated into, French first."""
    offered = [code for code in survey.languages if code in i18n.VISITOR_LANGUAGES]
    return tuple(dict.fromkeys([FALLBACK_LANGUAGE, *offered]))


def choose_language(request: Request, requested: str | None, survey: SurveyDefinition) -> str:
    accept = request.headers.get("accept-language")
    return i18n.negotiate(requested, accept, offered_languages(survey))


def render(
    template: str, context: dict[str, Any], language: str, status_code: int = 200
) -> HTMLResponse:
    html = environment(language).get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def isolated(name: str) -> Markup:
    """A desk's name (French, from the configuration) kept whole inside Arabic sentences."""
    return Markup("<bdi>%s</bdi>") % escape(name)


def desk_path(desk: Desk) -> str:
    return f"/s/{quote(desk.site.slug)}/{quote(desk.service.slug)}"


def desk_binding(desk: Desk) -> str:
    """What a desk's signed states and offers are tied to."""
    return f"desk:{desk.site.slug}/{desk.service.slug}"


def _url(base: str, **params: str | None) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return f"{base}?{query}" if query else base


def language_links(
    base: str, survey: SurveyDefinition, current: str, state: str | None = None
) -> list[dict[str, Any]]:
    return [
        {
            "code": code,
            "name": LANGUAGE_NAMES.get(code, code),
            "href": _url(base, st=state, lang=code),
            "current": code == current,
        }
        for code in offered_languages(survey)
    ]


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


def question_view(survey: SurveyDefinition, question: Question, language: str) -> dict[str, Any]:
    """What the page shows of a question, in `language`, for any question type."""
    if question.type == QuestionType.YES_NO:
        # Labelled by the template, through the catalogue.
        choices = [{"id": answer, "label": None, "face": None} for answer in ("yes", "no")]
    elif question.type == QuestionType.SCALE_0_10:
        choices = [{"id": str(n), "label": str(n), "face": None} for n in range(11)]
    else:
        smiley = question.type == QuestionType.SMILEY
        choices = [
            {
                "id": c.id,
                "label": localized(c.label, language),
                "face": face(c, question.levels) if smiley else None,
            }
            for c in question.choices
        ]
    return {
        "id": question.id,
        "type": str(question.type),
        "text": localized(question.text, language),
        "choices": choices,
        "main": question.id == survey.main_question,
        "max_length": question.max_length,
    }


# -- pages -----------------------------------------------------------------------------------


def question_page(
    entry: Entry,
    state: flow.FlowState,
    token: str | None,
    *,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    survey, language = state.survey, state.language
    assert state.question is not None
    step, steps = flow.progress(state)
    desk = entry.desk
    # A desk's pages differ only by the state they carry: rendered once, the state put in after.
    # (A visit's own link is in its pages: each is seen once.)
    cached = entry.visit is None and page_cache.takes_state(token)
    shown = page_cache.STATE if cached and token else token
    context = {
        "title": localized(survey.title, language),
        "desk_label": f"{desk.service.name} · {desk.site.name}",
        "language_links": language_links(entry.base, survey, language, shown),
        "question": question_view(survey, state.question, language),
        "step": step,
        "steps": steps,
        "last": flow.is_last(state),
        "state": shown,
        "action": entry.base,
        "error": error,
        "notice": notice,
    }
    if not cached:
        return render("phone_survey.html", context, language, status_code)
    html = page_cache.render("phone_survey.html", context, language, token)
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def error_page(
    error: str,
    language: str,
    status_code: int,
    *,
    desk: Desk | None = None,
    survey: SurveyDefinition | None = None,
    base: str | None = None,
    minutes: int = 0,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    general = desk_path(desk) if desk is not None else None
    context = {
        "error": error,
        "minutes": minutes,
        "general_url": _url(general, lang=language) if general else None,
        "service_name": isolated(desk.service.name) if desk is not None else "",
        "language_links": (
            language_links(base, survey, language) if base and survey is not None else []
        ),
    }
    response = render("phone_error.html", context, language, status_code)
    response.headers.update(headers or {})
    return response


def first_page(request: Request, entry: Entry, notice: str | None = None) -> HTMLResponse:
    language = choose_language(request, request.query_params.get("lang"), entry.survey)
    return question_page(entry, flow.start(entry.survey, language), None, notice=notice)


def show(request: Request, storage: Storage, entry: Entry) -> Response:
    """GET: the main question, or the current question of a signed state."""
    token = request.query_params.get("st")
    current = entry.survey
    if not token:
        printed = request.query_params.get("v")
        # A printed code names the survey version it showed; an older one has been retired.
        retired = printed is not None and printed != str(current.version)
        return first_page(request, entry, notice="survey_changed" if retired else None)
    try:
        progress = unpack(
            secret(request),
            entry.binding,
            token,
            request.query_params.get("lang") or "",
            state_surveys(storage, entry),
        )
    except StateExpired:
        return first_page(request, entry, notice="expired")
    except SurveyGone:
        return first_page(request, entry, notice="survey_changed")
    except StateInvalid:
        language = choose_language(request, request.query_params.get("lang"), current)
        return error_page("invalid", language, 400, desk=entry.desk)
    state = progress.flow
    language = choose_language(request, request.query_params.get("lang"), state.survey)
    state = flow.FlowState(state.survey, language, state.current, state.status, state.answers)
    if state.finished:
        return RedirectResponse(_url(entry.base, lang=language), status_code=303)
    return question_page(entry, state, token)


def secret(request: Request) -> str:
    return request.app.state.settings.secret_key


async def read_form(request: Request) -> dict[str, list[str]]:
    """The urlencoded body, refused past MAX_FORM_BYTES without reading the rest."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_FORM_BYTES):
        raise FormTooLarge
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormTooLarge
    return parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=40)


def _one(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def _value(question: Question, values: list[str]) -> object:
    """The posted value(s) in the shape `flow.answer` expects for this question type."""
    if question.type == QuestionType.MULTIPLE_CHOICE:
        return values
    value = values[0]
    if question.type == QuestionType.SCALE_0_10:
        return int(value) if value.isdigit() else value
    return value


def rate_limited(request: Request, current: SurveyDefinition, limited: RateLimited) -> HTMLResponse:
    """The 429 page: too many submissions from this client, and when to try again."""
    language = choose_language(request, None, current)
    minutes = max(1, (limited.retry_after + 59) // 60)
    headers = {"Retry-After": str(limited.retry_after)}
    return error_page("rate_limited", language, 429, minutes=minutes, headers=headers)


def counted_post(
    request: Request, address: str | None, current: SurveyDefinition
) -> Response | None:
    """Count one submission from `address`; the 429 page when it is one too many."""
    try:
        guard(request).check_post(address)
    except RateLimited as limited:
        return rate_limited(request, current, limited)
    return None


@dataclass(frozen=True)
class Applied:
    """A posted answer applied to the flow; `progress` is None after the main answer, whose
    record id and burst flag are not chosen yet."""

    state: flow.FlowState
    progress: Progress | None
    language: str


async def submit(request: Request, storage: Storage, entry: Entry) -> Response:
    """POST: apply one answer (or skip, or finish) and go on, or store the finished answer.

    Every submission counts against the client's budget, whatever its outcome, and the 429
    page comes first; the main answer is noted (for bursts) in that same transaction."""
    address = client_address(request)
    try:
        form = await read_form(request)
    except (FormTooLarge, ValueError):
        applied: Applied | Response = error_page(
            "too_large", choose_language(request, None, entry.survey), 413
        )
    else:
        applied = apply_answer(request, storage, entry, form)
    main_answer = isinstance(applied, Applied) and applied.progress is None
    try:
        suspect = guard(request).admit(address, answer=main_answer)
    except RateLimited as limited:
        return rate_limited(request, entry.survey, limited)
    if isinstance(applied, Response):
        return applied
    state, progress = applied.state, applied.progress
    if progress is None:
        # The main answer: from here the answer has its record id, and a burst is flagged.
        progress = Progress(state, new_record_id(), suspect)
    else:
        progress = Progress(state, progress.record_id, progress.suspect)
    if not state.finished:
        next_token = pack(secret(request), entry.binding, progress)
        query = _url(entry.base, st=next_token, lang=applied.language)
        return RedirectResponse(query, status_code=303)
    return finish(request, storage, entry, progress)


def apply_answer(
    request: Request, storage: Storage, entry: Entry, form: dict[str, list[str]]
) -> Applied | Response:
    """The posted page applied to the visitor's flow, or the page that says what is wrong."""
    current = entry.survey
    requested = _one(form, "lang")
    token = _one(form, "st")
    if token:
        try:
            progress = unpack(
                secret(request),
                entry.binding,
                token,
                requested or "",
                state_surveys(storage, entry),
            )
        except StateExpired:
            return first_page(request, entry, notice="expired")
        except SurveyGone:
            return first_page(request, entry, notice="survey_changed")
        except StateInvalid:
            return error_page("invalid", choose_language(request, requested, current), 400)
        state = progress.flow
        language = choose_language(request, requested, state.survey)
        state = flow.FlowState(state.survey, language, state.current, state.status, state.answers)
    else:
        language = choose_language(request, requested, current)
        state, progress = flow.start(current, language), None

    question = state.question
    action = _one(form, "action") or "next"
    if question is None or _one(form, "q") != question.id:
        # A page from another step (edited, or an old tab): show where this answer really is.
        return error_page("invalid", language, 400, desk=entry.desk)
    values = [v for v in form.get("answer", []) if v.strip()]
    is_main = question.id == state.survey.main_question
    try:
        if action == "finish" and not is_main:
            state = flow.finish_early(state)
        elif action == "skip" or (action == "next" and not values and not is_main):
            state = flow.skip(state, question.id)
        elif not values:
            return question_page(entry, state, token, error="choice", status_code=400)
        else:
            state = flow.answer(state, question.id, _value(question, values))
    except flow.InvalidAnswer:
        return question_page(entry, state, token, error="value", status_code=400)
    except flow.NotAsking:
        return question_page(entry, state, token, error="required", status_code=400)
    return Applied(state, progress, language)


def finish(request: Request, storage: Storage, entry: Entry, progress: Progress) -> Response:
    language = progress.flow.language
    received_at = datetime.now(UTC)
    desk = entry.desk
    visit_id = entry.visit.visit_id if entry.visit is not None else None
    record = response_record(progress, received_at, visit_id)
    source = Source(site=desk.site.slug, service=desk.service.slug, channel="phone")
    try:
        window = request.app.state.settings.record_window(received_at, None)
        ack = uploads.store_phone_answer(storage, record, source, received_at, visit_id, window)
    except VisitLinkUsed:
        return link_error(request, storage, already_answered(), language)
    if ack.status not in (AckStatus.STORED, AckStatus.DUPLICATE):
        return error_page("invalid", language, 400, desk=desk)
    with storage.read() as connection:
        comment_id = quality.reply_target(connection, str(record.id))
    # An answer with a comment: its thanks page offers to leave contact details for a reply.
    token = offer(secret(request), desk_binding(desk), comment_id) if comment_id else None
    return RedirectResponse(_url(f"{desk_path(desk)}/merci", lang=language, r=token), 303)


def link_error(
    request: Request,
    storage: Storage,
    refused: InvalidVisitLink,
    language: str | None = None,
    token: str | None = None,
) -> HTMLResponse:
    """A per-visit link that cannot be used; for a known desk, its general survey is offered."""
    with storage.read() as connection:
        survey = surveys.current(connection)
    language = language or choose_language(request, request.query_params.get("lang"), survey)
    desk = None
    if refused.code in ("expired", "used", "revoked") and token is not None:
        desk = _link_desk(storage, token)
    status = 410 if refused.code in ("expired", "used") else 400
    base = f"/v/{token}" if token else None
    return error_page(f"link_{refused.code}", language, status, desk=desk, survey=survey, base=base)


def _link_desk(storage: Storage, token: str) -> Desk | None:
    """The desk of the tablet that made a link (its claims are readable, even when refused)."""
    try:
        claims, _body, _signature = read_claims(token)
    except MalformedVisitLink:
        return None
    with storage.read() as connection:
        device = stored_links.link_device(connection, claims.device_id)
        return town.desk(connection, device.site, device.service) if device is not None else None


def _desk_entry(request: Request, site: str, service: str) -> Entry | Response:
    # Desks are never deleted, and an answer begun on a survey version just replaced stays
    # valid: a POST may act on what the pages show (`desk_cache`), like a page loaded earlier.
    desk, current = desk_cache(request.app).lookup(site, service)
    if desk is None:
        language = choose_language(request, request.query_params.get("lang"), current.survey)
        return error_page("not_found", language, 404)
    return Entry(desk, desk_path(desk), desk_binding(desk), current)


def _visit_entry(request: Request, storage: Storage, token: str) -> Entry | Response:
    try:
        link = verify_visit_link(storage, token, datetime.now(UTC))
    except InvalidVisitLink as refused:
        return link_error(request, storage, refused, token=token)
    desk, current = desk_cache(request.app).lookup(link.site, link.service)
    if desk is None:
        return link_error(request, storage, InvalidVisitLink("unknown_device", "no such desk"))
    return Entry(desk, f"/v/{quote(token)}", f"visit:{link.visit_id}", current, link)


# -- routes ----------------------------------------------------------------------------------


@router.get("/s/{site}/{service}")
def survey_page(request: Request, storage: StorageDep, site: str, service: str) -> Response:
    entry = _desk_entry(request, site, service)
    return entry if isinstance(entry, Response) else show(request, storage, entry)


@router.post("/s/{site}/{service}")
async def survey_post(request: Request, storage: StorageDep, site: str, service: str) -> Response:
    entry = _desk_entry(request, site, service)
    return entry if isinstance(entry, Response) else await submit(request, storage, entry)


@router.get("/v/{token}")
def visit_page(request: Request, storage: StorageDep, token: str) -> Response:
    entry = _visit_entry(request, storage, token)
    return entry if isinstance(entry, Response) else show(request, storage, entry)


@router.post("/v/{token}")
async def visit_post(request: Request, storage: StorageDep, token: str) -> Response:
    entry = _visit_entry(request, storage, token)
    if isinstance(entry, Response):
        if entry.status_code == 410 and await _answered_by_this_page(request, storage, token):
            # The last page sent twice (a double tap): the first one stored the answer.
            return RedirectResponse(_thanks_url(storage, token, request), status_code=303)
        return entry
    return await submit(request, storage, entry)


async def _answered_by_this_page(request: Request, storage: Storage, token: str) -> bool:
    try:
        claims, _body, _signature = read_claims(token)
        form = await read_form(request)
        progress = unpack(
            secret(request),
            f"visit:{claims.visit_id}",
            _one(form, "st") or "",
            "",
            stored_surveys(storage),
        )
    except (MalformedVisitLink, FormTooLarge, ValueError, StateExpired, StateInvalid, SurveyGone):
        return False
    with storage.read() as connection:
        return uploads.is_stored(connection, progress.record_id)


def _thanks_url(storage: Storage, token: str, request: Request) -> str:
    desk = _link_desk(storage, token)
    language = request.query_params.get("lang") or FALLBACK_LANGUAGE
    return f"{desk_path(desk)}/merci?lang={language}" if desk else "/"


@router.get("/s/{site}/{service}/merci")
def thanks(request: Request, storage: StorageDep, site: str, service: str) -> Response:
    entry = _desk_entry(request, site, service)
    if isinstance(entry, Response):
        return entry
    language = choose_language(request, request.query_params.get("lang"), entry.survey)
    token = request.query_params.get("r") or ""
    contact = None
    if token and _offer_open(request, storage, entry, token):
        contact = ContactForm()
    saved = request.query_params.get("contact") == "saved"
    return thanks_page(request, entry, language, token, contact, "saved" if saved else None)


def _offer_open(request: Request, storage: Storage, entry: Entry, token: str) -> bool:
    """Whether the offer is this desk's, recent, and its entry still takes contact details."""
    try:
        comment_id = read_offer(secret(request), entry.binding, token)
    except OfferInvalid:
        return False
    with storage.read() as connection:
        return quality.takes_contact(connection, comment_id)


def thanks_page(
    request: Request,
    entry: Entry,
    language: str,
    token: str = "",
    contact: ContactForm | None = None,
    outcome: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The thanks page; with `contact`, the form to leave contact details for a reply (what
    was typed and its problems); `outcome` says what became of details sent ("saved", "gone")."""
    survey = entry.survey
    context = {
        "thanks": localized(survey.thanks, language),
        "service_name": isolated(entry.desk.service.name),
        "language_links": language_links(f"{entry.base}/merci", survey, language),
        "contact": contact,
        "offer": token,
        "action": f"{entry.base}/merci",
        "outcome": outcome,
        "retention_days": request.app.state.settings.contact_details_retention_days,
    }
    return render("phone_thanks.html", context, language, status_code)


@router.post("/s/{site}/{service}/merci")
async def leave_contact(request: Request, storage: StorageDep, site: str, service: str) -> Response:
    """The contact details a visitor leaves to be answered: checked, kept apart from their
    answer with the consent's date, or the form again with what is wrong."""
    entry = _desk_entry(request, site, service)
    if isinstance(entry, Response):
        return entry
    current = entry.survey
    refused = counted_post(request, client_address(request), current)
    if refused is not None:
        return refused
    try:
        form = await read_form(request)
    except (FormTooLarge, ValueError):
        return error_page("too_large", choose_language(request, None, current), 413)
    language = choose_language(request, _one(form, "lang"), current)
    token = _one(form, "r") or ""
    try:
        comment_id = read_offer(secret(request), entry.binding, token)
    except OfferInvalid:
        return thanks_page(request, entry, language, outcome="gone", status_code=400)
    checked = check(_one(form, "phone"), _one(form, "email"), _one(form, "consent"))
    if not checked.valid:
        return thanks_page(request, entry, language, token, checked, status_code=400)
    settings = request.app.state.settings
    with storage.write() as connection:
        saved = quality.leave_contact(
            connection,
            comment_id,
            phone=checked.phone,
            email=checked.email,
            language=language,
            retention_days=settings.contact_details_retention_days,
        )
        if saved:
            details = {
                "service": entry.desk.service.slug,
                "phone": checked.phone is not None,
                "email": checked.email is not None,
            }
            audit.record(connection, audit.VISITOR, "register.contact_left", str(comment_id),
                         details)  # fmt: skip
        already = not saved and bool(quality.contacts(connection, [comment_id]))
    if saved or already:  # a form sent twice keeps the first
        done = _url(f"{entry.base}/merci", lang=language, contact="saved")
        return RedirectResponse(done, status_code=303)
    return thanks_page(request, entry, language, outcome="gone", status_code=400)
