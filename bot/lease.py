"""One replica at a time does the bot's own work (feed polls, alerts): the one holding the lease.

The lease sits in the shared state (bot/shared) and expires ``lease_seconds`` after its last
renewal; its holder renews it every third of that. A replica killed while holding it is replaced
once it runs out. In-process state always grants it: one process leads itself, as before.
Alerts stay sent once even if two replicas believed themselves holders for a moment: each one is
claimed in the shared follows store before it is sent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket

from telegram.ext import Application

from newsbot.bot import follow
from newsbot.bot.feedpoll import POLLER_KEY
from newsbot.bot.periodic import Periodic
from newsbot.bot.state import STATE_KEY, Newsbot

log = logging.getLogger(__name__)

LEASE_KEY = "lease"  # where the Lease sits in the application's bot_data


class Lease(Periodic):
    """Takes and renews the lease; ``Newsbot.leading`` says whether this replica holds it."""

    name = "newsbot-lease"
    what = "a third of lease_seconds (the renewal interval)"

    def __init__(self, application: Application, seconds: float) -> None:
        super().__init__(application, seconds / 3)
        self.seconds = seconds
        # Names the replica in the shared state (and in a look at it while debugging).
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.holds = False
        self._caught_up: asyncio.Task[object] | None = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.renew()

    async def renew(self, *, wait: bool = False) -> bool:
        """Takes or keeps the lease; on taking it, looks at the articles no holder has alerted
        for yet (in the background unless ``wait``) and polls the feeds now. Whether this
        replica holds it."""
        bot: Newsbot = self.application.bot_data[STATE_KEY]
        try:
            holds = await bot.shared.lead(self.holder, self.seconds)
        except Exception as exc:  # an unreachable state server: stop leading, keep answering
            log.warning("could not renew the lease on feed polls and alerts: %s: %s", type(exc).__name__, exc)
            log.debug("lease renewal failure", exc_info=exc)
            holds = False
        was, self.holds = self.holds, holds
        bot.leading = holds
        if holds and not was:
            log.info("this replica now polls the feeds and sends the alerts (%s)", self.holder)
            if wait:
                await follow.announce(self.application)
            else:  # a long look at new articles must not hold up the next renewal
                self._caught_up = asyncio.create_task(follow.announce(self.application), name="newsbot-lease-alerts")
            if (poller := self.application.bot_data.get(POLLER_KEY)) is not None:
                poller.wake()
        elif was and not holds:
            log.info("another replica polls the feeds and sends the alerts now")
        return holds

    async def stop(self) -> None:
        """Stops renewing and gives the lease up, so another replica takes it at its next renewal."""
        await super().stop()
        if self._caught_up is not None:
            self._caught_up.cancel()
            await asyncio.gather(self._caught_up, return_exceptions=True)
        bot: Newsbot = self.application.bot_data[STATE_KEY]
        if self.holds:
            self.holds = bot.leading = False
            try:
                await bot.shared.step_down(self.holder)
            except Exception as exc:  # it runs out on its own
                log.warning("could not give up the lease: %s: %s", type(exc).__name__, exc)
                log.debug("lease release failure", exc_info=exc)
