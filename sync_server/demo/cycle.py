"""The demo town's year of quality work: the improvement plan, the internal audits, the monthly
meetings and the mystery visits and calls of the last twelve months and of the weeks to come,
stored through the same functions the pages call, dated from "now" like the survey data.

Deterministic for one `seed` and one `today`, so that a screenshot or a test sees the same year.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sync_server.cycle.mystery import Criterion
from sync_server.settings import Settings
from sync_server.storage import (
    Connection,
    Storage,
    internal_audits,
    meetings,
    mystery,
    plan,
    users,
)
from sync_server.web import meeting_preparation

QUALITY_MANAGER = "qualite"


@dataclass(frozen=True)
class DemoAction:
    """An action of the demo plan: when it was proposed and how far it went, in days before
    today (negative: after today)."""

    draft: plan.Draft
    proposed_days_ago: int
    steps: tuple[tuple[str, int], ...] = ()  # (status reached, days ago)
    proposed_by: str = QUALITY_MANAGER


def _at(today: date, days_ago: int) -> datetime:
    """Ten in the morning, town time give or take: a working moment `days_ago` before today."""
    return datetime.combine(today - timedelta(days=days_ago), time(9, 0), tzinfo=UTC)


def demo_actions(today: date) -> list[DemoAction]:
    """A year of the plan: actions of every origin and status, one overdue, one measured
    after its completion, proposals for next year awaiting validation."""
    next_year = today.year + 1
    return [
        DemoAction(
            plan.Draft(
                title="Afficher l'attente estimée à l'entrée de l'état civil",
                origin="indicator_miss", services=("etat-civil",), engagement="ACC-01",
                indicator="within_threshold_rate", owner="resp.etatcivil",
                due_on=today - timedelta(days=40),
            ),
            proposed_days_ago=300,
            steps=(("validated", 290), ("in_progress", 200), ("done", 45)),
        ),
        DemoAction(
            plan.Draft(
                title="Rappeler sous 48 h les usagers qui ont laissé leurs coordonnées",
                origin="complaint", services=("iris",), engagement="REC-02",
                indicator="answered_on_time", owner="qualite", due_on=today - timedelta(days=150),
            ),
            proposed_days_ago=250,
            steps=(("validated", 245), ("done", 160)),
        ),
        DemoAction(
            plan.Draft(
                title="Mettre à jour la charte d'accueil affichée dans chaque site",
                origin="afnor_audit", services=("iris", "etat-civil", "education"),
                engagement="INF-01", owner="qualite", due_on=today - timedelta(days=240),
            ),
            proposed_days_ago=330,
            steps=(("validated", 330), ("done", 250)),
        ),
        DemoAction(
            plan.Draft(
                title="Renfort d'un agent le samedi matin à l'éducation pendant les inscriptions",
                origin="alert", services=("education",), engagement="ACC-01",
                indicator="mean_wait_minutes", owner="qualite",
                due_on=today - timedelta(days=20),
            ),
            proposed_days_ago=100,
            steps=(("validated", 95), ("in_progress", 60)),
        ),
        DemoAction(
            plan.Draft(
                title="Décrocher avant la quatrième sonnerie au CCAS",
                origin="indicator_miss", services=("ccas",), engagement="TEL-01",
                owner="qualite", due_on=today + timedelta(days=30),
            ),
            proposed_days_ago=40,
            steps=(("validated", 38),),
        ),
        DemoAction(
            plan.Draft(
                title="Borne de tickets au CLAVIM",
                origin="staff_suggestion", services=("clavim",), owner="qualite",
            ),
            proposed_days_ago=200,
            steps=(("abandoned", 180),),
        ),
        DemoAction(
            plan.Draft(
                title="Signalétique vers les trois médiathèques depuis l'Hôtel de Ville",
                origin="staff_suggestion", services=("mediatheques",), engagement="INF-02",
                year=next_year,
            ),
            proposed_days_ago=12,
            proposed_by="resp.etatcivil",
        ),
        DemoAction(
            plan.Draft(
                title="Prise de rendez-vous en ligne pour les passeports le samedi",
                origin="indicator_miss", services=("etat-civil",), engagement="ACC-01",
                indicator="within_threshold_rate", owner="resp.etatcivil", year=next_year,
            ),
            proposed_days_ago=9,
            proposed_by="resp.etatcivil",
        ),
    ]  # fmt: skip


@dataclass(frozen=True)
class DemoAudit:
    service: str
    days_ago: int  # negative: planned in the weeks to come
    pair: tuple[str, str]
    findings: tuple[tuple[str, str, str], ...] = ()  # (engagement, verdict, evidence)
    action_title: str = ""  # the action a non-conformity opens
    action_steps: tuple[tuple[str, int], ...] = ()  # that action's way, as `DemoAction.steps`


AUDITORS = ("audit.durand", "audit.lefevre")


def demo_audits() -> list[DemoAudit]:
    """Last year's audits and this year's: most held with their report, two to come."""
    pair = AUDITORS
    return [
        DemoAudit("iris", 200, pair, (
            ("ACC-01", "conformity", "Attente mesurée par les bornes, affichée à l'entrée."),
            ("ACC-02", "strong_point", "Accueil souriant, agents identifiables par leur badge."),
            ("REC-02", "non_conformity",
             "Trois réclamations du trimestre répondues après 15 jours ouvrés."),
        ), "Suivre chaque semaine les réclamations proches de l'échéance",
            (("validated", 185), ("done", 120))),
        DemoAudit("etat-civil", 150, pair, (
            ("ACC-01", "observation", "Délai d'attente dépassé le samedi matin."),
            ("ACC-07", "conformity", "Espace confidentiel disponible et signalé."),
        )),
        DemoAudit("education", 110, (AUDITORS[1], QUALITY_MANAGER), (
            ("INF-01", "conformity", "Horaires à jour sur le site et à l'entrée."),
            ("ACC-03", "non_conformity", "Aucune place assise pour les familles qui attendent."),
        ), "Installer quatre chaises dans l'espace d'attente de l'éducation",
            (("validated", 100), ("in_progress", 80))),
        DemoAudit("mediatheques", 60, pair, (
            ("ACC-02", "strong_point", "Orientation des visiteurs dès l'entrée."),
        )),
        DemoAudit("clavim", -20, pair),
        DemoAudit("ccas", -45, (AUDITORS[0], QUALITY_MANAGER)),
    ]  # fmt: skip


# Where each service receives, for the mystery visits and calls.
MYSTERY_SERVICES = {
    "iris": "centre-administratif",
    "etat-civil": "hotel-de-ville",
    "education": "centre-administratif",
    "ccas": "centre-administratif",
}
EVALUATORS = ("Cabinet Qualiserv", "Évaluateur interne")


def mystery_answers(
    grid: Sequence[Criterion], channel: str, luck: random.Random
) -> list[tuple[Criterion, int | None]]:
    """One evaluation's answers to the grid's criteria of `channel`: mostly met, some not."""
    answers: list[tuple[Criterion, int | None]] = []
    for criterion in grid:
        if criterion.channel != channel:
            continue
        if criterion.kind == "yes_no":
            answers.append((criterion, 1 if luck.random() < 0.85 else 0))
        else:
            answers.append((criterion, max(1, criterion.top - luck.choice((0, 0, 1, 1, 2)))))
    return answers


def _team(connection: Connection, team: Sequence[dict[str, Any]], now: datetime) -> None:
    for member in team:
        users.create(
            connection,
            username=member["username"],
            password=member["password"],
            role=member["role"],
            services=list(member.get("services", [])),
            now=now - timedelta(days=400),
        )


def _plan(connection: Connection, today: date) -> None:
    for action in demo_actions(today):
        proposed_at = _at(today, action.proposed_days_ago)
        number = plan.propose(connection, action.draft, by=action.proposed_by, now=proposed_at)
        for status, days_ago in action.steps:
            plan.move(
                connection, number, status, may_validate=True, by=QUALITY_MANAGER,
                now=_at(today, days_ago),
            )  # fmt: skip


def _audits(connection: Connection, today: date) -> int:
    for audit in demo_audits():
        held_on = today - timedelta(days=audit.days_ago)
        planned_at = _at(today, max(audit.days_ago, 0) + 60)
        number = internal_audits.add(
            connection, audit.service, held_on, audit.pair, by=QUALITY_MANAGER, now=planned_at
        )
        if audit.days_ago < 0:
            continue
        held_at = _at(today, audit.days_ago)
        stored = internal_audits.get(connection, number)
        assert stored is not None
        for engagement, verdict, evidence in audit.findings:
            _, action = internal_audits.record_finding(
                connection, stored, engagement, verdict, evidence, by=audit.pair[0],
                title=audit.action_title, now=held_at,
            )  # fmt: skip
            for status, days_ago in audit.action_steps if action is not None else ():
                plan.move(
                    connection, action, status, may_validate=True, by=QUALITY_MANAGER,
                    now=_at(today, days_ago),
                )  # fmt: skip
        internal_audits.move(connection, number, "done", by=audit.pair[0], now=held_at)
        issued_at = _at(today, audit.days_ago - 7)
        internal_audits.move(connection, number, "report_issued", by=audit.pair[0], now=issued_at)
    return len(demo_audits())


def _mystery(connection: Connection, today: date, seed: int) -> int:
    luck = random.Random(f"{seed}:mystery")  # noqa: S311 -- made-up data
    grid = mystery.criteria(connection)
    stored = 0
    for months_ago in range(12, 0, -1):
        visited_on = today - timedelta(days=30 * months_ago - 3)
        for service, site in MYSTERY_SERVICES.items():
            for channel in ("reception", "phone"):
                if channel == "phone" and months_ago % 3:
                    continue  # calls once a quarter
                mystery.record(
                    connection, service=service, site=site, channel=channel,
                    visited_on=visited_on, evaluator=EVALUATORS[months_ago % 2], comment="",
                    answers=mystery_answers(grid, channel, luck), by=QUALITY_MANAGER,
                    now=_at(today, 30 * months_ago - 4),
                )  # fmt: skip
                stored += 1
    return stored


ATTENDEES = "Direction générale des services\nQualité\nIRIS\nÉtat civil\nÉducation\nCCAS"


def _meetings(connection: Connection, today: date) -> list[tuple[int, datetime]]:
    """Two monthly meetings held (the first decided a training, which opened an action now
    under way), and the next one planned; the two held, with when their minutes are closed
    (`close_meetings`, once the rest is stored)."""
    first = today - timedelta(days=62)
    number = meetings.add(connection, first, by=QUALITY_MANAGER, now=_at(today, 70))
    meetings.save_minutes(
        connection, number, first, ATTENDEES,
        "Retour sur les attentes de la rentrée scolaire ; préparation de l'audit des médiathèques.",
        by=QUALITY_MANAGER, now=_at(today, 62),
    )  # fmt: skip
    training = plan.Draft(
        title="Initier les agents d'accueil à la langue des signes",
        origin="meeting", services=("iris", "ccas"), engagement="ACC-05",
        owner="qualite", due_on=today + timedelta(days=75),
    )  # fmt: skip
    _, action = meetings.add_decision(
        connection, number, "Former deux agents par site à l'accueil en langue des signes",
        None, action=training, by=QUALITY_MANAGER, now=_at(today, 62),
    )  # fmt: skip
    assert action is not None
    plan.move(connection, action, "in_progress", may_validate=True, by=QUALITY_MANAGER,
              now=_at(today, 30))  # fmt: skip
    held = [(number, _at(today, 61))]
    second = today - timedelta(days=31)
    number = meetings.add(connection, second, by=QUALITY_MANAGER, now=_at(today, 40))
    meetings.save_minutes(
        connection, number, second, ATTENDEES,
        "Attente à l'éducation toujours au-dessus de l'engagement le samedi.",
        by=QUALITY_MANAGER, now=_at(today, 31),
    )  # fmt: skip
    meetings.add_decision(
        connection, number, "Relancer le renfort du samedi à l'éducation", "education",
        action=None, by=QUALITY_MANAGER, now=_at(today, 31),
    )  # fmt: skip
    held.append((number, _at(today, 30)))
    meetings.add(connection, today + timedelta(days=9), by=QUALITY_MANAGER, now=_at(today, 5))
    return held


def close_meetings(
    storage: Storage, settings: Settings, held: Sequence[tuple[int, datetime]]
) -> None:
    """Close the held meetings' minutes as the meeting page does, keeping each preparation as it
    reads on its closing day (figures, register and plan as stored)."""
    for number, closing in held:
        with storage.read() as connection:
            meeting = meetings.get(connection, number)
        assert meeting is not None
        day = closing.astimezone(storage.zone).date()
        whole = meeting_preparation.prepare(storage, settings, meeting, None, on=day)
        with storage.write() as connection:
            meetings.close(
                connection, number, by=QUALITY_MANAGER, now=closing,
                preparation=meeting_preparation.kept(whole),
            )  # fmt: skip


@dataclass(frozen=True)
class CycleCounts:
    actions: int
    audits: int
    mystery_evaluations: int
    meetings: int = 0
    # The meetings held, to close once everything else is stored, and when.
    held: tuple[tuple[int, datetime], ...] = ()


def seed_cycle(
    connection: Connection,
    team: Sequence[dict[str, Any]],
    now: datetime,
    today: date,
    seed: int,
) -> CycleCounts:
    """Store the demo's quality team, plan, audits, meetings and mystery evaluations; how many
    of each."""
    _team(connection, team, now)
    _plan(connection, today)
    audits = _audits(connection, today)
    held = _meetings(connection, today)
    evaluations = _mystery(connection, today, seed)
    return CycleCounts(
        actions=len(plan.actions(connection)),  # audits and meetings opened some too
        audits=audits,
        mystery_evaluations=evaluations,
        meetings=len(held) + 1,
        held=tuple(held),
    )
