"""Reading the question and choices aloud, for visitors with low vision (off by default).

Public `speak()` picks the platform's engine; on Linux that is espeak-ng (Debian package
espeak-ng), started in the background so the screen never waits for the voice. On a platform
without an engine it does nothing and says so through `speech_available()`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

# espeak-ng voice per survey language; the voice names are espeak-ng's own.
VOICES = {"fr": "fr-fr", "en": "en-gb", "es": "es", "ar": "ar"}
WORDS_PER_MINUTE = 150  # a little slower than the default 175: clearer for everyone


def _espeak() -> str | None:
    return shutil.which("espeak-ng") if sys.platform.startswith("linux") else None


def speech_available() -> bool:
    return _espeak() is not None


def espeak_command(text: str, language: str, wav_path: Path | None = None) -> list[str]:
    """The espeak-ng command line for `text`; to a WAV file when `wav_path` is given."""
    command = ["espeak-ng", "-v", VOICES.get(language, "fr-fr"), "-s", str(WORDS_PER_MINUTE)]
    if wav_path is not None:
        command += ["-w", str(wav_path)]
    return [*command, "--", text]


class Speaker:
    """Says one thing at a time: a new sentence interrupts the previous one."""

    def __init__(self) -> None:
        self._current: subprocess.Popen[bytes] | None = None

    def speak(self, text: str, language: str) -> bool:
        binary = _espeak()
        if binary is None or not text.strip():
            return False
        self.stop()
        command = espeak_command(text, language)
        command[0] = binary
        self._current = subprocess.Popen(  # noqa: S603 -- fixed binary, text passed after "--"
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        return True

    def stop(self) -> None:
        if self._current is not None and self._current.poll() is None:
            self._current.terminate()
        self._current = None
