"""What a computation is asked: a period, which desks, the rules of publication, which parts.

Small frozen values, so a page builds one in a line and the pipeline passes it whole.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sync_server.indicators import formulas, public_holidays
from sync_server.indicators.periods import Period
from sync_server.settings import Settings


@dataclass(frozen=True)
class Scope:
    """Which desks and answers: None is every site (service); suspect presses left out unless
    asked for."""

    sites: tuple[str, ...] | None = None
    services: tuple[str, ...] | None = None
    include_suspect: bool = False

    @classmethod
    def of(
        cls,
        sites: Iterable[str] | None = None,
        services: Iterable[str] | None = None,
        include_suspect: bool = False,
    ) -> Scope:
        return cls(
            None if sites is None else tuple(sites),
            None if services is None else tuple(services),
            include_suspect,
        )

    @property
    def site_list(self) -> list[str] | None:
        return None if self.sites is None else list(self.sites)

    @property
    def service_list(self) -> list[str] | None:
        return None if self.services is None else list(self.services)


@dataclass(frozen=True)
class Rules:
    """The settings the figures depend on: minimum N, default target, time zone, the register's
    holidays, the day that decides which open entries are late, when a device counts as silent."""

    min_answers: int = 5
    default_target: float = 90.0
    timezone: str = "Europe/Paris"
    holidays: Container[date] = field(default=formulas.NO_HOLIDAYS, compare=False)
    today: date | None = None  # None: today in `timezone`
    silent_after_hours: int | None = None  # None: silent devices are not counted

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        return cls(
            min_answers=settings.min_answers,
            default_target=settings.target_satisfaction_rate,
            timezone=settings.timezone,
            holidays=public_holidays.calendar(settings.holidays_region),
            today=datetime.now(ZoneInfo(settings.timezone)).date(),
            silent_after_hours=settings.silent_after_hours,
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def day(self) -> date:
        return self.today or datetime.now(self.zone).date()


@dataclass(frozen=True)
class Parts:
    """What to compute beyond the satisfaction figures (answers, rate, net, margin); each part is
    reading a page that does not show it can skip."""

    waits: bool = True  # mean and median wait of served visits
    previous_waits: bool = True  # ... and their value in the previous period
    visits: bool = False  # every figure of the agents' visits: p90, walk-outs, bands, heatmap
    details: bool = True  # score, participation, register deadlines, questions, data quality


# The parts each kind of page asks for. A figure is the same whichever parts it comes with.
EVERY = Parts(visits=True)  # every figure: JSON API, service page, exports, PDFs, annual review
DESK = Parts()  # no agents' visit beyond the mean and median wait
CARDS = Parts(previous_waits=False)  # the overview's cards show no previous wait
WAITS = Parts(visits=True, details=False)  # the waits alone
SATISFACTION = Parts(waits=False, previous_waits=False, details=False)  # trend, kiosk result


@dataclass(frozen=True)
class IndicatorQuery:
    """The figures of the desks in `scope` for `period` (and the period before, for the
    "previous" column), under `rules`, for the `parts` a page shows."""

    period: Period
    scope: Scope = Scope()
    rules: Rules = Rules()
    parts: Parts = DESK
