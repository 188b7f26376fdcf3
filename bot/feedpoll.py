"""Feeds polled while serving: every ``feed_interval_minutes`` the bot fetches its feeds, indexes
what they brought (bot/rebuild.py, as /reindex does) and alerts the chats that follow it. With
replicas, only the one holding the lease (bot/lease.py) polls."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram.ext import Application

from newsbot.bot.periodic import Periodic
from newsbot.bot.rebuild import RebuildFailed, rebuild
from newsbot.bot.state import STATE_KEY, Newsbot
from newsbot.feeds import poll_feeds
from newsbot.feeds.feedlist import FeedListError
from newsbot.feeds.state import FeedStateError

log = logging.getLogger(__name__)

POLLER_KEY = "feed_poller"  # where the FeedPoller sits in the application's bot_data


class FeedPoller(Periodic):
    """Polls once at start and then every ``interval`` seconds, until stopped."""

    name = "newsbot-feed-poll"
    what = "the feed poll interval"

    def __init__(self, application: Application, interval: float) -> None:
        super().__init__(application, interval)
        self.polls = 0  # finished polls, whatever they found (tests wait on it)
        self._woken = asyncio.Event()

    async def _run(self) -> None:
        while True:
            await self.poll_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self.interval)
            self._woken.clear()

    def wake(self) -> None:
        """Polls now rather than at the next interval (a replica that just took the lease)."""
        self._woken.set()

    async def poll_once(self) -> None:
        """One poll: fetch every feed; when items were saved, rebuild, swap and alert. A failure
        is one log line and the bot serves on with the index it has."""
        bot: Newsbot = self.application.bot_data[STATE_KEY]
        if not bot.leading:
            log.debug("feed poll skipped: another replica holds the lease")
            return
        if bot.rebuilding:
            log.info("feed poll skipped: a rebuild is running")
            return
        bot.rebuilding = True
        try:
            report = await poll_feeds(bot.settings)
            failed = [r.summary() for r in report.results if r.failed]
            if report.results:
                log.log(
                    logging.WARNING if failed else logging.INFO,
                    "feed poll: %d new articles from %d feeds, %d failed%s",
                    report.saved,
                    len(report.results),
                    len(failed),
                    f" ({'; '.join(failed)})" if failed else "",
                )
            if report.saved:
                log.info("feed poll: the new index is in use; %s", await rebuild(self.application))
        except (FeedListError, FeedStateError, RebuildFailed) as exc:
            log.warning("feed poll failed: %s", exc)
        except Exception as exc:  # one bad poll must not end polling or the bot
            log.warning("feed poll failed: %s: %s", type(exc).__name__, exc)
            log.debug("feed poll failure", exc_info=exc)
        finally:
            bot.rebuilding = False
            self.polls += 1
