"""Indexes another process built (`newsbot index`, `index --watch`, a replica's /reindex, a
postgres build): the running bot notices the finished build and swaps it in without a restart."""

from __future__ import annotations

import asyncio
import logging

from newsbot.bot import follow
from newsbot.bot.periodic import Periodic
from newsbot.bot.rebuild import open_latest
from newsbot.bot.state import STATE_KEY, Newsbot
from newsbot.retrieval.retriever import Retriever

log = logging.getLogger(__name__)

WATCHER_KEY = "index_watcher"  # where the IndexWatcher sits in the application's bot_data


class IndexWatcher(Periodic):
    """Every ``interval`` seconds, asks the index whether a newer build has finished (a file's
    name in the folder, one row in the database) and, if so, opens it and swaps it in."""

    name = "newsbot-index-watch"
    what = "the index check interval"

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check_once()
            except Exception as exc:  # one failed look must not end the watching or the bot
                log.warning("index check failed: %s: %s", type(exc).__name__, exc)
                log.debug("index check failure", exc_info=exc)

    async def check_once(self) -> bool:
        """Swaps in a newer build when there is one (and no rebuild of this bot's own is running);
        whether it did."""
        bot: Newsbot = self.application.bot_data[STATE_KEY]
        if bot.rebuilding:
            return False
        newer = await bot.use(_newer_build)
        if not newer or bot.rebuilding:  # a /reindex may have begun while the index was asked
            return False
        bot.rebuilding = True
        try:
            fresh, corpus = await asyncio.to_thread(open_latest, bot.settings, bot.current().embedder)
            await bot.swap(fresh, corpus)
        finally:
            bot.rebuilding = False
        log.info("a newer index was built elsewhere; now serving %d articles", corpus.articles)
        await follow.announce(self.application)
        return True


def _newer_build(retriever: Retriever) -> bool:
    return retriever.reader.stored_generation() not in ("", retriever.reader.generation())
