"""/follow, /following, /unfollow over the wire, and alerts when new articles match a topic."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from newsbot.bot.feedpoll import FeedPoller
from newsbot.config.settings import Settings
from newsbot.feeds.feedlist import add_feed
from newsbot.testing.bot_api import FakeBotApi
from newsbot.testing.telegram_html import visible_text
from tests.bot.conftest import ADMIN, ARTICLES, bot_settings, run, running_bot, write_corpus  # noqa: F401
from tests.fakes.feed_server import FeedServer, Item, Page, article_page, rss

GROUP = -500
OKAPI = "The city zoo announced the birth of a baby okapi named Kito on Monday."
ZURI = "A second baby okapi, named Zuri, was born at the city zoo on Friday."


@pytest.fixture
def settings(bot_settings: Settings) -> Settings:
    # The fake embedder's scores are not the real model's: a threshold that parts its matches.
    return bot_settings.model_copy(update={"max_follows": 2, "follow_threshold": 0.9})


async def said(api: FakeBotApi, text: str, **where) -> str:
    """Sends ``text`` and returns the bot's reply to it (visible text)."""
    after = len(api.calls)
    asked = await api.message(text, **where)
    [answer] = await api.wait_for(
        "sendMessage",
        lambda c: c.params.get("reply_parameters", {}).get("message_id") == asked["message_id"],
        after=after,
    )
    return visible_text(answer.params["text"])


def test_follow_list_and_unfollow_with_the_limit(settings: Settings) -> None:
    async def scenario() -> None:
        async with running_bot(settings) as bot:
            api = bot.api
            assert "follows no topics" in await said(api, "/following")
            assert "Which topic?" in await said(api, "/follow")
            assert "Following “baby okapi”" in await said(api, "/follow baby okapi")
            assert "already follows “Baby  Okapi”" in await said(api, "/follow Baby  Okapi")
            await said(api, "/follow gas prices")
            full = await said(api, "/follow rain")
            assert "already follows 2 topics" in full and "1. baby okapi\n2. gas prices" in full
            assert "1. baby okapi\n2. gas prices" in await said(api, "/following")
            assert "N from 1 to 2" in await said(api, "/unfollow 3")
            assert "N from 1 to 2" in await said(api, "/unfollow okapi")
            assert "No longer following “baby okapi”" in await said(api, "/unfollow 1")
            assert "1. gas prices" in await said(api, "/following")
            assert "follows no topics" in await said(api, "/following", chat_id=101, user_id=101)  # per chat
            help_text = await said(api, "/help")
            assert "/follow topic words" in help_text and "/unfollow N" in help_text
            assert "/follow topic words" in await said(api, "/start")

    run(scenario())


def test_in_groups_only_admins_change_what_the_group_follows(settings: Settings) -> None:
    async def scenario() -> None:
        async with running_bot(settings) as bot:
            api = bot.api
            api.admins[GROUP] = {55}
            group = {"chat_id": GROUP, "chat_type": "supergroup"}
            assert "only the group's admins" in await said(api, "/follow baby okapi", user_id=66, **group)
            assert "Following “baby okapi”" in await said(api, "/follow baby okapi", user_id=55, **group)
            assert "Following “gas prices”" in await said(
                api, "/follow@newsbot_test_bot gas prices", user_id=ADMIN, **group
            )
            assert "1. baby okapi\n2. gas prices" in await said(
                api, "/following", user_id=66, **group
            )  # anyone may look
            assert "only the group's admins" in await said(api, "/unfollow 1", user_id=66, **group)
            assert "No longer following" in await said(api, "/unfollow 1", user_id=55, **group)
            checked = [c.params for c in api.sent("getChatMember")]
            assert {int(p["user_id"]) for p in checked} == {55, 66}  # the bot's own admin needs no check

    run(scenario())


def test_reindex_alerts_the_chats_following_a_matching_topic(settings: Settings) -> None:
    async def scenario() -> None:
        async with running_bot(settings) as bot:
            api = bot.api
            await said(api, "/follow baby okapi")
            await said(api, "/follow volcano eruption", chat_id=101, user_id=101)
            okapi = {"title": "Zoo welcomes a baby okapi", "date": "2022-02-20", "url": "https://zoo.example/okapi"}
            write_corpus(Path(settings.seeds_dir), [*ARTICLES, okapi | {"text": OKAPI}])
            await api.message("/reindex", chat_id=ADMIN, user_id=ADMIN)
            [alert] = await api.wait_for("sendMessage", lambda c: "New on your topic" in c.params["text"])
            await api.wait_for("sendMessage", lambda c: "new index is in use" in c.params["text"])
            assert int(alert.params["chat_id"]) == 100
            html = alert.params["text"]
            assert 'href="https://zoo.example/okapi"' in html and "<blockquote>" in html  # cited as answers are
            text = visible_text(html)
            assert "“baby okapi”" in text and "named Kito" in text and "20 Feb 2022" in text
            await api.settle()
            assert [c for c in api.sent() if "New on your topic" in c.params["text"]] == [alert]

    run(scenario())


