"""The bot keeps answering while a rebuild replaces the index under it.

Two ways the index changes: an admin's /reindex (build in the background, then swap), and
`newsbot index` runs from outside that write new generations and prune the one the bot has open.
Questions flow from many chats all the while; none may fail, come back empty, or go unanswered.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from newsbot.config.settings import Settings
from newsbot.index.builder import IndexBuilder
from newsbot.index.folder import current_generation
from newsbot.testing.bot_api import FakeBotApi
from tests.bot.conftest import ADMIN, ARTICLES, bot_settings, fake_factory, run, running_bot  # noqa: F401 (fixture)
from tests.fakes.embedder import FakeEmbedder
from tests.reliability.test_telegram_load import QUESTIONS

CHATS = 30
ROUNDS = 8
OKAPI = {
    "title": "Zookeepers welcome a baby okapi",
    "date": "2022-02-20",
    "text": "The city zoo announced the birth of a baby okapi named Kito.",
}


class SlowBuildEmbedder(FakeEmbedder):
    """Takes its time over build-sized batches, so questions are in flight throughout a rebuild."""

    def embed_batch(
        self, texts: Sequence[str], *, batch_size: int | None = None, show_progress_bar: bool = False
    ) -> np.ndarray:
        if len(texts) > 16:
            time.sleep(0.2)
        return super().embed_batch(texts, batch_size=batch_size, show_progress_bar=show_progress_bar)


def garden_articles(count: int, edition: int = 1) -> list[dict[str, str]]:
    """Filler articles whose words share nothing with the test questions."""
    return [
        {
            "title": f"Allotment notes {n}",
            "date": "2022-03-01",
            "text": f"Gardeners compared tulips, compost heaps and hedges at plot {n} (edition {edition}). "
            f"Volunteers trimmed privet and sorted seedlings for spring planting.",
        }
        for n in range(count)
    ]


def write_articles(seeds: Path, articles: list[dict[str, str]]) -> None:
    """Replaces the seeds' news.jsonl in one rename, as an editor saving the file would."""
    tmp = seeds / "news.jsonl.tmp"
    tmp.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
    tmp.replace(seeds / "news.jsonl")


async def ask_rounds(
    api: FakeBotApi,
    expected: dict[tuple[int, int], str],
    *,
    between: float,
    on_round: dict[int, asyncio.Event] | None = None,
    rounds: int = ROUNDS,
) -> None:
    for round_ in range(rounds):
        if on_round and round_ in on_round:
            on_round[round_].set()
        question, word = QUESTIONS[round_ % len(QUESTIONS)]
        for chat in range(300, 300 + CHATS):
            message = await api.message(question, chat_id=chat, user_id=chat)
            expected[(chat, message["message_id"])] = word
        await asyncio.sleep(between)


def check_answers(api: FakeBotApi, expected: dict[tuple[int, int], str]) -> list[float]:
    """Each question has exactly one answer holding its word; returns when each was sent."""
    by_question: dict[tuple[int, int], list[str]] = {key: [] for key in expected}
    sent_at: list[float] = []
    for call in api.sent():
        reply = call.params.get("reply_parameters") or {}
        key = (int(call.params["chat_id"]), int(reply.get("message_id", 0)))
        if key in by_question:
            by_question[key].append(call.params["text"])
            sent_at.append(call.at)
    wrong = {key: texts for key, texts in by_question.items() if len(texts) != 1 or expected[key] not in texts[0]}
    assert not wrong, f"{len(wrong)} questions without exactly one good answer, e.g. {list(wrong.items())[:3]}"
    return sent_at


def no_errors(caplog: pytest.LogCaptureFixture) -> None:
    failed = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not failed, failed


