"""The Sources and More buttons under each answer."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from newsbot.bot.render import render_answer, render_passages, render_sources, split_html
from newsbot.bot.sending import NO_PREVIEW, keyboard
from newsbot.bot.shared import Turn
from newsbot.bot.state import Context, state
from newsbot.retrieval.records import Citation, Hit

log = logging.getLogger(__name__)

MORE_PER_PRESS = 3


async def button(update: Update, context: Context) -> None:
    """Handles the Sources and More buttons; every press is answered."""
    query = update.callback_query
    if query is None:
        return
    kind, _, raw_id = (query.data or "").partition(":")
    chat, turn = update.effective_chat, None
    if chat is not None and raw_id.isdigit() and kind in ("s", "m"):
        turn = await state(context).shared.turn(chat.id, int(raw_id))
    if chat is None or turn is None:
        await query.answer("That answer is too old for buttons; please ask again.")
        return
    await query.answer()
    message = query.message if isinstance(query.message, Message) else None
    if message is None:
        return
    if kind == "s":
        await expand(message, turn, int(raw_id))
    else:
        await more(message, turn, context, chat.id, int(raw_id))


async def expand(message: Message, turn: Turn, turn_id: int) -> None:
    """Sources: the answer edited in place to show its full citations, or sent below it."""
    full = split_html(render_answer(turn.answer, full=True))
    if len(full) == 1 and message.text is not None:
        try:
            await message.edit_text(
                full[0],
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
                reply_markup=keyboard(turn_id, sources=False),
            )
            return
        except BadRequest as exc:  # e.g. the answer was split, or already expanded
            log.info("could not expand in place (%s); sending the sources instead", exc)
    for piece in split_html(render_sources(turn.answer)):
        await message.reply_html(piece, link_preview_options=NO_PREVIEW)


async def more(message: Message, turn: Turn, context: Context, chat_id: int, turn_id: int) -> None:
    """More: the next few passages for the question, beyond those cited and shown before."""
    answer = turn.answer
    question = answer.resolved_question or answer.question
    want = len(answer.citations) + turn.more_shown + MORE_PER_PRESS
    bot = state(context)
    hits = await bot.use(lambda retriever: retriever.search(question, min(50, want + retriever.top_k)))
    cited = {c.chunk_id for c in answer.citations}
    fresh = [h for h in hits if h.chunk.id not in cited][turn.more_shown : turn.more_shown + MORE_PER_PRESS]
    first = len(answer.citations) + turn.more_shown + 1
    await bot.shared.shown_more(chat_id, turn_id, len(fresh))
    passages = [passage(n, h) for n, h in enumerate(fresh, first)]
    for piece in split_html(render_passages(question, passages)):
        await message.reply_html(piece, link_preview_options=NO_PREVIEW)


def passage(n: int, hit: Hit) -> Citation:
    """A search hit shown as a citation (the whole passage as its excerpt)."""
    return Citation.of(n, hit, hit.chunk.start, hit.chunk.start + len(hit.chunk.text), hit.score)
