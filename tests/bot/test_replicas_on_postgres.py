"""Two `newsbot serve --webhook` processes on one real PostgreSQL (backend postgres) and one Redis.

As tests/bot/test_replica_processes.py does on one index folder: updates go alternately to the
two replicas; a follow-up on B about A's answer; one throttle across both; a replica killed
while answering loses nothing. And what only a shared database gives: a topic followed on one
replica is listed on the other; a build by another process while both serve is answered from by
both, and its alert is sent once; the replica holding the lease (feed polls, alerts) is the one
killed, and the other takes the lease over and sends the next build's alert, once.
"""

from __future__ import annotations

import asyncio
import inspect
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pydantic import SecretStr
from redis import Redis

from newsbot.config.settings import Settings
from newsbot.index import backends
from newsbot.index.builder import IndexBuilder
from newsbot.testing.bot_api import FakeBotApi
from newsbot.testing.telegram_html import visible_text
from tests.bot.conftest import ARTICLES, run, write_corpus
from tests.bot.test_follow import OKAPI, ZURI
from tests.bot.test_replica_processes import (
    HELD_CHAT,
    QUESTION,
    HoldingBotApi,
    followup_and_throttle_across,
    replica_processes,
    say,
)
from tests.fakes.embedder import FakeEmbedder
from tests.pg.helpers import build_in_another_process
from tests.redis_server import redis_server, redis_url  # noqa: F401 - fixtures

FOLLOWER = 62
KITO = {"title": "Zoo welcomes a baby okapi", "date": "2022-02-20", "url": "https://zoo.example/kito", "text": OKAPI}
ZURI_ARTICLE = {"title": "Zuri, a second okapi", "date": "2022-02-25", "url": "https://zoo.example/zuri", "text": ZURI}


def lease_holder(redis: str) -> int | None:
    """The pid of the replica holding the lease (its holder id is host:pid:random), if any."""
    with Redis.from_url(redis, decode_responses=True) as client:
        holder = client.get("newsbot:lease")
    return int(str(holder).split(":")[1]) if holder is not None else None


async def until(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    """Polls ``check`` (plain or async) until it returns something true."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = check()
        if inspect.isawaitable(found):
            found = await found
        if found:
            return found
        assert asyncio.get_running_loop().time() < deadline, f"not within {timeout} s: {what}"
        await asyncio.sleep(0.2)


def alerts(api: FakeBotApi, word: str) -> list[str]:
    texts = [visible_text(c.params["text"]) for c in api.sent(chat_id=FOLLOWER)]
    return [t for t in texts if "New on your topic" in t and word in t]


@pytest.mark.slow
def test_two_replicas_on_one_postgres_share_everything_and_both_serve_a_new_build(
    bot_settings: Settings, pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    seeds = Path(bot_settings.seeds_dir)
    settings = bot_settings.model_copy(update={"backend": "postgres", "database_url": SecretStr(pg_url)})
    backends.build(IndexBuilder.from_settings(settings, FakeEmbedder()), settings)  # generation 1
    extra = {
        "NEWSBOT_BACKEND": "postgres",
        "NEWSBOT_DATABASE_URL": pg_url,
        "NEWSBOT_RELOAD_CHECK_SECONDS": "0.5",
        "NEWSBOT_LEASE_SECONDS": "2",
        "NEWSBOT_FOLLOW_THRESHOLD": "0.9",  # the fake embedder's scores are not the real model's
    }
    users = iter(range(1000, 2000))  # a fresh user per probe, so probing never meets the throttle

    async def answers_from(sender: Any, api: FakeBotApi, replica: int, question: str, word: str) -> bool:
        user = next(users)
        await sender.deliver(await say(api, question, user), replica=replica)
        return word in api.sent(chat_id=user)[-1].params["text"]

    async def scenario() -> None:
        async with (
            HoldingBotApi() as api,
            replica_processes(settings, redis_url, api, tmp_path, extra) as (processes, sender),
        ):
            # A follow-up on B about A's answer; one throttle across both.
            await followup_and_throttle_across(api, sender)

            # A topic followed on A is B's too: one list, in the database.
            await sender.deliver(await say(api, "/follow baby okapi", FOLLOWER), replica=0)
            await sender.deliver(await say(api, "/following", FOLLOWER), replica=1)
            assert "1. baby okapi" in visible_text(api.sent(chat_id=FOLLOWER)[-1].params["text"])
            with psycopg.connect(pg_url) as conn:  # kept in the database, not in a file of either replica
                assert conn.execute("SELECT chat_id, words FROM follow_topics").fetchall() == [(FOLLOWER, "baby okapi")]

            # Another process builds while both serve: both answer from the new build, and the
            # one alert it raises is sent once, by the lease holder.
            assert not await answers_from(sender, api, 0, "what is the baby okapi named?", "Kito")
            write_corpus(seeds, [*ARTICLES, KITO])
            assert await asyncio.to_thread(build_in_another_process, pg_url, seeds) == "built generation 2"
            for replica in (0, 1):
                await until(
                    lambda r=replica: answers_from(sender, api, r, "what is the baby okapi named?", "Kito"),
                    f"replica {replica} answers from the new build",
                )
            await until(lambda: alerts(api, "Kito"), "the alert for the new article")

            # The lease holder is killed while answering: no 200, so the update goes to the
            # other replica, which answers it; and takes the lease over once it runs out.
            holder = await until(lambda: lease_holder(redis_url), "a replica holds the lease")
            [killed] = [n for n, p in enumerate(processes) if p.pid == holder]
            survivor = 1 - killed
            update = await say(api, QUESTION, HELD_CHAT)
            delivering = asyncio.create_task(sender.deliver(update, replica=killed))
            await asyncio.wait_for(api.holding.wait(), 60)
            processes[killed].send_signal(signal.SIGKILL)
            assert await asyncio.wait_for(delivering, 60) == survivor
            api.let_go.set()
            [answer] = api.sent(chat_id=HELD_CHAT)
            assert "February 14" in answer.params["text"]
            tries = [(d.replica, d.status) for d in sender.deliveries if d.update_id == update["update_id"]]
            assert tries == [(killed, 0), (survivor, 200)]
            await until(lambda: lease_holder(redis_url) == processes[survivor].pid, "the survivor takes the lease")

            # The next build's alert comes from the survivor, now holding the lease.
            write_corpus(seeds, [*ARTICLES, KITO, ZURI_ARTICLE])
            assert await asyncio.to_thread(build_in_another_process, pg_url, seeds) == "built generation 3"
            await until(lambda: alerts(api, "Zuri"), "the alert for the next build")
            await api.settle(1.0)
            assert len(alerts(api, "Kito")) == 1 and len(alerts(api, "Zuri")) == 1  # each sent once

    run(scenario())
    assert not list(tmp_path.rglob("follows.sqlite"))  # neither replica kept follows in a file
