"""Mystery visits and calls: `/mystery` lists the evaluations of a period (filters by service
and channel) with each service's mean score beside its visitors' satisfaction and each
engagement's score; `/mystery/new?channel=…` is the form an evaluator fills in on a tablet;
`/mystery/{id}` shows one evaluation; `/mystery/grid` is the grid per channel.

The quality manager enters and edits; a service manager reads their services' results.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from sync_server.access import Permission, may, may_see, visible_services
from sync_server.api.deps import SettingsDep, StorageDep
from sync_server.cycle.mystery import (
    KINDS,
    Criterion,
    InvalidAnswer,
    InvalidGrid,
    check_answers,
    engagement_scores,
    parse_criterion,
    score,
)
from sync_server.cycle.referential import CHANNELS
from sync_server.indicators.query import SATISFACTION
from sync_server.settings import Settings
from sync_server.storage import Storage, User, audit, mystery, referential, town
from sync_server.web import plan_labels
from sync_server.web.access import (
    MysteryEvaluator,
    MysteryForm,
    MysteryReader,
    forbidden,
    nav_context,
)
from sync_server.web.figures import desk_figures, today
from sync_server.web.labels import N_
from sync_server.web.mystery_summary import service_satisfaction, summary
from sync_server.web.period_choice import choose, picker
from sync_server.web.snapshot import one_snapshot
from sync_server.web.templating import page_language, render

router = APIRouter(include_in_schema=False)
ANSWER = "answer-"  # a form field per criterion: answer-<key>
MAX_EVALUATOR = 100
MAX_COMMENT = 2000
REFUSED = {
    "service": N_("Ce service n'est pas dans le périmètre certifié, ou ce site n'a pas de "
                  "guichet de ce service. Rien n'a été enregistré."),
    "date": N_("La date de la visite ou de l'appel est manquante ou dans le futur. Rien n'a été "
               "enregistré."),
    "answers": N_("Une réponse ne correspond pas à la grille (critère inconnu ou note hors "
                  "échelle), ou aucun critère n'a été évalué. Rien n'a été enregistré."),
    "text": N_("L'évaluateur ou le commentaire est trop long. Rien n'a été enregistré."),
    "grid": N_("Un critère a un intitulé, un engagement du référentiel, un type (oui/non ou "
               "échelle de 2 à 10) et un poids de 1 à 10. Rien n'a été modifié."),
}  # fmt: skip


def _names(storage: Storage) -> tuple[dict[str, str], dict[str, str], dict[str, set[str]]]:
    """Service names, site names, and each service's sites."""
    with storage.read() as connection:
        desks = town.desks(connection)
    services = {d.service.slug: d.service.name for d in desks}
    sites = {d.site.slug: d.site.name for d in desks}
    by_service: dict[str, set[str]] = {}
    for d in desks:
        by_service.setdefault(d.service.slug, set()).add(d.site.slug)
    return services, sites, by_service


def _certified(storage: Storage) -> list[str]:
    """The services certified (a phase and a date); those only planned are not evaluated."""
    with storage.read() as connection:
        scope = referential.scope(connection)
    return [s.slug for s in scope if s.phase is not None and s.since is not None]


@router.get("/mystery")
@one_snapshot
def mystery_list(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: MysteryReader,
    kind: str | None = None,
    period: str | None = None,
    first: Annotated[str | None, Query(alias="from")] = None,
    last: Annotated[str | None, Query(alias="to")] = None,
    service: str | None = None,
    channel: str | None = None,
) -> Response:
    language = page_language(request)
    on = today(settings)
    choice = choose(kind, period, on, language, first=first, last=last)
    services = visible_services(user, [service] if service else None)
    chosen_channel = channel if channel in CHANNELS else None
    with storage.read() as connection:
        found = mystery.evaluations(
            connection, first=choice.period.start, last=choice.period.last,
            services=services, channel=chosen_channel,
        )  # fmt: skip
        titles = {e.code: e.title for e in referential.engagements(connection)}
    rows = desk_figures(storage, settings, choice.period, services=services, parts=SATISFACTION)
    service_names, site_names, _ = _names(storage)
    context = {
        **nav_context(request, user),
        "evaluations": [(e, score(e.answers)) for e in found],
        "lines": summary(found, service_satisfaction(rows)),
        "titles": titles,
        "choice": choice,
        "picker": picker(choice, on, language),
        "query": {"service": service or "", "channel": chosen_channel or ""},
        "form_services": sorted(
            ((s, n) for s, n in service_names.items() if may_see(user, s)), key=lambda p: p[1]
        ),
        "service_names": service_names,
        "site_names": site_names,
        "channels": plan_labels.CHANNELS,
        "may_enter": may(user, Permission.EVALUATE_MYSTERY),
    }
    return render(request, "mystery.html", context)


def _criteria(storage: Storage, channel: str) -> list[Criterion]:
    with storage.read() as connection:
        return [c for c in mystery.criteria(connection) if c.channel == channel]


def form_page(
    request: Request,
    storage: StorageDep,
    settings: Settings,
    user: User,
    channel: str,
    problem: str | None = None,
    posted: dict[str, Any] | None = None,
) -> Response:
    service_names, site_names, by_service = _names(storage)
    certified = _certified(storage)
    context = {
        **nav_context(request, user),
        "channel": channel,
        "channel_name": plan_labels.CHANNELS[channel],
        "criteria": _criteria(storage, channel),
        "services": [(s, service_names.get(s, s)) for s in certified if s in service_names],
        "sites": sorted(
            {site for s in certified for site in by_service.get(s, ())},
            key=lambda site: site_names[site],
        ),
        "site_names": site_names,
        "today": today(settings).isoformat(),
        "problem": problem,
        "posted": posted or {},
    }
    return render(request, "mystery_new.html", context, status_code=400 if problem else 200)


