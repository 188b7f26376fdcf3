"""A per-user flood guard: a few questions per window, then one friendly note, then silence."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # the first question over the limit: tell the user once
    DROP = "drop"  # further ones in the same window: stay quiet rather than queue them


class Throttle:
    """Allows ``limit`` questions per user in any ``window`` seconds."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1:
            raise ValueError(f"throttle limit must be at least 1, got {limit}")
        if window <= 0:
            raise ValueError(f"throttle window must be positive seconds, got {window}")
        self.limit = limit
        self.window = window
        self.clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: set[int] = set()

    def check(self, user_id: int) -> Verdict:
        now = self.clock()
        stamps = self._seen.setdefault(user_id, deque())
        while stamps and now - stamps[0] >= self.window:
            stamps.popleft()
        if len(stamps) < self.limit:
            stamps.append(now)
            self._warned.discard(user_id)
            return Verdict.ALLOW
        if user_id in self._warned:
            return Verdict.DROP
        self._warned.add(user_id)
        return Verdict.WARN
