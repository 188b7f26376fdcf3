"""`newsbot serve --webhook` as two processes behind one Redis, one index folder, one fake Bot API.

Updates go alternately to the two replicas (tests/fakes/webhook_sender.py plays Telegram, which
re-delivers an update to the URL until it gets a 200). A follow-up on B about A's answer is
understood, the throttle counts one user across both, and a replica killed while answering
loses nothing: no 200 went out, so the update is re-delivered and the other replica answers it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from newsbot.config.settings import Settings
from newsbot.retrieval.retriever import Retriever
from newsbot.testing.bot_api import ApiError, FakeBotApi
from newsbot.testing.telegram_html import visible_text
from tests.bot.conftest import ROOT_DIR, run
from tests.bot.test_serve import free_port
from tests.fakes.embedder import FakeEmbedder
from tests.fakes.webhook_sender import WebhookSender
from tests.redis_server import redis_server, redis_url  # noqa: F401 - fixtures

SECRET = "replica-s3cret"
QUESTION = "when does Scholz visit Kyiv?"
HELD_CHAT = 77
LAUNCHER = textwrap.dedent("""
    import sys
    import newsbot.bot.serve
    import newsbot.command
    from tests.fakes.embedder import FakeEmbedder
    newsbot.bot.serve.make_embedder = lambda settings: FakeEmbedder()
    sys.argv = ["newsbot", "serve", *sys.argv[1:]]
    newsbot.command.main()
""")


class HoldingBotApi(FakeBotApi):
    """Holds the first answer sent to HELD_CHAT, so its sender can be killed mid-request; the
    held call, once let go, fails (that replica never got to send it)."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = asyncio.Event()
        self.let_go = asyncio.Event()
        self._held = False

    async def _m_sendMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        if int(p["chat_id"]) == HELD_CHAT and not self._held:
            self._held = True
            self.holding.set()
            await self.let_go.wait()
            raise ApiError("Bad Request: the sender died before this call completed")
        return await super()._m_sendMessage(p)


def wait_listening(port: int, process: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"replica exited with {process.returncode}: {process.communicate()[0]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"replica on port {port} did not start in {timeout} s")


@asynccontextmanager
async def replica_processes(
    settings: Settings, redis: str, api: FakeBotApi, tmp: Path, extra: dict[str, str] | None = None
) -> AsyncIterator[tuple[list[subprocess.Popen[str]], WebhookSender]]:
    """Two `newsbot serve --webhook` processes on the fake embedder; ``extra`` settings (env) on top."""
    env = (
        os.environ
        | {
            "TELEGRAM_BOT_TOKEN": api.token,
            "NEWSBOT_TELEGRAM_API_URL": api.base_url,
            "NEWSBOT_WEBHOOK_SECRET": SECRET,
            "NEWSBOT_STATE_BACKEND": "redis",
            "NEWSBOT_REDIS_URL": redis,
            "NEWSBOT_SEEDS_DIR": str(settings.seeds_dir),
            "NEWSBOT_INDEX_DIR": str(settings.index_dir),
            "NEWSBOT_MIN_CONFIDENCE": "0.05",
            "NEWSBOT_THROTTLE_QUESTIONS": "3",
            "NEWSBOT_THROTTLE_SECONDS": "600",
            "PYTHONPATH": str(ROOT_DIR),
        }
        | (extra or {})
    )
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{port}/telegram" for port in ports]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, "--webhook", url, "--port", str(port)],
            env=env,
            cwd=tmp,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for url, port in zip(urls, ports)
    ]
    try:
        for port, process in zip(ports, processes):
            await asyncio.to_thread(wait_listening, port, process)
        yield processes, WebhookSender(urls, SECRET)
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                await asyncio.to_thread(process.communicate, timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


async def say(api: FakeBotApi, text: str, user: int) -> dict[str, Any]:
    message = await api.message(text, chat_id=user, user_id=user)
    return {"update_id": api.last_update_id, "message": message}


async def followup_and_throttle_across(api: FakeBotApi, sender: WebhookSender) -> None:
    """A follow-up on B about A's answer is understood; one user's questions, alternately on A
    and B, count against one budget (NEWSBOT_THROTTLE_QUESTIONS 3)."""
    assert await sender.deliver(await say(api, QUESTION, 60), replica=0) == 0
    assert "February 14" in api.sent(chat_id=60)[0].params["text"]  # answered before the 200
    await sender.deliver(await say(api, "what about Moscow?", 60), replica=1)
    follow = visible_text(api.sent(chat_id=60)[-1].params["text"])
    assert "Reading this as: when does Scholz visit Moscow?" in follow
    for n in range(4):
        await sender.deliver(await say(api, QUESTION, 61), replica=n % 2)
    texts = [c.params["text"] for c in api.sent(chat_id=61)]
    assert sum("February 14" in t for t in texts) == 3 and sum("faster than" in t for t in texts) == 1


@pytest.mark.slow
def test_two_serve_processes_share_memory_and_throttle_and_lose_no_update_when_one_is_killed(
    bot_settings: Settings, redis_url: str, tmp_path: Path
) -> None:
    Retriever.from_settings(bot_settings, embedder=FakeEmbedder()).close()  # one shared index folder

    async def scenario() -> None:
        async with (
            HoldingBotApi() as api,
            replica_processes(bot_settings, redis_url, api, tmp_path) as (
                processes,
                sender,
            ),
        ):
            await followup_and_throttle_across(api, sender)

            # A is killed while answering: no 200, so the update goes to B, which answers it.
            update = await say(api, QUESTION, HELD_CHAT)
            delivering = asyncio.create_task(sender.deliver(update, replica=0))
            await asyncio.wait_for(api.holding.wait(), 60)
            processes[0].send_signal(signal.SIGKILL)
            assert await asyncio.wait_for(delivering, 60) == 1
            api.let_go.set()
            [answer] = api.sent(chat_id=HELD_CHAT)
            assert "February 14" in answer.params["text"]
            tries = [(d.replica, d.status) for d in sender.deliveries if d.update_id == update["update_id"]]
            assert tries == [(0, 0), (1, 200)]

    run(scenario())
