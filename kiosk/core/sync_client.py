"""The kiosk's HTTP client for the device API: enrol, upload records, fetch configuration.

Every failure becomes one of a few typed errors, each naming what the caller can do about it.
A response counts as a success only when it is the server's own, well-formed answer: a captive
portal's 200 page, a truncated body or acknowledgements for records we did not send are
`InvalidAcknowledgement`, and the records stay queued.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import requests
from pydantic import BaseModel, ValidationError
from urllib3.exceptions import NameResolutionError, NewConnectionError

from kiosk.core.clock import DeviceClock, SystemClock, estimate_offset_ms
from kiosk.core.device_state import Credentials
from qualivilles.device_config import EnrolmentReply, EnrolmentRequest
from qualivilles.protocol import (
    Ack,
    Heartbeat,
    HeartbeatAck,
    Problem,
    RecordIn,
    SyncRequest,
    SyncResponse,
    TokenRotation,
)

try:
    APP_VERSION = version("qualivilles-kiosk")
except PackageNotFoundError:  # running from a source tree that was never installed
    APP_VERSION = "0+unknown"

Timeout = tuple[float, float]  # (connect, read) seconds
DEFAULT_TIMEOUT: Timeout = (5.0, 15.0)


class SyncError(Exception):
    """Base class: the exchange failed and nothing on the device was changed."""

    code = "sync_error"


class ServerUnreachable(SyncError):
    """No answer at all: retry with backoff.

    `code` says which: "server_unreachable" (no connection could be made: no network, DNS,
    refused — a reachability probe can tell when that changes), "server_timeout" (connected, but
    no answer in time) or "connection_lost" (cut before the answer was read; the server may have
    committed, so the retry may be acknowledged as duplicate).
    """

    code = "server_unreachable"

    def __init__(self, message: str, code: str = "server_unreachable") -> None:
        super().__init__(message)
        self.code = code


class ServerError(SyncError):
    """The server is there but failing or busy (5xx, 408, 429): retry, not before `retry_after`."""

    code = "server_error"

    def __init__(self, message: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class InvalidAcknowledgement(SyncError):
    """An answer that is not the server's (portal, proxy, truncated, wrong ids): retry later."""

    code = "invalid_acknowledgement"


class _ProblemError(SyncError):
    def __init__(self, message: str, status: int, code: str | None, detail: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.problem_code = code
        self.detail = detail
        if code:
            self.code = code


class AuthRejected(_ProblemError):
    """401/403: the token is unknown or revoked (`code`, e.g. "device_revoked"). Re-enrol."""

    code = "auth_rejected"


class RequestRejected(_ProblemError):
    """Another 4xx: the server refused this request (`code`); resending it as is won't help."""

    code = "request_rejected"


@dataclass(frozen=True)
class SyncExchange:
    """One upload: the acknowledgements and the timings that estimate the device's clock offset."""

    acks: list[Ack]
    sent_at: datetime
    server_received_at: datetime
    round_trip_ms: int

    @property
    def clock_offset_ms(self) -> int:
        return estimate_offset_ms(self.sent_at, self.server_received_at, self.round_trip_ms)


def _problem(response: requests.Response) -> tuple[str | None, str | None]:
    """The stable `code` and `detail` of an application/problem+json body, if there is one."""
    try:
        problem = Problem.model_validate_json(response.content)
    except ValidationError:
        return None, None
    return problem.code, problem.detail or problem.title or None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delay in seconds or an HTTP date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - (now or datetime.now(UTC))).total_seconds(), 0.0)


def _raise_for_status(response: requests.Response) -> None:
    status = response.status_code
    if status >= 500 or status in (408, 429):
        raise ServerError(
            f"server answered {status}",
            status,
            parse_retry_after(response.headers.get("Retry-After")),
        )
    if status in (401, 403):
        code, detail = _problem(response)
        raise AuthRejected(f"device not authorised ({code or status})", status, code, detail)
    if 400 <= status < 500:
        code, detail = _problem(response)
        raise RequestRejected(f"request refused ({code or status})", status, code, detail)
    if 300 <= status < 400:
        # Redirects are not followed: on a town-hall network they lead to a captive portal.
        raise InvalidAcknowledgement(
            f"redirected ({status}) to {response.headers.get('Location')!r}"
        )


