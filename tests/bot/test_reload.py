"""A running bot swaps in an index another process built, without a restart."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from pydantic import SecretStr

from newsbot.bot.reload import IndexWatcher
from newsbot.config.settings import Settings
from newsbot.index.builder import IndexBuilder
from tests.bot.conftest import ADMIN, ARTICLES, ROOT_DIR, bot_settings, run, running_bot, write_corpus  # noqa: F401
from tests.bot.test_follow import OKAPI, said
from tests.fakes.embedder import FakeEmbedder
from tests.pg.helpers import build_in_another_process
from tests.pg.test_crash import start_child


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


def test_a_postgres_build_by_another_process_is_swapped_in(bot_settings: Settings, pg_url: str) -> None:
    """The same on backend postgres: the generation row moves when another process's build
    commits, the bot opens the new build and answers from it, with no restart."""
    settings = bot_settings.model_copy(
        update={
            "backend": "postgres",
            "database_url": SecretStr(pg_url),
            "model_name": "fake-hash-64",
            "reload_check_seconds": 0,
            "follow_threshold": 0.9,
        }
    )

    async def scenario() -> None:
        async with running_bot(settings) as bot:  # builds generation 1 into the database
            api = bot.api
            watcher = IndexWatcher(bot.app, 60)
            assert not await watcher.check_once()
            assert bot.newsbot.current().reader.generation() == "generation 1"
            await said(api, "/follow baby okapi")
            assert "okapi" not in (await said(api, "who is kito?")).lower()
            okapi = {"title": "Zoo welcomes a baby okapi", "date": "2022-02-20", "url": "https://zoo.example/okapi"}
            write_corpus(Path(settings.seeds_dir), [*ARTICLES, okapi | {"text": OKAPI}])
            # A build still inside its transaction is not a build: nothing to swap in yet.
            writing = await asyncio.to_thread(start_child, pg_url, Path(settings.seeds_dir), 600)
            try:
                assert not await watcher.check_once()
            finally:
                writing.kill()
                writing.communicate()
            built = await asyncio.to_thread(build_in_another_process, pg_url, Path(settings.seeds_dir))
            assert built == "built generation 2"
            old = bot.newsbot.current()
            assert await watcher.check_once()
            fresh = bot.newsbot.current()
            assert fresh is not old and fresh.reader.generation() == "generation 2"
            assert bot.newsbot.corpus.articles == len(ARTICLES) + 1
            assert bot.newsbot.corpus.last == date(2022, 2, 20)  # what /start tells comes from the new build
            await api.wait_for("sendMessage", lambda c: "New on your topic" in c.params["text"])
            assert "named Kito" in await said(api, "what is the baby okapi named?")
            # A question dated in the new article's days searches the new build's dates.
            assert "Kito" in await said(api, "what did the zoo announce on february 20?")
            assert not await watcher.check_once()

    run(scenario())
