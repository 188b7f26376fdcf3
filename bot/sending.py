"""How the bot talks back: HTML replies that quote the question, buttons, "typing…"."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, ReplyParameters, Update
from telegram.constants import ChatAction
from telegram.error import TelegramError

from newsbot.bot.render import split_html
from newsbot.bot.retry import RetryingRateLimiter
from newsbot.bot.state import Context

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
CONGESTED_RECHECK = 1.0  # seconds before "typing…" looks at a busy send budget again


async def reply(update: Update, html: str) -> None:
    """Replies in HTML, without buttons."""
    await send(update, html, None)


async def send(update: Update, html: str, markup: InlineKeyboardMarkup | None) -> None:
    """Replies in HTML, quoting the message; split messages carry the buttons on the last piece."""
    message = update.effective_message
    if message is None:
        return
    pieces = split_html(html)
    for n, piece in enumerate(pieces):
        await message.reply_html(
            piece,
            link_preview_options=NO_PREVIEW,
            reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True),
            reply_markup=markup if n == len(pieces) - 1 else None,
        )


def keyboard(turn_id: int, *, sources: bool = True) -> InlineKeyboardMarkup:
    """The buttons under an answer; callback data is a kind letter and a per-chat turn number."""
    buttons = [InlineKeyboardButton("More", callback_data=f"m:{turn_id}")]
    if sources:
        buttons.insert(0, InlineKeyboardButton("Sources", callback_data=f"s:{turn_id}"))
    return InlineKeyboardMarkup([buttons])


@contextlib.asynccontextmanager
async def typing(context: Context, chat_id: int, after: float = 0.0) -> AsyncIterator[None]:
    """Shows "typing…" (Telegram keeps it ~5 s per call) while the body runs, once it has run
    ``after`` seconds: a quick answer needs no indicator, and each one spends the send budget.
    While messages wait for that budget the indicator waits too: it would only delay answers."""
    limiter = context.bot.rate_limiter

    async def keep_typing() -> None:
        await asyncio.sleep(after)
        while True:
            if isinstance(limiter, RetryingRateLimiter) and limiter.waiting:
                await asyncio.sleep(CONGESTED_RECHECK)
                continue
            try:
                await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
            except TelegramError as exc:  # cosmetic; never let it cost the answer
                log.info("typing indicator failed: %s", exc)
                return
            await asyncio.sleep(4.5)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def esc(text: str) -> str:
    """Text made safe for Telegram HTML."""
    return escape(text, quote=False)