def _send(
    session: requests.Session, method: str, url: str, timeout: Timeout, **kwargs: Any
) -> requests.Response:
    try:
        response = session.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
        # Read the whole body here so that a connection cut mid-body is caught below.
        _ = response.content
    except (
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
    ) as error:
        # The server may have committed; the next upload is acknowledged as a duplicate.
        raise InvalidAcknowledgement(f"truncated answer: {error}") from error
    except requests.RequestException as error:
        raise ServerUnreachable(
            str(error) or type(error).__name__, _unreachable_code(error)
        ) from error
    return response


def _unreachable_code(error: requests.RequestException) -> str:
    """Tell "could not connect" from "connected, then no (complete) answer"."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return "server_unreachable"
    if isinstance(error, requests.exceptions.Timeout):
        return "server_timeout"
    if isinstance(error, requests.exceptions.ConnectionError):
        reason = getattr(error.args[0], "reason", None) if error.args else None
        if isinstance(reason, (NewConnectionError, NameResolutionError)):
            return "server_unreachable"
        return "connection_lost"
    return "server_unreachable"


def _json_object(response: requests.Response, what: str) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError as error:
        kind = response.headers.get("Content-Type", "no content type")
        raise InvalidAcknowledgement(f"{what} is not JSON ({kind})") from error
    if not isinstance(body, dict):
        raise InvalidAcknowledgement(f"{what} is not a JSON object")
    return body


class SyncClient:
    """Talks to one server with one device token. Not thread-safe: one per worker thread."""

    def __init__(
        self,
        server_url: str,
        token: str,
        session: requests.Session | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        clock: DeviceClock | None = None,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.timeout = timeout
        self.clock: DeviceClock = clock or SystemClock()
        self._owns_session = session is None
        self.session = session or requests.Session()
        self.use_token(token)
        self.session.headers.setdefault("User-Agent", f"qualivilles-kiosk/{APP_VERSION}")

    def use_token(self, token: str) -> None:
        """Authenticate every later request with `token` (after a rotation)."""
        self.session.headers["Authorization"] = f"Bearer {token}"

    @classmethod
    def from_credentials(
        cls, credentials: Credentials, session: requests.Session | None = None, **kwargs: Any
    ) -> SyncClient:
        return cls(credentials.server_url, credentials.token, session, **kwargs)

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @staticmethod
    def enrol(
        server_url: str,
        code: str,
        app_version: str = APP_VERSION,
        session: requests.Session | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
    ) -> Credentials:
        """Exchange a one-time enrolment code for this device's identity and token."""
        server_url = server_url.rstrip("/")
        owned = session is None
        session = session or requests.Session()
        try:
            response = _send(
                session,
                "POST",
                f"{server_url}/api/v1/enrol",
                timeout,
                # Checked by the server, whose refusal is the error the caller acts on.
                json=EnrolmentRequest.model_construct(
                    code=code, app_version=app_version
                ).model_dump(),
            )
        finally:
            if owned:
                session.close()
        _raise_for_status(response)
        try:
            enrolment = EnrolmentReply.model_validate(_json_object(response, "enrolment answer"))
        except ValidationError as error:
            raise InvalidAcknowledgement(f"enrolment answer is malformed: {error}") from error
        return Credentials(
            server_url=server_url,
            device_id=enrolment.device_id,
            token=enrolment.token,
            site=enrolment.site,
            service=enrolment.service,
            mode=enrolment.mode,
            visit_link_secret=enrolment.visit_link_secret,
            device_name=enrolment.name,
        )

    def exchange(self, records: Sequence[RecordIn]) -> SyncExchange:
        """Upload one batch; return its acknowledgements with the clock-offset timings.

        Raises `InvalidAcknowledgement` unless the answer is a valid `SyncResponse` whose every
        acknowledgement names a record of this batch.
        """
        sent_at = self.clock.now()
        request = SyncRequest(sent_at=sent_at, records=list(records))
        response, round_trip_ms = self._post_json("/api/v1/sync", request)
        try:
            answer = SyncResponse.model_validate_json(response.content)
        except ValidationError as error:
            kind = response.headers.get("Content-Type", "no content type")
            raise InvalidAcknowledgement(
                f"not a sync acknowledgement ({kind}, {len(response.content)} bytes)"
            ) from error
        sent = {record.id for record in records}
        strangers = [ack.id for ack in answer.acknowledged if ack.id not in sent]
        if strangers:
            raise InvalidAcknowledgement(
                f"{len(strangers)} acknowledgement(s) for records not in this batch"
            )
        return SyncExchange(answer.acknowledged, sent_at, answer.received_at, round_trip_ms)

    def _post_json(self, path: str, body: BaseModel) -> tuple[requests.Response, int]:
        """POST a model as JSON; the 200 answer and the round trip on the monotonic clock.

        Problem answers raise their typed error; any other status is not an acknowledgement.
        """
        started_ms = self.clock.monotonic_ms()
        response = _send(
            self.session,
            "POST",
            f"{self.server_url}{path}",
            self.timeout,
            data=body.model_dump_json().encode("utf-8"),
            headers={"Content-Type": "application/json"},
        )
        round_trip_ms = self.clock.monotonic_ms() - started_ms
        _raise_for_status(response)
        if response.status_code != 200:
            raise InvalidAcknowledgement(f"unexpected status {response.status_code}")
        return response, round_trip_ms

    def upload(self, records: Sequence[RecordIn]) -> list[Ack]:
        """Upload one batch and return the server's acknowledgement of each record."""
        return self.exchange(records).acks

    def fetch_config(self, etag: str | None = None) -> tuple[dict[str, Any] | None, str | None]:
        """The device's configuration and its ETag; `(None, etag)` when unchanged (304)."""
        headers = {"If-None-Match": etag} if etag else {}
        response = _send(
            self.session, "GET", f"{self.server_url}/api/v1/config", self.timeout, headers=headers
        )
        if response.status_code == 304:
            return None, response.headers.get("ETag", etag)
        _raise_for_status(response)
        if response.status_code != 200:
            raise InvalidAcknowledgement(f"unexpected status {response.status_code}")
        config = _json_object(response, "configuration")
        if "config_version" not in config:
            raise InvalidAcknowledgement("configuration without config_version")
        return config, response.headers.get("ETag")

    def heartbeat(self, heartbeat: Heartbeat) -> SyncExchange:
        """Tell the server how the device is doing; the exchange's timings give a clock offset.

        The returned exchange has no acknowledgements (a heartbeat has no records).
        """
        response, round_trip_ms = self._post_json("/api/v1/heartbeat", heartbeat)
        try:
            answer = HeartbeatAck.model_validate_json(response.content)
        except ValidationError as error:
            raise InvalidAcknowledgement("not a heartbeat acknowledgement") from error
        return SyncExchange([], heartbeat.sent_at, answer.received_at, round_trip_ms)

    def rotate_token(self) -> str:
        """Ask for a new token (this client keeps using the current one until told otherwise).

        The old token works until the new one is first used: save the new one durably, then
        `use_token` it. If this answer is lost, simply ask again with the old token.
        """
        response = _send(
            self.session, "POST", f"{self.server_url}/api/v1/token/rotate", self.timeout
        )
        _raise_for_status(response)
        if response.status_code != 200:
            raise InvalidAcknowledgement(f"unexpected status {response.status_code}")
        try:
            return TokenRotation.model_validate_json(response.content).token
        except ValidationError as error:
            raise InvalidAcknowledgement("not a token rotation answer") from error
