"""Opening hours of a desk: when the kiosk invites visitors and when it shows "closed".

Hours come from the server's configuration as
`{"mon": [["08:30", "12:00"], ["13:30", "17:30"]], …, "sun": []}`, in the town's local time.
No hours at all means always open (a desk that never configured them keeps working).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, time

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

OpeningHours = Mapping[str, Sequence[Sequence[str]]]


class InvalidOpeningHours(ValueError):
    """The configuration's hours cannot be read; the message says where."""


def _parse_clock(text: str, where: str) -> time:
    match = _CLOCK.match(text)
    if not match:
        raise InvalidOpeningHours(f"{where}: expected HH:MM, got {text!r}")
    return time(int(match.group(1)), int(match.group(2)))


def parse(hours: OpeningHours | None) -> dict[str, list[tuple[time, time]]] | None:
    """Validated periods per weekday, or None for "always open"."""
    if not hours:
        return None
    periods: dict[str, list[tuple[time, time]]] = {}
    for day, spans in hours.items():
        if day not in DAYS:
            raise InvalidOpeningHours(f"{day!r} is not one of {', '.join(DAYS)}")
        parsed = []
        for index, span in enumerate(spans):
            if len(span) != 2:
                raise InvalidOpeningHours(f"{day}[{index}]: expected [opening, closing]")
            opening = _parse_clock(span[0], f"{day}[{index}][0]")
            closing = _parse_clock(span[1], f"{day}[{index}][1]")
            if closing <= opening:
                raise InvalidOpeningHours(f"{day}[{index}]: closes before it opens")
            parsed.append((opening, closing))
        periods[day] = sorted(parsed)
    return periods


def is_open(hours: OpeningHours | None, local_now: datetime) -> bool:
    """True when `local_now` (the town's local time) falls in an opening period."""
    periods = parse(hours)
    if periods is None:
        return True
    today = periods.get(DAYS[local_now.weekday()], [])
    moment = local_now.time()
    return any(opening <= moment < closing for opening, closing in today)


def today_summary(hours: OpeningHours | None, local_now: datetime) -> str:
    """Today's periods as "08:30–12:00, 13:30–17:30" ("" when closed all day or no hours)."""
    periods = parse(hours)
    if periods is None:
        return ""
    today = periods.get(DAYS[local_now.weekday()], [])
    return ", ".join(f"{o:%H:%M}–{c:%H:%M}" for o, c in today)
