"""What the server tells a device: its enrolment and its configuration, one model each. Pure.

The server builds these (`POST /api/v1/enrol`, `GET /api/v1/config`) and the kiosk and the
agent tablet read them through the same models, so neither side spells a field on its own. A
device reads tolerantly: unknown fields are ignored (a newer server may send more) and every part
of a configuration has a default, so one cached from an older server still starts the device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from qualivilles import opening_hours
from qualivilles.protocol import payload_hash
from qualivilles.survey import SurveyDefinition, parse_definition

# A number kept as it was given (30 stays 30, 30.0 stays 30.0): the configuration's version is
# the hash of its JSON, which must not move when a device reads and the server writes it.
Number = int | float


class _Reply(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class EnrolmentRequest(BaseModel):
    """`POST /api/v1/enrol`: the one-time code printed by `sync-server enrol-device`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Annotated[str, StringConstraints(min_length=4, max_length=64)]
    app_version: Annotated[str, StringConstraints(max_length=50)] | None = None


class EnrolmentReply(_Reply):
    """Who the device is and how it authenticates; the token is given only this once."""

    device_id: str
    token: str
    site: str
    service: str
    mode: str = "kiosk"
    name: str = ""
    # Signs per-visit phone links made offline on a tablet; the server checks them.
    visit_link_secret: str | None = None


class DeviceInfo(_Reply):
    id: str = ""
    name: str = ""
    mode: str = "kiosk"


class SiteInfo(_Reply):
    slug: str = ""
    name: str = ""


@dataclass(frozen=True)
class VisitReason:
    """A reason-for-visit chip on the agent tablet."""

    slug: str
    label: str


class ServiceInfo(_Reply):
    slug: str = ""
    name: str = ""
    wait_threshold_minutes: Number = 15
    visit_reasons: tuple[VisitReason, ...] = ()


def _absent(value: object) -> bool:
    return value is None


class KioskSettings(_Reply):
    """How a kiosk behaves at this desk; the defaults run one that never heard from a server."""

    # A follow-up left untouched this long: the visitor has gone, the response is kept as
    # partial and the kiosk is free again. One visitor's answers never take the next one's taps.
    follow_up_seconds: Number = 8.0
    # While a visitor types a comment: untouched this long, "are you still there?".
    inactivity_timeout_seconds: Number = 30.0
    suspect_interval_seconds: Number = 5.0
    thank_you_seconds: Number = 5.0
    languages: tuple[str, ...] = ("fr", "en")
    # {"mon": [["08:30", "17:30"]], …} in the town's time zone; None: always open.
    opening_hours: dict[str, list[list[str]]] | None = None
    timezone: str = "Europe/Paris"
    # Read when a configuration carries it; the server has no setting for it and never sends it.
    still_there_seconds: Number = Field(default=10.0, exclude=True)
    # The staff PIN's hash (see `kiosk --staff-pin`), sent only when the server has one.
    staff_pin_hash: str | None = Field(default=None, exclude_if=_absent)

    @field_validator("opening_hours")
    @classmethod
    def _readable(cls, hours: dict[str, list[list[str]]] | None) -> Any:
        opening_hours.parse(hours)  # refuse unreadable hours up front
        return hours


class PublishedResults(_Reply):
    """Last complete month's overall satisfaction at this desk, shown on the thank-you screen."""

    period: str = ""  # "2026-10"
    satisfaction_rate: Number | None = None
    answers: int | None = None
    target: Number | None = None


class DeviceConfig(_Reply):
    """`GET /api/v1/config`: everything a device needs to run at its desk.

    `config_version` is the hash of the rest of the document (`versioned` sets it); the server
    sends it as the ETag, and a device asks again with `If-None-Match`."""

    config_version: str | None = None
    device: DeviceInfo = DeviceInfo()
    site: SiteInfo = SiteInfo()
    service: ServiceInfo = ServiceInfo()
    # The published survey, checked as any definition is (a tablet needs none).
    survey: SurveyDefinition | None = None
    phone_survey_url: str | None = None
    # Agent tablets sign per-visit links to `{public_base_url}/v/{token}` offline.
    public_base_url: str | None = None
    kiosk: KioskSettings = KioskSettings()
    published_results: PublishedResults | None = None

    @field_validator("device", "site", "service", "kiosk", mode="before")
    @classmethod
    def _missing_part(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("survey", mode="before")
    @classmethod
    def _checked_survey(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return parse_definition(value, "server configuration")
        return value

    def versioned(self) -> DeviceConfig:
        """This configuration with `config_version` set to the hash of everything else."""
        document = self.model_dump(mode="json", exclude={"config_version"})
        return self.model_copy(update={"config_version": payload_hash(document)})

    @property
    def desk_name(self) -> str:
        """ "IRIS – guichet unique – Centre administratif": what the device shows of its desk."""
        return " – ".join(part for part in (self.service.name, self.site.name) if part)
