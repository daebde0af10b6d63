"""Server settings: one typed object, read once at start-up from `QV_*` environment variables."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from sync_server import clock
from sync_server.client_address import ProxyNetwork, trusted_networks
from sync_server.indicators.public_holidays import DEFAULT_REGION, REGIONS

# Never a real secret: good enough to sign a developer's session cookie, refused in production.
DEVELOPMENT_SECRET = "development-only-secret-change-me"  # noqa: S105
MIN_SECRET_LENGTH = 32
# What the characters of a secret carry, estimated from their frequencies (Shannon): a random
# secret of 32 characters or more is far above this; a word or a repeated pattern is not.
MIN_SECRET_BITS = 128
MAKE_A_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'  # noqa: S105


class InsecureSettingsError(ValueError):
    """A production server was configured with a development default."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QV_", extra="ignore")

    database_url: str = "sqlite:///qualivilles.db"
    # PostgreSQL connections each server process keeps open, and no more (a request finding
    # them busy waits): with N processes, N × this must stay under the server's max_connections.
    db_pool_size: int = Field(default=15, ge=1, le=100)
    secret_key: str = DEVELOPMENT_SECRET
    # Production unless told otherwise: `serve` then needs a strong QV_SECRET_KEY; only
    # `sync-server demo` and the tests run in development.
    environment: Literal["development", "production"] = "production"
    # A dashboard session ends after this long without a request, and this long after sign-in.
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_lifetime_hours: int = Field(default=12, ge=1, le=24 * 30)
    # Sign-in throttling: this many failures within `login_lockout_minutes` under one name, or
    # from one client address, lock sign-in for that name or address for that long.
    login_failures_per_account: int = Field(default=5, ge=1)
    login_failures_per_address: int = Field(default=20, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # The API's documentation pages (/docs, /redoc, /openapi.json): in production, for a signed-in
    # administrator only; false removes them altogether.
    api_docs: bool = True
    public_base_url: str = "http://127.0.0.1:8000"
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    min_answers: int = Field(default=5, ge=1)
    enrol_code_ttl_hours: int = Field(default=72, ge=1)
    timezone: str = "Europe/Paris"
    # Qualivilles commits to at least 90 % satisfied on every question.
    target_satisfaction_rate: float = Field(default=90.0, ge=0, le=100)
    # What a kiosk does between visitors; sent to devices in their configuration.
    kiosk_follow_up_seconds: int = Field(default=8, ge=3)
    kiosk_inactivity_timeout_seconds: int = Field(default=30, ge=5)
    kiosk_suspect_interval_seconds: int = Field(default=4, ge=0)
    kiosk_thank_you_seconds: int = Field(default=5, ge=1)
    # A device clock further than this from the server's is corrected and flagged as drifting.
    max_clock_drift_seconds: int = Field(default=120, ge=1)
    # Beyond this, a device clock is unknown rather than wrong: flagged, its offset not applied.
    max_clock_offset_days: int = Field(default=30, ge=1, le=3650)
    # The window a record's capture time (after correction) must fall in, or it is refused
    # (`time_out_of_range`): from the device's enrolment less a day (or, for the phone survey,
    # the server's clock less `record_max_age_days`) to the server's clock plus ten minutes.
    record_time_ahead_seconds: int = Field(default=600, ge=0, le=86_400)
    record_time_before_enrolment_hours: int = Field(default=24, ge=0, le=24 * 366)
    record_max_age_days: int = Field(default=7, ge=1, le=3650)
    # Retention (docs/privacy.md), applied by `sync-server purge` and by the server once a day.
    # Visitors' free texts (comments, text answers) and the register's replies to them: kept this
    # many months after the entry was last handled (received, acknowledged, answered or closed),
    # then emptied; the entry and every count stay.
    free_text_retention_months: int = Field(default=12, ge=1, le=120)
    # Contact details a visitor leaves, with their consent, to be answered about a comment (never
    # those typed in a comment: removed before it is kept): deleted this many days after the
    # entry is closed, and at the latest with the comment's text (at most 3 months).
    contact_details_retention_days: int = Field(default=90, ge=1, le=92)
    # Heartbeat history older than this is purged whenever a heartbeat is written, and daily.
    heartbeat_retention_days: int = Field(default=90, ge=1)
    # The server purges at start-up and every 24 hours; false when `sync-server purge` runs from
    # a timer instead.
    purge_daily: bool = True
    # The PDF worker process starts with the server, in the background, and loads WeasyPrint and
    # its fonts, so the first report asked does not wait seconds for it; false starts it on the
    # first PDF asked (and saves its memory until then).
    pdf_warm_up: bool = True
    # Seconds between two looks at the records accepted and not yet in the figures (each upload
    # projects once replied to; this catches what another process left); 0 turns the loop off.
    projection_every: float = Field(default=2.0, ge=0, le=60)
    # An enrolled device not heard from for longer is reported as silent in the health view.
    silent_after_hours: int = Field(default=24, ge=1)
    # Public holidays the register's "15 working days" skips: metropolitan France, Alsace-Moselle
    # (Good Friday and 26 December too) or an overseas department.
    holidays_region: str = DEFAULT_REGION
    # Unhappy-answers alerts (sync_server/alerts/rule.py): off unless enabled with a channel.
    alerts_enabled: bool = False
    alert_window_minutes: int = Field(default=60, ge=5, le=24 * 60)
    alert_min_answers: int = Field(default=8, ge=1)
    alert_unhappy_percent: float = Field(default=40.0, gt=0, le=100)
    alert_check_seconds: int = Field(default=60, ge=5)
    alert_language: Literal["fr", "en"] = "fr"
    alert_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    alert_smtp_host: str | None = None
    alert_smtp_port: int = Field(default=587, ge=1, le=65535)
    alert_smtp_starttls: bool = True
    alert_smtp_username: str | None = None
    alert_smtp_password: SecretStr | None = None
    alert_mail_from: str | None = None
    alert_mail_to: str = ""  # comma-separated addresses
    alert_webhook_url: str | None = None
    # Reverse proxies (comma-separated IP addresses or networks) whose X-Forwarded-For and
    # X-Forwarded-Proto are believed. None by default: the peer's own address is the client's,
    # and a header anyone can write never decides who is rate-limited.
    trusted_proxies: Annotated[tuple[ProxyNetwork, ...], NoDecode] = ()

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_networks(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return trusted_networks(value)
        except ValueError as error:
            raise ValueError(f"QV_TRUSTED_PROXIES: {error}") from None

    @field_validator("holidays_region")
    @classmethod
    def _known_holidays_region(cls, value: str) -> str:
        if value not in REGIONS:
            raise ValueError(f"holidays_region must be one of {', '.join(REGIONS)}")
        return value

    @model_validator(mode="after")
    def _alerts_need_a_channel(self) -> Settings:
        if self.alert_smtp_host and not (self.alert_mail_from and self.alert_mail_recipients):
            raise ValueError("QV_ALERT_SMTP_HOST needs QV_ALERT_MAIL_FROM and QV_ALERT_MAIL_TO")
        if self.alerts_enabled and not self.alert_channels:
            raise ValueError(
                "QV_ALERTS_ENABLED needs QV_ALERT_SMTP_HOST (e-mail) or QV_ALERT_WEBHOOK_URL"
            )
        return self

    @model_validator(mode="after")
    def _drift_within_the_offset_bound(self) -> Settings:
        if self.max_clock_drift_seconds > self.max_clock_offset_days * 86_400:
            raise ValueError("QV_MAX_CLOCK_DRIFT_SECONDS must not exceed QV_MAX_CLOCK_OFFSET_DAYS")
        return self

    def record_window(self, now: datetime, enrolled_at: datetime | None) -> clock.Window:
        """The capture times a record received `now` may have (see `sync_server.clock`)."""
        return clock.Window.around(
            now,
            enrolled_at=enrolled_at,
            ahead=timedelta(seconds=self.record_time_ahead_seconds),
            before_enrolment=timedelta(hours=self.record_time_before_enrolment_hours),
            max_age=timedelta(days=self.record_max_age_days),
        )

    def require_secure(self) -> None:
        """InsecureSettingsError unless in development or with a strong `secret_key`: what
        every production server checks before it starts."""
        if self.is_development:
            return
        problem = secret_weakness(self.secret_key)
        if problem is not None:
            raise InsecureSettingsError(
                f"QV_SECRET_KEY {problem}; a production server needs a long random value. "
                f"Make one with: {MAKE_A_SECRET}"
            )

    @property
    def max_clock_offset_ms(self) -> int:
        return self.max_clock_offset_days * 86_400_000

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def alert_mail_recipients(self) -> list[str]:
        return [part.strip() for part in self.alert_mail_to.split(",") if part.strip()]

    @property
    def alert_channels(self) -> list[str]:
        """The alert channels configured: "email" and/or "webhook"."""
        channels = ["email"] if self.alert_smtp_host else []
        return channels + (["webhook"] if self.alert_webhook_url else [])


def secret_bits(secret: str) -> float:
    """The Shannon estimate of what `secret` carries: its length × the entropy of its
    character frequencies, in bits."""
    if not secret:
        return 0.0
    counts = Counter(secret).values()
    per_character = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts)
    return len(secret) * per_character


def secret_weakness(secret: str) -> str | None:
    """Why `secret` is too weak to sign production sessions, or None if it is not."""
    if secret == DEVELOPMENT_SECRET:
        return "is the public development secret"
    if len(secret.strip()) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    if secret_bits(secret) < MIN_SECRET_BITS:
        return "is too regular to be random"
    return None