@pytest.mark.slow
def test_questions_keep_being_answered_across_an_admin_reindex(
    bot_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    seeds = Path(bot_settings.seeds_dir)

    async def scenario() -> None:
        async with running_bot(bot_settings, fake_factory(SlowBuildEmbedder())) as bot:
            old = bot.newsbot.retriever
            write_articles(seeds, [*ARTICLES, OKAPI, *garden_articles(600)])
            expected: dict[tuple[int, int], str] = {}
            second_round = asyncio.Event()
            asking = asyncio.create_task(ask_rounds(bot.api, expected, between=0.4, on_round={2: second_round}))
            await second_round.wait()
            await bot.api.message("/reindex", chat_id=ADMIN, user_id=ADMIN)
            [started] = await bot.api.wait_for("sendMessage", lambda c: "Rebuilding" in c.params["text"])
            [done] = await bot.api.wait_for(
                "sendMessage", lambda c: "new index is in use" in c.params["text"], timeout=60
            )
            await asyncio.wait_for(asking, 60)
            # One more round once the new index is in use, however long the rebuild took.
            await ask_rounds(bot.api, expected, between=0.0, rounds=1)
            await bot.api.wait_for(
                "sendMessage", lambda c: c.params["chat_id"] != ADMIN, count=len(expected), timeout=60
            )
            await bot.api.settle()
            assert "604 articles" in done.params["text"] and bot.newsbot.retriever is not old

            sent_at = check_answers(bot.api, expected)
            during = [t for t in sent_at if started.at < t < done.at]
            after = [t for t in sent_at if t > done.at]
            assert during and after, (len(during), len(after))  # the rebuild really was crossed

            await bot.api.message("what is the name of the baby okapi?", chat_id=ADMIN, user_id=ADMIN)
            [okapi] = await bot.api.wait_for("sendMessage", lambda c: "okapi" in c.params["text"])
            assert "Kito" in okapi.params["text"]

    with caplog.at_level(logging.INFO):
        run(scenario())
    no_errors(caplog)


@pytest.mark.slow
def test_outside_builds_that_prune_the_bots_generation_do_not_disturb_it(
    bot_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    seeds, index_dir = Path(bot_settings.seeds_dir), Path(bot_settings.index_dir)
    embedder = SlowBuildEmbedder()
    builds: list[str] = []

    def outside_builds() -> None:
        """Two `newsbot index` runs: the second prunes the generation the bot is serving from."""
        builder = IndexBuilder.from_settings(bot_settings, FakeEmbedder())
        for edition in (1, 2):
            write_articles(seeds, ARTICLES + garden_articles(300, edition))
            builds.append(builder.build(seeds, index_dir).summary())

    async def scenario() -> None:
        async with running_bot(bot_settings, fake_factory(embedder)) as bot:
            serving = current_generation(index_dir)
            assert serving is not None
            expected: dict[tuple[int, int], str] = {}
            asking = asyncio.create_task(ask_rounds(bot.api, expected, between=0.3))
            builder = threading.Thread(target=outside_builds)
            builder.start()
            await asyncio.to_thread(builder.join, 60)
            assert len(builds) == 2 and not serving.exists()  # gone from disk, still open in the bot
            await asyncio.wait_for(asking, 60)
            await bot.api.wait_for("sendMessage", count=len(expected), timeout=60)
            await bot.api.settle()
            check_answers(bot.api, expected)

            # The bot keeps its generation until told: /reindex moves it onto the newest one.
            await bot.api.message("/reindex", chat_id=ADMIN, user_id=ADMIN)
            [done] = await bot.api.wait_for(
                "sendMessage", lambda c: "new index is in use" in c.params["text"], timeout=60
            )
            assert "303 articles" in done.params["text"]
            await bot.api.message(QUESTIONS[0][0], chat_id=ADMIN, user_id=ADMIN)
            [answer] = await bot.api.wait_for(
                "sendMessage", lambda c: c.params["chat_id"] == ADMIN and QUESTIONS[0][1] in c.params["text"]
            )
            assert answer.status == 200

    with caplog.at_level(logging.INFO):
        run(scenario())
    no_errors(caplog)
