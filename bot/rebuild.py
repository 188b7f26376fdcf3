"""/reindex: rebuild the index in the background and swap it in without a restart."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from telegram import Update

from newsbot.bot.access import is_admin
from newsbot.bot.sending import esc, reply
from newsbot.bot.state import Context, Corpus, Newsbot, state
from newsbot.retrieval.retriever import Retriever

log = logging.getLogger(__name__)


async def reindex(update: Update, context: Context) -> None:
    """Rebuilds the index in the background and swaps it in (admins only)."""
    if not is_admin(update, context, "/reindex"):
        await reply(update, "Sorry, only the bot's admins can rebuild the index.")
        return
    bot = state(context)
    if bot.rebuilding:
        await reply(update, "A rebuild is already running; I will report when it is done.")
        return
    bot.rebuilding = True
    await reply(
        update,
        "Rebuilding the index in the background; answers keep coming from the current one until the new one is ready.",
    )
    context.application.create_task(_rebuild(update, bot), update=update)


async def _rebuild(update: Update, bot: Newsbot) -> None:
    from newsbot.index.builder import IndexBuilder, NothingToIndex
    from newsbot.index.manifest import IndexProblem

    old = bot.current()
    settings = bot.settings

    def build_and_open() -> tuple[str, Retriever, Corpus]:
        builder = IndexBuilder.from_settings(settings, old.embedder)
        report = builder.build(Path(settings.seeds_dir), Path(settings.index_dir))
        fresh = Retriever.open(settings.index_dir, embedder=old.embedder, settings=settings)
        return report.summary(), fresh, Corpus.of(fresh)

    try:
        summary, fresh, corpus = await asyncio.to_thread(build_and_open)
    except (NothingToIndex, IndexProblem, OSError, ValueError) as exc:
        log.warning("reindex failed: %s", exc)
        await reply(update, f"The rebuild failed and the current index stays in use: {esc(str(exc))}")
        return
    finally:
        bot.rebuilding = False
    bot.swap(fresh, corpus)
    await reply(update, f"The new index is in use. {esc(summary)}.")
