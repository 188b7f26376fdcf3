"""Inline mode: an answer offered as results the user can drop into any chat."""

from __future__ import annotations

import asyncio
import hashlib
from html import escape

from telegram import InlineQueryResultArticle, InlineQueryResultsButton, InputTextMessageContent, Update
from telegram.constants import ParseMode

from newsbot.bot.render import render_answer, render_sources, split_html
from newsbot.bot.sending import NO_PREVIEW
from newsbot.bot.shared import Verdict
from newsbot.bot.state import Context, state
from newsbot.retrieval.records import Answer

INLINE_SETTLE_SECONDS = 0.4
# An inline query cannot be answered with a message: the throttle's one note is a button above
# the (empty) results; tapping it opens the private chat with /start.
TOO_FAST = InlineQueryResultsButton("Asking too fast: try again in a few seconds", start_parameter="throttled")


async def inline(update: Update, context: Context) -> None:
    """Offers the answer to an inline query (@thisbot question) as shareable results."""
    query = update.inline_query
    if query is None:
        return
    bot = state(context)
    question = query.query.strip()
    if not question or len(question) > bot.settings.max_question_chars:
        await query.answer([], cache_time=5)
        return
    # Telegram sends a query per keystroke: answer only the one the user stopped typing at.
    user = query.from_user.id
    # Shared, so a replica sees keystrokes that reached another one.
    await bot.shared.note_inline(user, query.id)
    await asyncio.sleep(INLINE_SETTLE_SECONDS)
    if await bot.shared.latest_inline(user) != query.id:
        return
    # The same per-user budget as questions in chats; only settled queries spend it.
    verdict = await bot.shared.check(user)
    if verdict is not Verdict.ALLOW:
        # Personal and short-lived: Telegram must not show this user's refusal to anyone else.
        button = TOO_FAST if verdict is Verdict.WARN else None
        await query.answer([], cache_time=5, is_personal=True, button=button)
        return
    answer = await bot.use(lambda retriever: retriever.answer(question))
    await query.answer(inline_results(answer), cache_time=300)


def inline_results(answer: Answer) -> list[InlineQueryResultArticle]:
    """The answer as one shareable result, followed by each citation on its own."""
    key = hashlib.blake2b(answer.question.encode(), digest_size=8).hexdigest()
    header = f"<b>Q:</b> {escape(answer.question, quote=False)}\n\n"
    body = split_html(header + render_answer(answer))[0]
    title = answer.answer or "Not found in the articles"
    first = answer.citations[0].title if answer.citations else "No close articles"
    results = [
        InlineQueryResultArticle(
            id=f"{key}-a",
            title=_clip(title, 120),
            description=_clip(first, 200),
            input_message_content=InputTextMessageContent(
                body, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
            ),
        )
    ]
    for c in answer.citations:
        one = answer.model_copy(
            update={"citations": [c], "answer_citation": 1 if c.n == answer.answer_citation else None}
        )
        text = split_html(header + render_sources(one))[0]
        results.append(
            InlineQueryResultArticle(
                id=f"{key}-{c.n}",
                title=_clip(f"[{c.n}] {c.title}", 120),
                description=_clip(c.excerpt, 200),
                input_message_content=InputTextMessageContent(
                    text, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
                ),
            )
        )
    return results


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"
