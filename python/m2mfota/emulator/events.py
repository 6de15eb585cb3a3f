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
#: makes an event's (message, detail) when it is first read
Render = Callable[[], tuple[str, dict[str, Any]]]
_RENDER = "render"  # the key a not yet rendered event keeps its Render under


class EventLog:
    """Append-only ring of events, each a dict with an increasing ``id``."""

    def __init__(self, capacity: int = 5000, clock: Callable[[], float] = time.time) -> None:
        self._events: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._next = 1
        self.clock = clock

    def add(self, kind: str, *, imei: str | None = None, status: int | None = None,
            message: str = "", at: float | None = None,
            render: Render | None = None, **detail: Any) -> None:
        """Record one event.  ``kind`` is one of KINDS; ``message`` says what
        happened in words (for a refusal: why); ``at`` is when it happened
        (default: now; an uplink is logged once stored, with the time it
        came in); ``detail`` is JSON-able.

        ``render``, when given, makes (message, detail) the first time the
        event is read, replacing ``message`` and ``detail``: every uplink is
        logged, few of those events are ever read, and formatting each one
        was a measurable part of the ingestion endpoint's cost."""
        event = {"id": self._next, "time": self.clock() if at is None else at, "kind": kind,
                 "imei": imei, "status": status, "message": message, "detail": detail}
        if render is not None:
            event[_RENDER] = render
        self._events.append(event)
        self._next += 1

    def query(self, *, after: int = 0, limit: int = 100, kind: str | None = None,
              imei: str | None = None) -> list[dict[str, Any]]:
        """The newest ``limit`` events with id > ``after``, newest first."""
        out: list[dict[str, Any]] = []
        for ev in reversed(self._events):
            if ev["id"] <= after or len(out) >= limit:
                break
            if (kind is None or ev["kind"] == kind) and (imei is None or ev["imei"] == imei):
                render = ev.pop(_RENDER, None)
                if render is not None:
                    ev["message"], ev["detail"] = render()
                out.append(ev)
        return out