@router.get("/mystery/new")
@one_snapshot
def new_evaluation(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: MysteryEvaluator,
    channel: str = "reception",
) -> Response:
    if channel not in CHANNELS:
        channel = "reception"
    return form_page(request, storage, settings, user, channel)


@router.post("/mystery")
async def record_evaluation(
    request: Request, storage: StorageDep, settings: SettingsDep, posted: MysteryForm
) -> Response:
    user, form = posted
    channel = str(form.get("channel") or "")
    if channel not in CHANNELS:
        channel = "reception"
    fields = {key: str(value) for key, value in form.multi_items() if isinstance(value, str)}
    service, site = fields.get("service", ""), fields.get("site", "")
    evaluator = fields.get("evaluator", "").strip() or user.username
    comment = fields.get("comment", "").strip()

    def refused(reason: str) -> Response:
        return form_page(request, storage, settings, user, channel, REFUSED[reason], fields)

    _, _, by_service = _names(storage)
    if service not in _certified(storage) or site not in by_service.get(service, set()):
        return refused("service")
    try:
        visited_on = date.fromisoformat(fields.get("visited_on", ""))
    except ValueError:
        return refused("date")
    if visited_on > today(settings):
        return refused("date")
    if len(evaluator) > MAX_EVALUATOR or len(comment) > MAX_COMMENT:
        return refused("text")
    grid = {c.key: c for c in _criteria(storage, channel)}
    given = {k[len(ANSWER) :]: v for k, v in fields.items() if k.startswith(ANSWER)}
    try:
        checked = check_answers(grid, channel, given)
    except InvalidAnswer:
        return refused("answers")
    answers = [(criterion, checked.get(key)) for key, criterion in grid.items()]
    result = score(answers)
    if result is None:
        return refused("answers")
    with storage.write() as connection:
        number = mystery.record(
            connection, service=service, site=site, channel=channel, visited_on=visited_on,
            evaluator=evaluator, comment=comment, answers=answers, by=user.username,
        )  # fmt: skip
        details = {
            "service": service, "site": site, "channel": channel,
            "visited_on": visited_on.isoformat(), "score": round(result, 1),
        }  # fmt: skip
        audit.record(connection, audit.by_user(user), "mystery.recorded", str(number), details)
    return RedirectResponse(f"/mystery/{number}", status_code=303)


@router.get("/mystery/grid")
@one_snapshot
def grid_page(
    request: Request,
    storage: StorageDep,
    user: MysteryEvaluator,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    with storage.read() as connection:
        criteria = mystery.criteria(connection, retired=True)
        retired = mystery.retired(connection)
        engagements = referential.engagements(connection)
    context = {
        **nav_context(request, user),
        "criteria": criteria,
        "retired": retired,
        "engagements": engagements,
        "channels": plan_labels.CHANNELS,
        "kinds": KINDS,
        "problem": problem,
    }
    return render(request, "mystery_grid.html", context, status_code=status_code)


@router.post("/mystery/grid")
async def save_criterion(request: Request, storage: StorageDep, posted: MysteryForm) -> Response:
    user, form = posted
    with storage.read() as connection:
        codes = {e.code: e.channel for e in referential.engagements(connection)}
        known = {c.key: c for c in mystery.criteria(connection, retired=True)}
    key = str(form.get("key") or "").strip()
    entry: dict[str, Any] = {
        "key": key,
        "engagement": str(form.get("engagement") or ""),
        "label": str(form.get("label") or ""),
        "kind": str(form.get("kind") or ""),
    }
    try:
        entry["top"] = int(str(form.get("top") or "4"))
        entry["weight"] = int(str(form.get("weight") or "1"))
        criterion = parse_criterion(entry, "criterion", codes)
    except (InvalidGrid, ValueError):
        return grid_page(request, storage, user, REFUSED["grid"], status_code=400)
    retired = form.get("retired") == "on"
    before = known.get(key)
    with storage.write() as connection:
        mystery.save_criterion(connection, criterion, by=user.username, retired=retired)
        details = {
            "criterion": criterion.label, "engagement": criterion.engagement,
            "weight": audit.change(before.weight if before else None, criterion.weight),
            "retired": retired,
        }  # fmt: skip
        audit.record(
            connection, audit.by_user(user), "mystery.criterion_saved", criterion.key, details
        )
    return RedirectResponse(f"/mystery/grid#c-{criterion.key}", status_code=303)


@router.get("/mystery/{evaluation_id}")
@one_snapshot
def evaluation_page(
    request: Request, storage: StorageDep, user: MysteryReader, evaluation_id: int
) -> Response:
    with storage.read() as connection:
        found = mystery.evaluation(connection, evaluation_id)
        titles = {e.code: e.title for e in referential.engagements(connection)}
    if found is None or not may_see(user, found.service):
        return forbidden(request, user)
    service_names, site_names, _ = _names(storage)
    context = {
        **nav_context(request, user),
        "evaluation": found,
        "score": score(found.answers),
        "engagement_scores": engagement_scores(found.answers),
        "titles": titles,
        "service_names": service_names,
        "site_names": site_names,
        "channels": plan_labels.CHANNELS,
    }
    return render(request, "mystery_evaluation.html", context)
