"""The operator's event log: every uplink, downlink and file request, and
every refusal with its reason.

Kept in memory (a ring of the last ``capacity`` events), not in SQLite: an
event per uplink must cost next to nothing on the ingestion path, and the
log is for watching a run, while the database keeps the state that matters.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

KINDS = ("uplink", "downlink", "file", "refused")


class EventLog:
    """Append-only ring of events, each a dict with an increasing ``id``."""

    def __init__(self, capacity: int = 5000, clock: Callable[[], float] = time.time) -> None:
        self._events: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._next = 1
        self.clock = clock

    def add(self, kind: str, *, imei: str | None = None, status: int | None = None,
            message: str = "", at: float | None = None, **detail: Any) -> None:
        """Record one event.  ``kind`` is one of KINDS; ``message`` says what
        happened in words (for a refusal: why); ``at`` is when it happened
        (default: now; an uplink is logged once stored, with the time it
        came in); ``detail`` is JSON-able."""
        self._events.append({"id": self._next, "time": self.clock() if at is None else at,
                             "kind": kind,
                             "imei": imei, "status": status, "message": message,
                             "detail": detail})
        self._next += 1

    def query(self, *, after: int = 0, limit: int = 100, kind: str | None = None,
              imei: str | None = None) -> list[dict[str, Any]]:
        """The newest ``limit`` events with id > ``after``, newest first."""
        out: list[dict[str, Any]] = []
        for ev in reversed(self._events):
            if ev["id"] <= after or len(out) >= limit:
                break
            if (kind is None or ev["kind"] == kind) and (imei is None or ev["imei"] == imei):
                out.append(ev)
        return out
