"""Questions in messages: which ones are meant for the bot, and the way each gets its answer."""

from __future__ import annotations

from telegram import Chat, Message, MessageEntity, Update

from newsbot.bot.render import render_answer
from newsbot.bot.sending import esc, keyboard, reply, send, typing
from newsbot.bot.shared import Verdict
from newsbot.bot.state import Context, state

GROUPS = (Chat.GROUP, Chat.SUPERGROUP)
TOO_FAST = "You are asking faster than I can read. Give me a few seconds, then ask again."


async def text(update: Update, context: Context) -> None:
    """Answers any text in private chats; in groups only replies to the bot or mentions of it."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or message.text is None:
        return
    question = message.text
    if chat.type in GROUPS:
        meant = addressed(message, context)
        if meant is None:
            return
        question = meant
    elif chat.type != Chat.PRIVATE:
        return
    await answer(update, context, question)


async def not_text(update: Update, context: Context) -> None:
    """Explains, in private chats only, that questions must be text (stickers, photos, voice)."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None or chat.type != Chat.PRIVATE:
        return
    await reply(update, "I can only read text. Please type your question.")


def addressed(message: Message, context: Context) -> str | None:
    """The question in a group message meant for this bot, or None when it is not for it."""
    bot = context.bot
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
        return message.text
    handle = f"@{bot.username}".lower() if bot.username else None
    entities = message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
    for entity, mention in entities.items():
        mentioned = (entity.type == MessageEntity.MENTION and mention.lower() == handle) or (
            entity.user is not None and entity.user.id == bot.id
        )
        if mentioned:
            return (message.text or "").replace(mention, " ").strip()
    return None


async def answer(update: Update, context: Context, question: str) -> None:
    """Checks the question (empty, too long, asked too fast), then answers it with buttons."""
    message, user = update.effective_message, update.effective_user
    if message is None:
        return
    bot = state(context)
    question = question.strip()
    if not question:
        example = esc(bot.settings.example_question)
        await reply(update, f"What would you like to know? For example: <code>/ask {example}</code>")
        return
    limit = bot.settings.max_question_chars
    if len(question) > limit:
        await reply(update, f"That question is {len(question)} characters long; please keep it under {limit}.")
        return
    verdict = await bot.shared.check(user.id if user else message.chat_id)
    if verdict is Verdict.DROP:
        return
    if verdict is Verdict.WARN:
        await reply(update, TOO_FAST)
        return
    chat_id = message.chat_id
    history = await bot.shared.history(chat_id, bot.settings.history_turns)
    async with typing(context, chat_id, after=bot.settings.typing_after):
        found = await bot.answer(question, history)
    turn_id = await bot.shared.remember(chat_id, found)
    await send(update, render_answer(found), keyboard(turn_id))
