"""Two bot replicas behind one webhook URL, in this process: what they share through Redis.

Each replica is a whole Application on its own webhook port; updates go alternately to one and
the other (tests/fakes/webhook_sender.py plays Telegram). With the in-process backend each
replica knows only what it answered itself, which the memory case shows by contrast.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest
from pydantic import SecretStr
from telegram.ext import Application

from newsbot.bot.app import build_application
from newsbot.config.settings import Settings
from newsbot.testing.bot_api import FakeBotApi
from newsbot.testing.telegram_html import visible_text
from tests.bot.conftest import fake_factory, run
from tests.bot.test_serve import free_port
from tests.fakes.webhook_sender import WebhookSender
from tests.redis_server import redis_server, redis_url  # noqa: F401 - fixtures

SECRET = "replica-s3cret"
QUESTION = "when does Scholz visit Kyiv?"


@asynccontextmanager
async def replicas(settings: Settings, count: int = 2) -> AsyncIterator[tuple[FakeBotApi, WebhookSender]]:
    """``count`` Applications serving webhooks on ports of their own, one fake Bot API."""
    async with FakeBotApi() as api, AsyncExitStack() as stack:
        settings = settings.model_copy(
            update={"telegram_api_url": api.base_url, "telegram_bot_token": SecretStr(api.token)}
        )
        urls = []
        for _ in range(count):
            port = free_port()
            url = f"http://127.0.0.1:{port}/telegram"
            app = build_application(settings, fake_factory(), webhook=True)
            await app.initialize()
            await app.post_init(app)
            await app.updater.start_webhook(
                listen="127.0.0.1", port=port, url_path="telegram", webhook_url=url, secret_token=SECRET
            )
            await app.start()
            stack.push_async_callback(stop, app)
            urls.append(url)
        yield api, WebhookSender(urls, SECRET)


async def stop(app: Application) -> None:
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
    await app.bot_data["newsbot"].close()


async def say(api: FakeBotApi, text: str, user: int = 60, **extra: Any) -> dict[str, Any]:
    message = await api.message(text, chat_id=user, user_id=user, **extra)
    return {"update_id": api.last_update_id, "message": message}


@pytest.mark.parametrize("backend", ["redis", "memory"])
def test_a_follow_up_and_a_button_on_replica_b_know_replica_a_s_answer(
    bot_settings: Settings, request: pytest.FixtureRequest, backend: str
) -> None:
    shared = backend == "redis"
    update: dict[str, Any] = {"state_backend": backend}
    if shared:
        update["redis_url"] = SecretStr(request.getfixturevalue("redis_url"))
    settings = bot_settings.model_copy(update=update)

    async def scenario() -> None:
        async with replicas(settings) as (api, sender):
            assert await sender.deliver(await say(api, QUESTION), replica=0) == 0
            [first] = api.sent(chat_id=60)  # answered before the 200 came back
            assert "February 14" in first.params["text"]

            press = await api.press(first.result, "s:1", user_id=60)
            await sender.deliver(press, replica=1)
            [answered] = api.sent("answerCallbackQuery")
            assert ("too old" in (answered.params.get("text") or "")) is not shared
            assert bool(api.sent("editMessageText")) is shared  # the sources, expanded in place

            await sender.deliver(await say(api, "what about Moscow?"), replica=1)
            follow = visible_text(api.sent(chat_id=60)[-1].params["text"])
            assert ("Reading this as: when does Scholz visit Moscow?" in follow) is shared

            await sender.deliver(await say(api, "/sources"), replica=0)
            sources = visible_text(api.sent(chat_id=60)[-1].params["text"])
            # A answered the first question; only shared memory tells it about B's answer since.
            last = "what about Moscow?" if shared else QUESTION
            assert f"Sources for “{last}”" in sources

    run(scenario())


def test_the_throttle_counts_one_users_questions_across_replicas(bot_settings: Settings, redis_url: str) -> None:
    settings = bot_settings.model_copy(
        update={
            "state_backend": "redis",
            "redis_url": SecretStr(redis_url),
            "throttle_questions": 3,
            "throttle_seconds": 600,
        }
    )

    async def scenario() -> None:
        async with replicas(settings) as (api, sender):
            for n in range(5):  # A, B, A, B, A
                await sender.deliver(await say(api, QUESTION, user=61), replica=n % 2)
            await sender.deliver(await say(api, QUESTION, user=62), replica=1)
            texts = [c.params["text"] for c in api.sent(chat_id=61)]
            assert sum("February 14" in t for t in texts) == 3
            assert sum("faster than I can read" in t for t in texts) == 1 and len(texts) == 4
            assert "February 14" in api.sent(chat_id=62)[0].params["text"]

    run(scenario())
