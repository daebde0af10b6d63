"""One visitor at the kiosk: the survey flow tied to the store, with no GUI.

The screens call these methods on each tap and read `state`; every method that records
something commits it to SQLite before returning, so the screen only moves on once the answer
is durable. Configuration changes wait for the next visitor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from kiosk.core.clock import DeviceClock
from kiosk.core.store import is_suspect_press
from qualivilles import flow
from qualivilles.answers import payload_answers
from qualivilles.device_config import DeviceConfig, KioskSettings, PublishedResults
from qualivilles.flow import FlowState, FlowStatus
from qualivilles.protocol import Channel, ResponseStatus
from qualivilles.survey import SurveyDefinition


@dataclass(frozen=True)
class DeskConfig:
    """Everything a kiosk shows that comes from the server; swapped whole, between visitors."""

    survey: SurveyDefinition
    settings: KioskSettings = field(default_factory=KioskSettings)
    phone_survey_url: str | None = None
    published_results: PublishedResults | None = None
    desk_name: str = ""

    @classmethod
    def from_config(cls, config: DeviceConfig) -> DeskConfig:
        """The kiosk's part of a configuration; `ValueError` if it has no survey to ask."""
        if config.survey is None:
            raise ValueError("the configuration has no survey")
        return cls(
            survey=config.survey,
            settings=config.kiosk,
            phone_survey_url=config.phone_survey_url,
            published_results=config.published_results,
            desk_name=config.desk_name,
        )


class ResponseStore(Protocol):
    def start_response(
        self,
        survey_id: str,
        survey_version: int,
        language: str,
        channel: str = "kiosk",
        suspect: bool = False,
    ) -> str: ...
    def record_answer(self, response_id: str, question_id: str, value: Any) -> None: ...
    def replace_answers(self, response_id: str, answers: Mapping[str, Any]) -> None: ...
    def set_comment(self, response_id: str, text: str | None) -> None: ...
    def seal_response(self, response_id: str, status: ResponseStatus) -> None: ...


_SEALED_STATUS = {
    FlowStatus.COMPLETE: ResponseStatus.COMPLETE,
    FlowStatus.PARTIAL: ResponseStatus.PARTIAL,
}


class VisitorSession:
    """The kiosk's current visitor, if any, and the configuration in force."""

    def __init__(self, store: ResponseStore, clock: DeviceClock, config: DeskConfig):
        self._store = store
        self._clock = clock
        self._config = config
        self._pending_config: DeskConfig | None = None
        self._last_main_press_ms: int | None = None
        self.state: FlowState | None = None
        self.response_id: str | None = None
        self.suspect = False

    @property
    def config(self) -> DeskConfig:
        return self._config

    @property
    def in_progress(self) -> bool:
        return self.state is not None and not self.state.finished

    def offer_config(self, config: DeskConfig) -> bool:
        """Take a new configuration now if nobody is answering, else at the next visitor.

        Returns True when it was applied at once.
        """
        if self.in_progress:
            self._pending_config = config
            return False
        self._config, self._pending_config = config, None
        return True

    def tap_main(self, choice_id: str, language: str) -> FlowState:
        """The one tap on the attract screen: the main answer is durable when this returns."""
        if self.in_progress:
            self.time_out()  # a new visitor never inherits the previous one's answers
        if self._pending_config is not None:
            self._config, self._pending_config = self._pending_config, None
        survey = self._config.survey
        state = flow.answer(
            flow.start(survey, language, Channel.KIOSK), survey.main_question, choice_id
        )
        now_ms = self._clock.monotonic_ms()
        self.suspect = is_suspect_press(
            self._last_main_press_ms, now_ms, self._config.settings.suspect_interval_seconds
        )
        self._last_main_press_ms = now_ms
        response_id = self._store.start_response(
            survey.id, survey.version, language, channel="kiosk", suspect=self.suspect
        )
        self._store.record_answer(response_id, survey.main_question, choice_id)
        self.response_id, self.state = response_id, state
        self._seal_if_finished()
        return state

    def answer(self, question_id: str, value: Any) -> FlowState:
        # `flow.answer` validates before anything is written.
        return self._move_to(flow.answer(self._require_state(), question_id, value))

    def skip(self, question_id: str) -> FlowState:
        return self._move_to(flow.skip(self._require_state(), question_id))

    def back(self) -> FlowState:
        """The previous question again; its answer stays recorded until it is replaced."""
        return self._move_to(flow.back(self._require_state()))

    def _move_to(self, next_state: FlowState) -> FlowState:
        """Record what changed in the answers (durable before the screen moves on), then seal
        the response if the flow is over."""
        previous = self._require_state()
        assert self.response_id is not None
        if next_state.answers != previous.answers:
            survey = next_state.survey
            choices, comment = payload_answers(survey, next_state.answers)
            before, comment_before = payload_answers(survey, previous.answers)
            if choices != before:
                self._store.replace_answers(self.response_id, choices)
            if comment != comment_before:
                self._store.set_comment(self.response_id, comment)
        self.state = next_state
        self._seal_if_finished()
        return next_state

    def finish(self) -> FlowState:
        self.state = flow.finish_early(self._require_state())
        self._seal_if_finished()
        return self.state

    def time_out(self) -> FlowState | None:
        """Inactivity: keep the answers as partial and get ready for the next visitor."""
        if self.state is None or self.state.finished:
            return self.state
        self.state = flow.time_out(self.state)
        self._seal_if_finished()
        return self.state

    def _require_state(self) -> FlowState:
        if self.state is None:
            raise flow.NotAsking("no visitor is answering")
        return self.state

    def _seal_if_finished(self) -> None:
        assert self.state is not None
        if not self.state.finished:
            return
        status = _SEALED_STATUS.get(self.state.status)
        if status is not None and self.response_id is not None:
            self._store.seal_response(self.response_id, status)
        # The visitor is done: a configuration that arrived meanwhile applies from now on, so
        # the next visitor sees the questions their answers will be recorded against.
        if self._pending_config is not None:
            self._config, self._pending_config = self._pending_config, None
