"""Answering in worker processes (answer_processes): the same answers, batches, and a /reindex that
moves the workers to the new index."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from newsbot.bot.workers import AnswerWorkers
from newsbot.config.settings import Settings
from newsbot.retrieval.retriever import Retriever
from newsbot.testing.bot_api import FakeBotApi
from newsbot.testing.telegram_html import visible_text
from tests.bot.conftest import ADMIN, ARTICLES, run, running_bot, serve_process, write_corpus
from tests.conftest import SEED_QUESTION
from tests.fakes.embedder import FakeEmbedder, open_with_fake_embedder

QUESTION = "when does Scholz visit Kyiv?"


def _built(settings: Settings) -> Settings:
    Retriever.from_settings(settings, embedder=FakeEmbedder()).close()
    return settings


def test_workers_answer_as_the_bot_process_would_and_take_waiting_questions_as_one_batch(
    bot_settings: Settings,
) -> None:
    settings = _built(bot_settings)
    here = Retriever.from_settings(settings, embedder=FakeEmbedder())
    questions = [QUESTION, "will rivers flood?", "did the central bank hold rates?"] * 4

    async def scenario() -> tuple[list[str | None], set[int]]:
        workers = await AnswerWorkers(settings, 2, open_with_fake_embedder).start()
        try:
            pids = {p.pid for p in workers._pool._processes.values()}  # type: ignore[union-attr]
            answers = await asyncio.gather(*(workers.answer(q) for q in questions))
        finally:
            await workers.close()
        return [a.answer for a in answers], pids

    answers, pids = run(scenario())
    assert answers == [here.answer(q).answer for q in questions]
    assert len(pids) == 2 and os.getpid() not in pids
    here.close()


def test_a_failing_question_fails_alone(bot_settings: Settings) -> None:
    settings = _built(bot_settings)

    async def scenario() -> list[object]:
        workers = await AnswerWorkers(settings, 1, open_with_fake_embedder).start()
        try:
            # An empty question raises in Retriever.answer; the others of its batch are answered.
            return await asyncio.gather(*(workers.answer(q) for q in ("  ", QUESTION)), return_exceptions=True)
        finally:
            await workers.close()

    failed, answered = run(scenario())
    assert isinstance(failed, ValueError) and "empty" in str(failed)
    assert "February 14" in (answered.answer or "")


def test_the_bot_answers_from_workers_and_a_reindex_moves_them_to_the_new_index(bot_settings: Settings) -> None:
    settings = bot_settings.model_copy(update={"answer_processes": 2})

    async def scenario() -> None:
        async with running_bot(settings) as bot:
            workers = bot.newsbot._workers
            assert workers is not None
            for chat in range(20, 26):
                await bot.api.message(QUESTION, chat_id=chat, user_id=chat)
            sent = await bot.api.wait_for("sendMessage", count=6, timeout=60)
            assert all("February 14" in s.params["text"] for s in sent)

            okapi = {
                "title": "Zookeepers welcome a baby okapi",
                "date": "2022-02-20",
                "text": "The city zoo announced the birth of a baby okapi named Kito.",
            }
            write_corpus(Path(settings.seeds_dir), [*ARTICLES, okapi])
            await bot.api.message("/reindex", chat_id=ADMIN, user_id=ADMIN)
            await bot.api.wait_for("sendMessage", lambda c: "new index is in use" in c.params["text"], timeout=120)
            assert bot.newsbot._workers is not workers and workers._pool is None  # the old ones stopped
            await bot.api.message("what is the name of the baby okapi?", chat_id=ADMIN, user_id=ADMIN)
            found = await bot.api.wait_for("sendMessage", lambda c: "okapi" in c.params["text"], timeout=60)
            assert "Kito" in found[0].params["text"]

    run(scenario())


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_newsbot_serve_answers_from_its_worker_processes_with_the_real_model(seeds_copy: Path, tmp_path: Path) -> None:
    # The command as a user runs it, workers and all: nothing swapped for a fake.
    async def scenario() -> str:
        async with FakeBotApi() as api:
            argv = [sys.executable, "-m", "newsbot", "serve"]
            async with serve_process(
                api, seeds_copy, tmp_path / "index", argv, tmp_path, NEWSBOT_ANSWER_PROCESSES="2"
            ) as served:
                await api.message(SEED_QUESTION)
                [sent] = await api.wait_for("sendMessage", timeout=240)
                assert "February 14-15" in visible_text(sent.params["text"])
                workers = [p for p in child_commands(served.process.pid) if "spawn_main" in p]
                assert len(workers) >= 2, workers
            assert served.process.returncode == 0, served.output
            return served.output

    output = run(scenario())
    assert "Traceback" not in output


def child_commands(pid: int) -> list[str]:
    """The command lines of ``pid``'s child processes, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == pid:
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ValueError, IndexError):
            continue
    return found
