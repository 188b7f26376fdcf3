"""The Telegram application: every handler registered in one place, with the rate limiter."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from concurrent.futures import ThreadPoolExecutor

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from newsbot.bot import access, answering, buttons, commands, follow, inline, rebuild
from newsbot.bot.feedpoll import POLLER_KEY, FeedPoller
from newsbot.bot.lease import LEASE_KEY, Lease
from newsbot.bot.reload import WATCHER_KEY, IndexWatcher
from newsbot.bot.replies import BotApiRequest
from newsbot.bot.retry import RetryingRateLimiter, RetryingUpdatesRequest
from newsbot.bot.state import STATE_KEY, Context, Newsbot, RetrieverFactory
from newsbot.bot.webhook import AnsweringQueue
from newsbot.bot.workers import Opener, open_for_answers
from newsbot.config.settings import Settings
from newsbot.retrieval.retriever import Retriever

log = logging.getLogger(__name__)

COMMANDS = [
    BotCommand("ask", "Answer a question from the articles"),
    BotCommand("sources", "Full citations of the last answer"),
    BotCommand("help", "How to ask, and the commands"),
    BotCommand("start", "What this bot is"),
    BotCommand("follow", "Get new articles on a topic"),
    BotCommand("following", "The topics this chat follows"),
    BotCommand("unfollow", "Stop following topic N"),
    BotCommand("reindex", "Pick up new articles (admins only)"),
]
# Updates handled at once. A handler holds its slot until its reply is sent, so under the send
# budget (30 messages/s) a low cap left later questions waiting to start behind earlier replies;
# questions are answered ahead and their replies queue in the rate limiter instead. The per-user
# throttle bounds what one user can put in flight.
CONCURRENT_UPDATES = 256
# Threads answering at once. More than asyncio's default (cores + 4): questions that are being
# answered together share one model call (index/embedder.py, Coalescer), so a wider pool means
# bigger, cheaper batches under load (measured: 45 -> 59 answers/s for 100 chats at once).
ANSWER_THREADS = 16
# PTB's HTTP client keeps one connection by default; replies to updates handled at the same time
# go out on their own connections instead of queueing behind each other.
CONNECTIONS = 32
RATE_LIMIT_RETRIES = 3  # AIORateLimiter only honours 429 retry_after when retries are allowed


def open_configured(settings: Settings) -> Retriever:
    """The production retriever: the configured index, built from the seeds when missing."""
    return Retriever.from_settings(settings)


def build_application(
    settings: Settings,
    retriever_factory: RetrieverFactory = open_configured,
    *,
    webhook: bool = False,
    answer_opener: Opener = open_for_answers,
) -> Application:
    """The bot, ready for run_polling/run_webhook: loads the index and sets its commands on start.

    ``webhook``: updates posted to the webhook are acknowledged only once answered (bot/webhook.py).
    ``answer_opener``: how each worker process opens the index, when ``answer_processes`` is set
    (a module-level function: it is sent to the workers).
    """
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set; get a token from @BotFather")
    bot = Newsbot(settings, retriever_factory, answer_opener=answer_opener)
    queue: asyncio.Queue[object] = AnsweringQueue() if webhook else asyncio.Queue()

    async def post_init(application: Application) -> None:
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=ANSWER_THREADS, thread_name_prefix="newsbot-answer")
        )
        await bot.load()
        # The index and model stay loaded for the process's life: freezing them out of the
        # garbage collector's sweeps keeps each collection short while answers churn objects.
        gc.collect()
        gc.freeze()
        await register_commands(application)
        await start_keeping_current(application, settings)

    application = (
        Application.builder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_url)
        .rate_limiter(RetryingRateLimiter(max_retries=RATE_LIMIT_RETRIES, overall_max_rate=settings.send_rate))
        .concurrent_updates(CONCURRENT_UPDATES)
        .request(BotApiRequest(connection_pool_size=CONNECTIONS))
        .get_updates_request(RetryingUpdatesRequest(connection_pool_size=1))
        .update_queue(queue)
        .post_init(post_init)
        .post_stop(stop_keeping_current)
        .post_shutdown(close_state)
        .build()
    )
    if isinstance(queue, AnsweringQueue):
        queue.application = application
    application.bot_data[STATE_KEY] = bot
    add_handlers(application)
    return application


async def register_commands(application: Application) -> None:
    """Sets the command menu clients show; best effort, since the commands work without it."""
    try:
        await application.bot.set_my_commands(COMMANDS)
    except TelegramError as exc:  # e.g. a Bot API server that lacks or refuses setMyCommands
        log.warning("could not register the command menu (setMyCommands failed: %s); the commands still work", exc)


async def start_keeping_current(application: Application, settings: Settings) -> None:
    """Opens the follows store, takes the lease on feed polls and alerts when no other replica
    holds it (alerting for articles indexed while no one looked), starts polling the feeds when
    ``feed_interval_minutes`` is set and watching for indexes built elsewhere when
    ``reload_check_seconds`` is."""
    application.bot_data[follow.FOLLOWS_KEY] = await asyncio.to_thread(follow.Following.open, settings)
    lease = Lease(application, settings.lease_seconds)
    application.bot_data[LEASE_KEY] = lease
    await lease.renew(wait=True)  # taken: alerts for what was indexed meanwhile, before any update
    lease.start()
    if settings.feed_interval_minutes > 0:
        poller = FeedPoller(application, settings.feed_interval_minutes * 60)
        application.bot_data[POLLER_KEY] = poller
        poller.start()
    if settings.reload_check_seconds > 0:
        watcher = IndexWatcher(application, settings.reload_check_seconds)
        application.bot_data[WATCHER_KEY] = watcher
        watcher.start()


async def stop_keeping_current(application: Application) -> None:
    """Stops the feed poll (a build it started is finished in its thread, then dropped), the
    index watch and the lease (given up, so another replica takes over at once)."""
    if (poller := application.bot_data.pop(POLLER_KEY, None)) is not None:
        await poller.stop()
    if (watcher := application.bot_data.pop(WATCHER_KEY, None)) is not None:
        await watcher.stop()
    if (lease := application.bot_data.pop(LEASE_KEY, None)) is not None:
        await lease.stop()


async def close_state(application: Application) -> None:
    """Closes the follows store and the bot state's connections (Redis), once the bot has stopped."""
    if (follows := application.bot_data.pop(follow.FOLLOWS_KEY, None)) is not None:
        follows.store.close()
    await application.bot_data[STATE_KEY].close()


