"""/follow, /following, /unfollow, and the alerts sent when new articles match a followed topic."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application

from newsbot.bot.access import is_group_admin
from newsbot.bot.commands import COMMAND
from newsbot.bot.render import render_alert, split_html
from newsbot.bot.sending import NO_PREVIEW, esc, reply
from newsbot.bot.state import STATE_KEY, Context, Newsbot, state
from newsbot.config.settings import Settings
from newsbot.follow.alerts import Alert, AlertLimits, AlertRound, new_alerts
from newsbot.follow.matching import calibrated_threshold
from newsbot.follow.store import Followed, FollowStore, Topic, open_store

log = logging.getLogger(__name__)

FOLLOWS_KEY = "follows"  # where the Following sits in the application's bot_data
ADMINS_ONLY = "In groups only the group's admins can change what it follows."


@dataclass(frozen=True, slots=True)
class Following:
    """The store of topics and alerts, and the limits alerts are sent under."""

    store: FollowStore
    limits: AlertLimits
    max_follows: int

    @classmethod
    def open(cls, settings: Settings) -> Following:
        threshold = settings.follow_threshold if settings.follow_threshold is not None else calibrated_threshold()
        return cls(
            open_store(settings),
            AlertLimits(threshold, settings.max_alerts_per_hour),
            settings.max_follows,
        )


def following(application: Application) -> Following:
    """The Following that app.py's post_init opened."""
    return application.bot_data[FOLLOWS_KEY]


def _listing(topics: tuple[Topic, ...]) -> str:
    lines = [f"{n}. {esc(t.words)}" for n, t in enumerate(topics, 1)]
    return "This chat follows:\n" + "\n".join(lines) + "\n\n/unfollow N stops one."


async def follow(update: Update, context: Context) -> None:
    """Follows the topic after /follow: new articles that match it are sent to this chat."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or message.text is None:
        return
    words = COMMAND.sub("", message.text, count=1).strip()
    if not words:
        await reply(update, "Which topic? For example: <code>/follow scholz kyiv visit</code>")
        return
    limit = state(context).settings.max_question_chars
    if len(words) > limit:
        await reply(update, f"That topic is {len(words)} characters long; please keep it under {limit}.")
        return
    if not await is_group_admin(update, context, "/follow"):
        await reply(update, ADMINS_ONLY)
        return
    follows = following(context.application)
    result = await asyncio.to_thread(follows.store.follow, chat.id, words, follows.max_follows, datetime.now(UTC))
    if result.outcome is Followed.FULL:
        await reply(
            update,
            f"This chat already follows {follows.max_follows} topics, the most it can; /unfollow one first.\n\n"
            + _listing(result.topics),
        )
    elif result.outcome is Followed.ALREADY:
        await reply(update, f"This chat already follows “{esc(words)}”.")
    else:
        await reply(update, f"Following “{esc(words)}”: I will send new articles that match it.")


async def following_command(update: Update, context: Context) -> None:
    """Lists the topics this chat follows, numbered for /unfollow."""
    chat = update.effective_chat
    if chat is None:
        return
    topics = await asyncio.to_thread(following(context.application).store.topics, chat.id)
    if not topics:
        await reply(update, "This chat follows no topics; <code>/follow topic words</code> starts one.")
        return
    await reply(update, _listing(topics))


async def unfollow(update: Update, context: Context) -> None:
    """Stops following topic N of /following."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or message.text is None:
        return
    if not await is_group_admin(update, context, "/unfollow"):
        await reply(update, ADMINS_ONLY)
        return
    store = following(context.application).store
    topics = await asyncio.to_thread(store.topics, chat.id)
    if not topics:
        await reply(update, "This chat follows no topics.")
        return
    arg = COMMAND.sub("", message.text, count=1).strip()
    if not arg.isdigit() or not 1 <= int(arg) <= len(topics):
        await reply(update, f"Send <code>/unfollow N</code>, N from 1 to {len(topics)}.\n\n" + _listing(topics))
        return
    topic = topics[int(arg) - 1]
    await asyncio.to_thread(store.unfollow, chat.id, topic.id)
    await reply(update, f"No longer following “{esc(topic.words)}”.")


async def announce(application: Application) -> AlertRound | None:
    """Looks at the articles the index gained and sends each matching chat its alerts; a failure
    is logged (None), since the index it looked at is in use either way. Only the replica that
    holds the lease (bot/lease.py) looks; the others return None."""
    bot: Newsbot = application.bot_data[STATE_KEY]
    if not bot.leading:
        return None
    follows = following(application)
    try:
        found = await bot.use(lambda retriever: new_alerts(follows.store, retriever, follows.limits, datetime.now(UTC)))
    except Exception:  # a broken look at new articles must not stop the bot
        log.exception("looking for alerts in the new articles failed")
        return None
    for alert in found.alerts:
        await _send(application, alert)
    if found.new_articles:
        log.info(
            "%d new articles: %d alerts sent, %d held back by max_alerts_per_hour",
            found.new_articles,
            len(found.alerts),
            found.over_limit,
        )
    return found


async def _send(application: Application, alert: Alert) -> None:
    try:
        for piece in split_html(render_alert(alert.topic.words, alert.citation)):
            await application.bot.send_message(
                alert.topic.chat_id, piece, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
            )
    except TelegramError as exc:  # a chat that blocked or removed the bot; the others still get theirs
        log.warning("alert to chat %s failed: %s", alert.topic.chat_id, exc)
