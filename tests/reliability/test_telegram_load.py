"""1,000 questions from 100 chats through a faulty Bot API, with the bot restarted mid-stream.

The fake API injects 429s, 502s, slow replies and dropped connections into sendMessage and
getUpdates. Every question must get exactly one answer that reached the bot, and the bot after
the restart must take up exactly where the first one stopped (getUpdates offsets).

A connection dropped after Telegram accepted a message cannot be told from one dropped before:
the bot retries both (at-least-once, see bot/retry.py), so the user may see that one answer
twice. The test allows a second copy only where the fake recorded such an accepted-then-dropped
send; any other duplicate, and any lost question, fails it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydantic import SecretStr
from telegram import Update
from telegram.ext import Application, TypeHandler

from newsbot.bot.app import build_application
from newsbot.config.settings import Settings, load_settings
from newsbot.retrieval.retriever import Retriever
from newsbot.testing.bot_api import Call, FakeBotApi, Faults
from tests.bot.conftest import ARTICLES, fake_factory, run, write_corpus

CHATS = 100
PER_CHAT = 10
RESTART_AFTER_ROUND = 5  # the bot restarts once each chat has asked this many questions
# Questions with the word that must be in their answer (the FakeEmbedder ranks by shared words).
QUESTIONS = [
    ("when does Scholz visit Kyiv?", "February 14"),
    ("where is heavy rain expected this weekend?", "north"),
    ("did the central bank hold interest rates?", "held"),
]
# getUpdates is called far less often than sendMessage, so it gets higher odds to see every kind.
FAULTS = {
    "sendMessage": {"too_many": 0.01, "server_error": 0.03, "drop_before": 0.02, "drop_after": 0.01, "slow": 0.05},
    "getUpdates": {"too_many": 0.03, "server_error": 0.08, "drop_before": 0.08, "drop_after": 0.08, "slow": 0.1},
}


@dataclass
class Run:
    """What one bot process handled."""

    app: Application
    update_ids: list[int] = field(default_factory=list)


@dataclass
class Tally:
    """The README figures."""

    sent: int
    answered: int
    lost: int
    duplicated: int
    faults: Counter[str]
    restarts: int

    def line(self) -> str:
        faults = ", ".join(f"{k} {n}" for k, n in sorted(self.faults.items()))
        return (
            f"questions sent {self.sent}, answered {self.answered}, lost {self.lost}, duplicated "
            f"{self.duplicated}; restarts {self.restarts}; faults injected: {faults}"
        )


async def start_bot(api: FakeBotApi, settings: Settings, factory: Callable[[Settings], Retriever]) -> Run:
    """The real Application on long polling, as run_polling starts it, noting each update it takes."""
    app = build_application(settings, factory)
    started = Run(app)

    async def note(update: Update, context: object) -> None:
        started.update_ids.append(update.update_id)

    app.add_handler(TypeHandler(Update, note), group=-2)
    await app.initialize()
    await app.post_init(app)
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    await app.start()
    return started


async def stop_bot(app: Application) -> None:
    """What run_polling does on Ctrl+C: stop fetching, finish what was fetched, shut down."""
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


def load_settings_for(tmp_path: Path, api: FakeBotApi) -> Settings:
    seeds = write_corpus(tmp_path / "seeds", ARTICLES)
    settings = load_settings(
        seeds_dir=seeds,
        index_dir=tmp_path / "index",
        admin_ids=[7],
        allowed_chat_ids=[],
        min_confidence=0.05,
        throttle_questions=50,
    )
    return settings.model_copy(update={"telegram_api_url": api.base_url, "telegram_bot_token": SecretStr(api.token)})


def answers_by_question(api: FakeBotApi, questions: dict[tuple[int, int], str]) -> dict[tuple[int, int], list[Call]]:
    """Every message the API accepted that replies to one of ``questions`` (chat id, message id)."""
    found: dict[tuple[int, int], list[Call]] = defaultdict(list)
    for call in api.calls:
        if call.method != "sendMessage" or not call.accepted:
            continue
        reply = call.params.get("reply_parameters") or {}
        key = (int(call.params["chat_id"]), int(reply.get("message_id", 0)))
        if key in questions:
            found[key].append(call)
    return found


@pytest.mark.slow
def test_a_thousand_questions_through_faults_and_a_restart_each_get_one_answer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> Tally:
        async with FakeBotApi() as api:
            settings = load_settings_for(tmp_path, api)
            factory = fake_factory()
            first = await start_bot(api, settings, factory)
            faults = api.inject(Faults(FAULTS, max_too_many=5, seed=6))
            expected: dict[tuple[int, int], str] = {}
            pushed: list[int] = []
            halfway = asyncio.Event()

            async def ask_all() -> None:
                for round_ in range(PER_CHAT):
                    if round_ == RESTART_AFTER_ROUND:
                        halfway.set()
                    question, word = QUESTIONS[round_ % len(QUESTIONS)]
                    for chat in range(1000, 1000 + CHATS):
                        message = await api.message(question, chat_id=chat, user_id=chat)
                        expected[(chat, message["message_id"])] = word
                        pushed.append(api.last_update_id)
                    await asyncio.sleep(1.0)

            asking = asyncio.create_task(ask_all())
            await halfway.wait()
            # Questions keep arriving while the first bot finishes what it took and confirms it;
            # the call that confirms the offset (getUpdates, timeout 0) meets a drop and a 502.
            faults.script["getUpdates"] = ["drop_before", "server_error"]
            await stop_bot(first.app)
            confirmed = api.confirmed_offset - 1
            second = await start_bot(api, settings, factory)
            await asyncio.wait_for(asking, 120)
            with contextlib.suppress(TimeoutError):  # the count below says what is missing
                await api.wait_for(
                    "sendMessage", lambda c: bool(c.params.get("reply_parameters")), count=len(expected), timeout=180
                )
            await api.settle(1.0)
            await stop_bot(second.app)

            # The restart: the first run confirmed all it took, the second took up the rest.
            assert confirmed == max(first.update_ids)
            assert sorted(first.update_ids + second.update_ids) == sorted(pushed)
            assert first.update_ids and second.update_ids
            assert min(second.update_ids) == confirmed + 1

            answers = answers_by_question(api, expected)
            lost = [key for key in expected if key not in answers]
            assert not lost, f"{len(lost)} questions got no answer, e.g. {lost[:5]}"
            duplicated = 0
            for key, calls in answers.items():
                word = expected[key]
                assert all(word in c.params["text"] for c in calls), [c.params["text"] for c in calls]
                # Exactly one send whose reply reached the bot; any other copy is one whose reply was
                # dropped after the API had accepted it (the bot cannot know it arrived).
                clean = [c for c in calls if c.fault != "drop_after"]
                assert len(clean) == 1, f"question {key}: {[(c.status, c.fault) for c in calls]}"
                duplicated += len(calls) - 1
            assert duplicated <= faults.injected["sendMessage/drop_after"]
            return Tally(
                sent=len(expected),
                answered=len(answers),
                lost=len(lost),
                duplicated=duplicated,
                faults=faults.injected,
                restarts=1,
            )

    with caplog.at_level(logging.INFO):
        tally = run(scenario())
    failed = [r for r in caplog.records if r.name.startswith("newsbot.bot.") and r.levelno >= logging.ERROR]
    assert not failed, [r.getMessage() for r in failed]
    assert tally.sent == CHATS * PER_CHAT == tally.answered
    for kind in FAULTS["sendMessage"]:
        assert tally.faults[f"sendMessage/{kind}"], f"no {kind} fault was injected into sendMessage"
    print(f"\ntelegram load: {tally.line()}")
