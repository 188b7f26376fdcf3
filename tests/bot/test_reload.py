"""A running bot swaps in an index another process built, without a restart."""

from __future__ import annotations

from pathlib import Path

from newsbot.bot.reload import IndexWatcher
from newsbot.config.settings import Settings
from newsbot.index.builder import IndexBuilder
from tests.bot.conftest import ADMIN, ARTICLES, bot_settings, run, running_bot, write_corpus  # noqa: F401
from tests.bot.test_follow import OKAPI, said
from tests.fakes.embedder import FakeEmbedder


def test_a_build_finished_elsewhere_is_swapped_in_and_alerts_its_followers(bot_settings: Settings) -> None:
    settings = bot_settings.model_copy(update={"reload_check_seconds": 0, "follow_threshold": 0.9})

    async def scenario() -> None:
        async with running_bot(settings) as bot:
            api = bot.api
            watcher = IndexWatcher(bot.app, 60)
            assert not await watcher.check_once()  # nothing newer than what it serves
            await said(api, "/follow baby okapi")
            assert "okapi" not in (await said(api, "who is kito?")).lower()
            okapi = {"title": "Zoo welcomes a baby okapi", "date": "2022-02-20", "url": "https://zoo.example/okapi"}
            write_corpus(Path(settings.seeds_dir), [*ARTICLES, okapi | {"text": OKAPI}])
            # Another process's build (`newsbot index`): the bot is not told.
            IndexBuilder.from_settings(settings, FakeEmbedder()).build(
                Path(settings.seeds_dir), Path(settings.index_dir)
            )
            old = bot.newsbot.current()
            assert await watcher.check_once()
            assert bot.newsbot.current() is not old and bot.newsbot.corpus.articles == len(ARTICLES) + 1
            await api.wait_for("sendMessage", lambda c: "New on your topic" in c.params["text"])
            assert "named Kito" in await said(api, "what is the baby okapi named?")
            assert not await watcher.check_once()  # once swapped, the same build is not new again

    run(scenario())


def test_the_watch_starts_with_serve_and_stops_with_it(bot_settings: Settings) -> None:
    settings = bot_settings.model_copy(update={"reload_check_seconds": 30})

    async def scenario() -> None:
        async with running_bot(settings) as bot:
            watcher = bot.app.bot_data["index_watcher"]
            assert isinstance(watcher, IndexWatcher) and watcher.interval == 30
        assert "index_watcher" not in bot.app.bot_data

    run(scenario())
