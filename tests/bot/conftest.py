"""The bot under test: the real PTB Application, pointed at the fake Bot API through base_url."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from telegram.ext import Application

from newsbot.bot.app import build_application
from newsbot.bot.state import Newsbot
from newsbot.bot.workers import Opener
from newsbot.config.settings import Settings, load_settings
from newsbot.retrieval.retriever import Retriever
from newsbot.testing.bot_api import FakeBotApi, Faults
from tests.fakes.embedder import FakeEmbedder, open_with_fake_embedder

ADMIN = 7
ROOT_DIR = Path(__file__).resolve().parents[2]
ARTICLES = [
    {
        "title": "Scholz to travel to Kyiv and Moscow",
        "date": "2022-02-11",
        "source": "Example Wire",
        "url": "https://example.org/scholz-kyiv",
        "text": "German Chancellor Olaf Scholz will visit Kyiv on February 14 and Moscow on February 15.\n\n"
        "Scholz said the talks aim to ease tensions over Ukraine & NATO <b>expansion</b>.",
    },
    {
        "title": "Rain expected across the north",
        "date": "2022-02-01",
        "source": "Weather Desk",
        "text": "Heavy rain is expected across the north this weekend, forecasters said.\n\n"
        "Rivers may flood low fields near the coast.",
    },
    {
        "title": "Central bank holds rates",
        "date": "2022-02-09",
        "source": "Money Daily",
        "text": "The central bank held interest rates steady on Wednesday.\n\n"
        "Inflation stayed above the target for a sixth month.",
    },
]


def write_corpus(folder: Path, articles: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "news.jsonl").open("w", encoding="utf-8") as out:
        for article in articles:
            out.write(json.dumps(article) + "\n")
    return folder


@pytest.fixture
def bot_settings(tmp_path: Path) -> Settings:
    seeds = write_corpus(tmp_path / "seeds", ARTICLES)
    return load_settings(
        seeds_dir=seeds,
        index_dir=tmp_path / "index",
        admin_ids=[ADMIN],
        allowed_chat_ids=[],
        min_confidence=0.05,
        throttle_questions=50,
    )


def fake_factory(embedder: FakeEmbedder | None = None) -> Callable[[Settings], Retriever]:
    embedder = embedder or FakeEmbedder()

    def factory(settings: Settings) -> Retriever:
        return Retriever.from_settings(settings, embedder=embedder)

    return factory


@dataclass
class Running:
    api: FakeBotApi
    app: Application

    @property
    def newsbot(self) -> Newsbot:
        return self.app.bot_data["newsbot"]


@asynccontextmanager
async def running_bot(
    settings: Settings,
    factory: Callable[[Settings], Retriever] | None = None,
    *,
    polling: bool = True,
    faults: Faults | None = None,
    api: FakeBotApi | None = None,
    answer_opener: Opener = open_with_fake_embedder,
) -> AsyncIterator[Running]:
    """Starts the fake API (with ``faults`` from the first call; or uses ``api``, so that a second
    bot can follow a first one, as after a restart) and the bot (long polling unless told
    otherwise, else built for a webhook); stops both afterwards, with the hooks run_polling runs."""
    if api is None:
        async with (
            FakeBotApi() as fresh,
            running_bot(
                settings, factory, polling=polling, faults=faults, api=fresh, answer_opener=answer_opener
            ) as bot,
        ):
            yield bot
        return
    if faults is not None:
        api.inject(faults)
    settings = settings.model_copy(
        update={"telegram_api_url": api.base_url, "telegram_bot_token": SecretStr(api.token)}
    )
    app = build_application(settings, factory or fake_factory(), webhook=not polling, answer_opener=answer_opener)
    await app.initialize()
    await app.post_init(app)  # what run_polling does between initialize and start
    if polling:
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
    await app.start()
    try:
        yield Running(api, app)
    finally:
        if app.updater.running:
            await app.updater.stop()
        await app.stop()
        await app.post_stop(app)
        await app.shutdown()
        await app.post_shutdown(app)


def run(coro: Any) -> Any:
    """Drives one async scenario (the suite does not use pytest-asyncio)."""
    return asyncio.run(coro)


@dataclass
class ServeProcess:
    """`newsbot serve` in a process of its own; ``output`` is what it printed, once it has stopped."""

    process: subprocess.Popen[str]
    output: str = ""


@asynccontextmanager
async def serve_process(
    api: FakeBotApi, seeds: Path, index: Path, argv: list[str], cwd: Path, **env: str
) -> AsyncIterator[ServeProcess]:
    """Runs ``argv`` (a `newsbot serve` command) against ``api`` on these folders; stops it with
    SIGINT afterwards, as Ctrl+C would, while the fake API goes on answering."""
    full_env = os.environ | {
        "TELEGRAM_BOT_TOKEN": api.token,
        "NEWSBOT_TELEGRAM_API_URL": api.base_url,
        "NEWSBOT_SEEDS_DIR": str(seeds),
        "NEWSBOT_INDEX_DIR": str(index),
        **env,
    }
    process = subprocess.Popen(argv, env=full_env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    running = ServeProcess(process)
    try:
        yield running
    finally:
        process.send_signal(signal.SIGINT)
        running.output, _ = await asyncio.to_thread(process.communicate, timeout=60)
