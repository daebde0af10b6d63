"""What `/api/v1/indicators` and `/api/v1/health` answer, as the OpenAPI document states it for
integrators (Power BI, Metabase, a fleet monitor): the figures' own dataclasses, field for field.

The handlers build their JSON themselves; these models only document it (`responses` of the
route), and the contract test checks every answer against them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from sync_server.indicators.figures import Reason, SaidWait
from sync_server.indicators.formulas import Cell, Figure
from sync_server.storage.models import DeviceMode, DeviceStatus


class FiguresLag(BaseModel):
    pending_records: int = Field(description="Records received and not yet in these figures.")
    oldest_received_at: datetime | None = Field(description="When the oldest of them arrived.")


class IndicatorRow(BaseModel):
    site: str
    site_name: str
    service: str
    service_name: str
    period: str
    figures: dict[str, Figure] = Field(
        description='Every figure by key; each question\'s rate as "question:<id>".'
    )
    waits_by_hour: list[Cell] = Field(description="Arrivals and mean wait per weekday × hour.")
    reasons: list[Reason] = Field(description="Reasons for dissatisfaction, most chosen first.")
    said_waits: list[SaidWait] = Field(
        description="Waits visitors declared, against the measured median of the linked ones."
    )


class IndicatorsAnswer(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from", description="The first period's key (e.g. 2026-03).")
    to: str = Field(description="The last period's key.")
    kind: str = Field(description="month, week, quarter, year or campaign.")
    timezone: str
    min_answers: int = Field(description="Below this N a figure is hidden.")
    target: float = Field(description="The satisfaction target where none is set per desk.")
    rows: list[IndicatorRow]
    figures_lag: FiguresLag


class Quarantine(BaseModel):
    count: int
    record_ids: list[str]


class Clock(BaseModel):
    offset_ms: int | None
    drifting: bool
    drift_ms: int | None
    drifting_since: datetime | None


class DeviceHealthAnswer(BaseModel):
    id: str
    name: str
    site: str
    service: str
    mode: DeviceMode
    enrolled_at: datetime | None
    revoked_at: datetime | None
    last_seen_at: datetime | None
    app_version: str | None
    silent: bool
    clock: Clock
    last_heartbeat: DeviceStatus | None
    quarantine: Quarantine


class HealthAnswer(BaseModel):
    generated_at: datetime
    silent_after_hours: int
    max_clock_drift_seconds: int
    devices: list[DeviceHealthAnswer]
    quarantine: Quarantine = Field(description="Every conflict, the phone survey's too.")
