"""What the agent tablet takes from the server's configuration, and its per-visit links.

No Kivy. Reasons for visit come from the configuration (`service.visit_reasons`); without them
the tablet simply shows no chips.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kiosk.core.device_state import Credentials
from qualivilles.device_config import DeviceConfig, VisitReason
from qualivilles.visit_link import make_token, visit_url


@dataclass(frozen=True)
class AgentDesk:
    desk_name: str = ""
    wait_threshold_minutes: float = 15.0
    reasons: tuple[VisitReason, ...] = ()
    opening_hours: dict[str, list[list[str]]] | None = None
    timezone: str = "Europe/Paris"
    public_base_url: str | None = None

    @classmethod
    def from_config(cls, config: DeviceConfig) -> AgentDesk:
        return cls(
            desk_name=config.desk_name,
            wait_threshold_minutes=float(config.service.wait_threshold_minutes),
            reasons=config.service.visit_reasons,
            opening_hours=config.kiosk.opening_hours,
            timezone=config.kiosk.timezone,
            public_base_url=config.public_base_url,
        )

    def reason_label(self, slug: str | None) -> str:
        return next((r.label for r in self.reasons if r.slug == slug), slug or "")


def visit_link(
    credentials: Credentials | None, desk: AgentDesk, visit_id: str, now: datetime
) -> str | None:
    """The visit's signed phone-survey URL, made offline; None if this device cannot sign."""
    if credentials is None or not credentials.visit_link_secret or not desk.public_base_url:
        return None
    token = make_token(credentials.visit_link_secret, visit_id, credentials.device_id, now)
    return visit_url(desk.public_base_url, token)


def duration_text(seconds: float) -> tuple[int, int, int]:
    """(hours, minutes, seconds) of a duration, for the screens to word."""
    whole = int(max(seconds, 0))
    return whole // 3600, whole % 3600 // 60, whole % 60
