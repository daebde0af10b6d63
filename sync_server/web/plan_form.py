"""An improvement action as the plan's form posts it: read, checked, and said back when wrong
(each problem a French msgid the page translates). Pure."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sync_server.cycle.plan import ORIGINS
from sync_server.cycle.referential import MAX_TITLE
from sync_server.indicators.targets import INDICATORS
from sync_server.storage.plan import Draft
from sync_server.web.labels import N_

MAX_OWNER = 100


@dataclass(frozen=True)
class Known:
    """What the form may name: services, sites by service, engagement codes, question ids."""

    services: Collection[str]
    sites: Mapping[str, Collection[str]]
    engagements: Collection[str]
    questions: Collection[str] = ()


def _text(form: Any, name: str) -> str:
    return str(form.get(name) or "").replace("\x00", "").strip()


def read_draft(form: Any, known: Known) -> tuple[Draft | None, list[str]]:
    """The draft the form describes, or None with what is wrong."""
    problems: list[str] = []
    title = _text(form, "title")
    if not title:
        problems.append(N_("Donnez un intitulé à l'action."))
    elif len(title) > MAX_TITLE:
        problems.append(N_("L'intitulé est trop long (300 caractères au plus)."))
    origin = _text(form, "origin")
    if origin not in ORIGINS:
        problems.append(N_("Choisissez l'origine de l'action."))
    services = tuple(sorted({str(s) for s in form.getlist("services") if str(s)}))
    if not services or any(s not in known.services for s in services):
        problems.append(N_("Choisissez au moins un service, parmi les services connus."))
    engagement = _text(form, "engagement") or None
    if engagement is not None and engagement not in known.engagements:
        problems.append(N_("Engagement inconnu."))
    indicator = _text(form, "indicator") or None
    questions = {f"question:{q}" for q in known.questions}
    if indicator is not None and indicator not in INDICATORS and indicator not in questions:
        problems.append(N_("Indicateur inconnu."))
    site = _text(form, "site") or None
    if site is not None and not any(site in known.sites.get(s, ()) for s in services):
        problems.append(N_("Ce site n'a pas de guichet des services choisis."))
    owner = _text(form, "owner") or None
    if owner is not None and len(owner) > MAX_OWNER:
        problems.append(N_("Le nom du pilote est trop long (100 caractères au plus)."))
    due_on = None
    if _text(form, "due_on"):
        try:
            due_on = date.fromisoformat(_text(form, "due_on"))
        except ValueError:
            problems.append(N_("Échéance invalide : une date comme 2026-06-30."))
    if problems:
        return None, problems
    return Draft(title, origin, services, engagement, indicator, site, owner, due_on), []
