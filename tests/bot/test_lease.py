"""The lease on feed polls and alerts: a replica without it neither polls nor alerts, and one
that takes it over catches up on the alerts no holder sent."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from redis import Redis

from newsbot.bot.feedpoll import FeedPoller
from newsbot.bot.lease import Lease
from newsbot.config.settings import Settings
from newsbot.feeds.feedlist import add_feed
from tests.bot.conftest import ADMIN, ARTICLES, bot_settings, run, running_bot, write_corpus  # noqa: F401
from tests.bot.test_follow import OKAPI, alerts, feed_with, said
from tests.fakes.feed_server import FeedServer
from tests.redis_server import redis_server, redis_url  # noqa: F401 - fixtures


def test_only_the_lease_holder_polls_and_alerts_and_a_new_holder_catches_up(
    bot_settings: Settings, redis_url: str
) -> None:
    settings = bot_settings.model_copy(
        update={
            "state_backend": "redis",
            "redis_url": SecretStr(redis_url),
            "follow_threshold": 0.9,
            "feed_allow_private": True,
            "feed_host_delay_seconds": 0,
        }
    )
    with FeedServer() as server:
        feed_with(server)  # an empty feed: enough to see who fetches it
        add_feed(Path(settings.seeds_dir), server.url("/zoo.xml"), "zoo")

        async def scenario() -> None:
            async with running_bot(settings) as bot:
                api, lease = bot.api, bot.app.bot_data["lease"]
                assert isinstance(lease, Lease) and bot.newsbot.leading  # the first replica takes it
                with Redis.from_url(redis_url) as client:  # it stalled; another replica took it over
                    client.set("newsbot:lease", "elsewhere:1:abcd", px=600_000)
                assert not await lease.renew() and not bot.newsbot.leading
                poller = FeedPoller(bot.app, 3600)
                await poller.poll_once()
                assert not server.hits("/zoo.xml") and poller.polls == 0  # not the holder: no poll
                await said(api, "/follow baby okapi")
                okapi = {"title": "Zoo welcomes a baby okapi", "date": "2022-02-20", "text": OKAPI}
                write_corpus(Path(settings.seeds_dir), [*ARTICLES, okapi])
                await api.message("/reindex", chat_id=ADMIN, user_id=ADMIN)
                await api.wait_for("sendMessage", lambda c: "new index is in use" in c.params["text"])
                await api.settle()
                assert alerts(api) == []  # swapped in, but alerting is the holder's
                assert "named Kito" in await said(api, "what is the baby okapi named?")
                with Redis.from_url(redis_url) as client:  # the holder is gone: its lease ran out
                    client.delete("newsbot:lease")
                assert await lease.renew() and bot.newsbot.leading
                await api.wait_for("sendMessage", lambda c: "New on your topic" in c.params["text"])
                await poller.poll_once()
                assert len(server.hits("/zoo.xml")) == 1 and poller.polls == 1
                with Redis.from_url(redis_url, decode_responses=True) as client:
                    assert client.get("newsbot:lease") == lease.holder
            # Stopped: the lease is given up at once rather than left to run out.
            with Redis.from_url(redis_url) as client:
                assert client.get("newsbot:lease") is None
            assert len(alerts(api)) == 1

        run(scenario())
