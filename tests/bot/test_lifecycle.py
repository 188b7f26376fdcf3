"""What outlives one update: the retriever a /reindex replaces, and a webhook update's 200."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from pathlib import Path

import aiohttp
import pytest

from newsbot.bot.serve import hand_over
from newsbot.config.settings import Settings
from newsbot.retrieval.records import Answer
from newsbot.retrieval.retriever import Retriever
from tests.bot.conftest import ADMIN, ARTICLES, fake_factory, run, running_bot, write_corpus
from tests.bot.test_serve import free_port

QUESTION = "when does Scholz visit Kyiv?"


class Held:
    """A retriever factory whose questions containing "slow" wait until ``release`` is set."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()

    def __call__(self, settings: Settings) -> Retriever:
        held = self

        class Slow(Retriever):
            def answer(self, question: str, history: list[Answer] | None = None, k: int | None = None) -> Answer:
                if "slow" in question:
                    held.started.set()
                    held.release.wait(30)
                return super().answer(question, history=history, k=k)

        plain = fake_factory()(settings)
        return Slow(plain.reader, plain.embedder, top_k=plain.top_k, min_confidence=0.05)


def is_open(retriever: Retriever) -> bool:
    try:
        retriever.reader.chunks.db.execute("SELECT 1")
    except sqlite3.ProgrammingError:  # "Cannot operate on a closed database."
        return False
    return True


def test_reindex_closes_the_replaced_retriever_once_its_last_question_is_answered(bot_settings: Settings) -> None:
    held = Held()

    async def scenario() -> None:
        async with running_bot(bot_settings, held) as bot:
            old = bot.newsbot.retriever
            assert old is not None
            await bot.api.message("a slow question about Kyiv", chat_id=40, user_id=40)
            await asyncio.to_thread(held.started.wait, 10)
            write_corpus(Path(bot_settings.seeds_dir), [*ARTICLES, {"title": "Okapi", "text": "A baby okapi, Kito."}])
            await bot.api.message("/reindex", chat_id=ADMIN, user_id=ADMIN)
            await bot.api.wait_for("sendMessage", lambda c: "new index is in use" in c.params["text"])
            assert bot.newsbot.retriever is not old
            assert is_open(old)  # the slow question still runs on it
            held.release.set()
            [slow] = await bot.api.wait_for("sendMessage", lambda c: c.params["chat_id"] == 40)
            assert "Kyiv" in slow.params["text"]
            await bot.api.settle(0.1)
            assert not is_open(old)  # closed as the question it served let go
            # The new one serves, and stays open.
            await bot.api.message(QUESTION, chat_id=41, user_id=41)
            await bot.api.wait_for("sendMessage", lambda c: c.params["chat_id"] == 41)
            assert bot.newsbot.retriever is not None and is_open(bot.newsbot.retriever)

    try:
        run(scenario())
    finally:
        held.release.set()


def test_a_reindex_with_no_question_running_closes_the_old_retriever_at_once(bot_settings: Settings) -> None:
    async def scenario() -> None:
        async with running_bot(bot_settings) as bot:
            old = bot.newsbot.retriever
            assert old is not None
            await bot.api.message("/reindex", chat_id=ADMIN, user_id=ADMIN)
            await bot.api.wait_for("sendMessage", lambda c: "new index is in use" in c.params["text"])
            assert not is_open(old)

    run(scenario())


@pytest.mark.parametrize("slow", [False, True])
def test_a_webhook_update_gets_its_200_only_after_it_was_answered(bot_settings: Settings, slow: bool) -> None:
    held = Held()
    port = free_port()
    secret = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-value"}

    async def scenario() -> None:
        async with running_bot(bot_settings, held, polling=False) as bot:
            url = f"http://127.0.0.1:{port}/telegram"
            await bot.app.updater.start_webhook(
                listen="127.0.0.1", port=port, url_path="telegram", webhook_url=url, secret_token="s3cret-value"
            )
            text = "a slow question about Kyiv" if slow else QUESTION
            update = {"update_id": 7, "message": await message_json(bot.api, text)}
            async with aiohttp.ClientSession() as http:
                posting = asyncio.create_task(http.post(url, json=update, headers=secret))
                if slow:
                    await asyncio.to_thread(held.started.wait, 10)
                    await asyncio.sleep(0.2)
                    assert not posting.done()  # answering: no 200 yet, so a kill now means re-delivery
                    held.release.set()
                async with await posting as response:
                    assert response.status == 200
                    assert len(bot.api.sent(chat_id=50)) == 1  # answered before the 200

    try:
        run(scenario())
    finally:
        held.release.set()


async def message_json(api, text: str) -> dict:
    """A private message from user 50 as Telegram would post it (not queued for getUpdates)."""
    message = {
        "message_id": 900,
        "date": 0,
        "chat": {"id": 50, "type": "private"},
        "from": api.user(50),
        "text": text,
    }
    api.messages[(50, 900)] = message
    return message


def files_of(folder: str) -> int:
    """Files of ``folder`` this process has open or memory-mapped (Linux /proc)."""
    maps = sum(folder in line for line in Path("/proc/self/maps").read_text().splitlines())
    fds = 0
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            fds += folder in str(fd.readlink())
    return maps + fds


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc to see open and mapped files")
def test_after_a_reindex_no_file_of_the_replaced_generation_stays_open_or_mapped(bot_settings: Settings) -> None:
    # As `newsbot serve` does it: the index opened first, handed to the bot without a reference kept.
    factory = hand_over(fake_factory()(bot_settings))

    async def scenario() -> None:
        async with running_bot(bot_settings, factory) as bot:
            served = bot.newsbot.retriever
            assert served is not None
            folder = str(served.reader.folder)
            del served
            assert files_of(folder) > 0  # SQLite, BM25's memory-mapped arrays
            write_corpus(Path(bot_settings.seeds_dir), [*ARTICLES, {"title": "Okapi", "text": "A baby okapi, Kito."}])
            await bot.api.message("/reindex", chat_id=ADMIN, user_id=ADMIN)
            await bot.api.wait_for("sendMessage", lambda c: "new index is in use" in c.params["text"])
            await bot.api.settle(0.2)  # the rebuild task finishes sending its note
            assert files_of(folder) == 0
            assert files_of(str(bot.newsbot.retriever.reader.folder)) > 0

    run(scenario())
