"""Bot API calls that outlast a flaky network: transient failures are retried with backoff."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import AIORateLimiter
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)

JSON = bool | dict[str, Any] | list[dict[str, Any]]


class RetryingRateLimiter(AIORateLimiter):
    """Telegram's flood limits and 429 handling (AIORateLimiter), plus retries of network failures.

    A 5xx, a timeout or a dropped connection is retried ``attempts`` times with growing pauses,
    so an answer is not lost to one bad moment of the network. When the connection drops after
    Telegram accepted a message, the retry delivers it a second time: the Bot API has no
    idempotency key, and a duplicate answer is better than a lost one (at-least-once).
    400s are mistakes in the request, not the network, and are never retried.
    """

    NOT_RETRIED = frozenset({"sendChatAction"})  # cosmetic, and the next one follows in seconds

    def __init__(self, *, attempts: int = 5, first_pause: float = 0.25, **limits: Any) -> None:
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {attempts}")
        if first_pause < 0:
            raise ValueError(f"first_pause must be 0 or more seconds, got {first_pause}")
        super().__init__(**limits)
        self.attempts = attempts
        self.first_pause = first_pause

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, JSON]], args: Any,
                              kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: int | None) -> JSON:
        attempts = 1 if endpoint in self.NOT_RETRIED else self.attempts
        for attempt in range(1, attempts + 1):
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except NetworkError as exc:
                if isinstance(exc, BadRequest) or attempt == attempts:
                    raise
                pause = self.first_pause * 2 ** (attempt - 1) * random.uniform(0.5, 1.0)
                log.info("%s failed (%s); retry %d of %d in %.2f s", endpoint, exc, attempt,
                         attempts - 1, pause)
                await asyncio.sleep(pause)
        raise AssertionError("unreachable: the last attempt returns or raises")


class RetryingUpdatesRequest(HTTPXRequest):
    """The connection that fetches updates, with the same retries for 5xx and dropped connections.

    PTB sends getUpdates past the rate limiter, so RetryingRateLimiter never sees it. Its polling
    loop retries on its own, but the last call on shutdown, the one that tells Telegram which
    updates were handled, is tried once: a dropped connection there means the next start fetches
    and answers those updates again. getUpdates is safe to repeat (the offset says what to send).
    A timeout is not retried: for a long poll it only means nothing new arrived.
    """

    def __init__(self, *, attempts: int = 4, first_pause: float = 0.25, **options: Any) -> None:
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {attempts}")
        super().__init__(**options)
        self.attempts = attempts
        self.first_pause = first_pause

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        for attempt in range(1, self.attempts + 1):
            try:
                code, payload = await super().do_request(*args, **kwargs)
            except NetworkError as exc:
                if isinstance(exc, TimedOut) or attempt == self.attempts:
                    raise
                log.info("getUpdates failed (%s); retry %d of %d", exc, attempt, self.attempts - 1)
            else:
                if code < 500 or attempt == self.attempts:
                    return code, payload
                log.info("getUpdates failed (HTTP %d); retry %d of %d", code, attempt, self.attempts - 1)
            await asyncio.sleep(self.first_pause * 2 ** (attempt - 1) * random.uniform(0.5, 1.0))
        raise AssertionError("unreachable: the last attempt returns or raises")