def feed_with(server: FeedServer, *items: tuple[str, str, str]) -> None:
    """The zoo feed with these (slug, title, text) items, each with its page."""
    server.routes["/zoo.xml"] = rss("Zoo News", [Item(title, server.url(f"/{slug}"), slug) for slug, title, _ in items])
    for slug, title, text in items:
        server.routes[f"/{slug}"] = article_page(title, text)


def alerts(api: FakeBotApi, after: int = 0) -> list[str]:
    return [visible_text(c.params["text"]) for c in api.sent()[after:] if "New on your topic" in c.params["text"]]


def test_serve_polls_the_feeds_and_alerts_once_also_across_a_restart(settings: Settings) -> None:
    polling = settings.model_copy(
        update={"feed_interval_minutes": 0.002, "feed_allow_private": True, "feed_host_delay_seconds": 0}
    )
    with FeedServer() as server:
        feed_with(server)
        add_feed(Path(settings.seeds_dir), server.url("/zoo.xml"), "zoo")

        async def scenario() -> None:
            async with FakeBotApi() as api:
                async with running_bot(polling, api=api):
                    await said(api, "/follow baby okapi")
                    feed_with(server, ("kito", "Zoo welcomes a baby okapi", OKAPI))
                    [call] = await api.wait_for("sendMessage", lambda c: "New on your topic" in c.params["text"])
                    assert f'href="{server.url("/kito")}"' in call.params["text"]
                    [first] = alerts(api)
                    assert "Zoo welcomes a baby okapi — Zoo News" in first
                    assert "Kito" in await said(api, "what is the name of the baby okapi?")  # the new index is in use
                    assert "to 4 Mar 2024" in await said(api, "/start")  # the newest article's date
                # A restart: a new Application on the same seeds, index and follows file.
                before = len(api.sent())
                async with running_bot(polling, api=api) as bot:
                    assert "1. baby okapi" in await said(api, "/following")
                    feed_with(
                        server, ("kito", "Zoo welcomes a baby okapi", OKAPI), ("zuri", "Zuri, a second okapi", ZURI)
                    )
                    await api.wait_for("sendMessage", lambda c: "Zuri" in c.params["text"], after=len(api.calls))
                    await api.settle()
                    assert bot.newsbot.retriever.article_count == len(ARTICLES) + 2
                    [second] = alerts(api, before)
                    assert "Zuri, a second okapi" in second and "Kito" not in second

        run(scenario())
    assert len(json.loads((Path(settings.seeds_dir) / "feeds" / ".state.json").read_text())["feeds"]) == 1


def test_a_failing_poll_is_one_line_and_the_bot_serves_on(settings: Settings, caplog) -> None:
    failing = settings.model_copy(update={"feed_allow_private": True, "feed_host_delay_seconds": 0})
    with FeedServer() as server:
        server.routes["/zoo.xml"] = Page(b"down", "text/plain", status=500)
        feeds_toml = Path(settings.seeds_dir) / "feeds.toml"
        feeds_toml.write_text("[[feed]]\nname = 'zoo'\n")  # no url: a bad list

        async def scenario() -> None:
            async with running_bot(failing) as bot:
                poller = FeedPoller(bot.app, 3600)
                with caplog.at_level(logging.INFO, logger="newsbot.bot.feedpoll"):
                    await poller.poll_once()
                    feeds_toml.unlink()
                    add_feed(Path(settings.seeds_dir), server.url("/zoo.xml"), "zoo2")
                    await poller.poll_once()
                assert poller.polls == 2 and not bot.newsbot.rebuilding
                assert "February 14" in await said(bot.api, "when does Scholz visit Kyiv?")

        run(scenario())
    lines = [r for r in caplog.records if r.name == "newsbot.bot.feedpoll"]
    assert len(lines) == 2 and all(r.levelno == logging.WARNING and not r.exc_info for r in lines)
    assert "feed poll failed" in lines[0].getMessage() and "feeds.toml" in lines[0].getMessage()
    assert "1 failed (feed zoo2: failed: HTTP 500" in lines[1].getMessage()
