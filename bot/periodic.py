"""Work the bot does on its own every so many seconds, as a task that lives from start to stop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from telegram.ext import Application


class Periodic:
    """Runs ``_run`` (a subclass's loop) as one named task between ``start`` and ``stop``."""

    name = "newsbot-periodic"
    what = "the interval"  # named in the error for a bad interval

    def __init__(self, application: Application, interval: float) -> None:
        if interval <= 0:
            raise ValueError(f"{self.what} must be positive seconds, got {interval}")
        self.application = application
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def _run(self) -> Coroutine[Any, Any, None]:
        raise NotImplementedError

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
