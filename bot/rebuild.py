"""/reindex: rebuild the index in the background and swap it in without a restart.

``rebuild`` is the one way the running bot changes its index: /reindex and the feed poll
(bot/feedpoll.py) both use it, each holding ``Newsbot.rebuilding`` so that two builds never run
at once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from telegram import Update
from telegram.ext import Application

from newsbot.bot.access import is_admin
from newsbot.bot.follow import announce
from newsbot.bot.sending import esc, reply
from newsbot.bot.state import STATE_KEY, Context, Corpus, Newsbot, state
from newsbot.retrieval.retriever import Retriever

if TYPE_CHECKING:
    from newsbot.config.settings import Settings
    from newsbot.index.embedder import Embedder

log = logging.getLogger(__name__)


class RebuildFailed(Exception):
    """The build failed; the current index stays in use. The message says why."""


async def reindex(update: Update, context: Context) -> None:
    """Rebuilds the index in the background and swaps it in (admins only)."""
    if not is_admin(update, context, "/reindex"):
        await reply(update, "Sorry, only the bot's admins can rebuild the index.")
        return
    bot = state(context)
    if bot.rebuilding:
        # The poll holds the same flag and reports to no one: ask for a retry rather than promise a report.
        await reply(update, "A rebuild or a feed poll is running already; send /reindex again once it is done.")
        return
    bot.rebuilding = True
    await reply(
        update,
        "Rebuilding the index in the background; answers keep coming from the current one until the new one is ready.",
    )
    context.application.create_task(_reindex(update, context.application), update=update)


async def _reindex(update: Update, application: Application) -> None:
    try:
        summary = await rebuild(application)
    except RebuildFailed as exc:
        await reply(update, f"The rebuild failed and the current index stays in use: {esc(str(exc))}")
        return
    finally:
        application.bot_data[STATE_KEY].rebuilding = False
    await reply(update, f"The new index is in use. {esc(summary)}.")


def open_latest(settings: Settings, embedder: Embedder) -> tuple[Retriever, Corpus]:
    """The configured index as its latest build left it, served with the embedder in use."""
    from newsbot.index import backends

    source = backends.open_index(settings, model=embedder.name)
    fresh = Retriever.serve(source, embedder=embedder, settings=settings)
    return fresh, Corpus.of(fresh)


async def rebuild(application: Application) -> str:
    """Builds the index (incrementally) off the event loop, swaps it in, then sends the alerts the
    new articles raise; the build's summary. The caller holds ``Newsbot.rebuilding``."""
    from newsbot.index import backends
    from newsbot.index.builder import IndexBuilder, NothingToIndex
    from newsbot.index.manifest import IndexProblem

    bot: Newsbot = application.bot_data[STATE_KEY]
    old = bot.current()
    settings = bot.settings

    def build_and_open() -> tuple[str, Retriever, Corpus]:
        builder = IndexBuilder.from_settings(settings, old.embedder)
        report = backends.build(builder, settings)  # into the folder or the database, as configured
        fresh, corpus = open_latest(settings, old.embedder)
        return report.summary(), fresh, corpus

    try:
        summary, fresh, corpus = await asyncio.to_thread(build_and_open)
    except (NothingToIndex, IndexProblem, OSError, ValueError) as exc:
        log.warning("reindex failed: %s", exc)
        raise RebuildFailed(str(exc)) from exc
    await bot.swap(fresh, corpus)
    await announce(application)
    return summary
