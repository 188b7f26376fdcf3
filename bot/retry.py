"""Bot API calls that outlast a flaky network: transient failures are retried with backoff."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import AIORateLimiter

from newsbot.bot.replies import UpdatesRequest

log = logging.getLogger(__name__)

JSON = bool | dict[str, Any] | list[dict[str, Any]]
T = TypeVar("T")


class _ServerError(NetworkError):
    """A 5xx reply, raised so that it is retried like a dropped connection."""

    def __init__(self, code: int, payload: bytes) -> None:
        super().__init__(f"HTTP {code}")
        self.code, self.payload = code, payload


async def retried(
    call: Callable[[], Awaitable[T]],
    what: str,
    attempts: int,
    first_pause: float,
    retryable: Callable[[NetworkError], bool],
) -> T:
    """``call()``, tried up to ``attempts`` times while it fails with a retryable NetworkError,
    with growing, jittered pauses."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except NetworkError as exc:
            if not retryable(exc) or attempt == attempts:
                raise
            pause = first_pause * 2 ** (attempt - 1) * random.uniform(0.5, 1.0)
            log.info("%s failed (%s); retry %d of %d in %.2f s", what, exc, attempt, attempts - 1, pause)
            await asyncio.sleep(pause)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _check(attempts: int, first_pause: float) -> None:
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    if first_pause < 0:
        raise ValueError(f"first_pause must be 0 or more seconds, got {first_pause}")


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
        _check(attempts, first_pause)
        super().__init__(**limits)
        self.attempts = attempts
        self.first_pause = first_pause
        self._waiting = 0

    @property
    def waiting(self) -> int:
        """Calls now waiting for the send budget (not yet let through)."""
        return self._waiting

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSON:
        waits = True
        self._waiting += 1

        async def let_through(*call_args: Any, **call_kwargs: Any) -> JSON:
            nonlocal waits
            if waits:
                waits = False
                self._waiting -= 1
            return await callback(*call_args, **call_kwargs)

        async def once() -> JSON:
            return await super(RetryingRateLimiter, self).process_request(
                let_through, args, kwargs, endpoint, data, rate_limit_args
            )

        attempts = 1 if endpoint in self.NOT_RETRIED else self.attempts
        try:
            return await retried(
                once, endpoint, attempts, self.first_pause, retryable=lambda exc: not isinstance(exc, BadRequest)
            )
        finally:
            if waits:  # cancelled or refused before it was let through
                self._waiting -= 1


class RetryingUpdatesRequest(UpdatesRequest):
    """The connection that fetches updates, with the same retries for 5xx and dropped connections.

    PTB sends getUpdates past the rate limiter, so RetryingRateLimiter never sees it. Its polling
    loop retries on its own, but the last call on shutdown, the one that tells Telegram which
    updates were handled, is tried once: a dropped connection there means the next start fetches
    and answers those updates again. getUpdates is safe to repeat (the offset says what to send).
    A timeout is not retried: for a long poll it only means nothing new arrived. Updates PTB
    cannot read are dropped with a warning (UpdatesRequest).
    """

    def __init__(self, *, attempts: int = 4, first_pause: float = 0.25, **options: Any) -> None:
        _check(attempts, first_pause)
        super().__init__(**options)
        self.attempts = attempts
        self.first_pause = first_pause

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        async def once() -> tuple[int, bytes]:
            code, payload = await super(RetryingUpdatesRequest, self).do_request(*args, **kwargs)
            if code >= 500:
                raise _ServerError(code, payload)
            return code, payload

        try:
            return await retried(
                once, "getUpdates", self.attempts, self.first_pause, retryable=lambda exc: not isinstance(exc, TimedOut)
            )
        except _ServerError as exc:  # still failing: PTB turns the reply into its own error
            return exc.code, exc.payload