def add_handlers(application: Application) -> None:
    """Every handler: the allow-list first, then one per command, message kind, button and inline."""
    private_or_group = filters.ChatType.PRIVATE | filters.ChatType.GROUPS
    new_messages = filters.UpdateType.MESSAGE & private_or_group

    application.add_handler(TypeHandler(Update, access.gate), group=-1)
    application.add_handler(CommandHandler("start", commands.start, filters=new_messages))
    application.add_handler(CommandHandler("help", commands.help_command, filters=new_messages))
    application.add_handler(CommandHandler("ask", commands.ask, filters=new_messages))
    application.add_handler(CommandHandler("sources", commands.sources, filters=new_messages))
    application.add_handler(CommandHandler("reindex", rebuild.reindex, filters=new_messages))
    application.add_handler(CommandHandler("follow", follow.follow, filters=new_messages))
    application.add_handler(CommandHandler("following", follow.following_command, filters=new_messages))
    application.add_handler(CommandHandler("unfollow", follow.unfollow, filters=new_messages))
    application.add_handler(MessageHandler(new_messages & filters.TEXT & ~filters.COMMAND, answering.text))
    application.add_handler(MessageHandler(new_messages & filters.COMMAND, commands.unknown_command))
    application.add_handler(MessageHandler(new_messages & ~filters.TEXT, answering.not_text))
    application.add_handler(CallbackQueryHandler(buttons.button))
    application.add_handler(InlineQueryHandler(inline.inline))
    application.add_error_handler(error)


async def error(update: object, context: Context) -> None:
    """Logs the failure with its traceback and tells the user, briefly, that something broke."""
    log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        with contextlib.suppress(TelegramError):
            await update.effective_message.reply_text(
                "Sorry, something went wrong on my side. Please try again in a moment."
            )
