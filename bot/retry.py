"""Bot API calls that outlast a flaky network: transient failures are retried with backoff."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

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
