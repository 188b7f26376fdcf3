"""The bot's commands, one handler each (/reindex lives with the rebuild, in rebuild.py)."""

from __future__ import annotations

import re

from telegram import Chat, Update

from newsbot.bot.answering import answer
from newsbot.bot.render import format_date, render_sources
from newsbot.bot.sending import esc, reply
from newsbot.bot.state import Context, Corpus, state

COMMAND = re.compile(r"^/(\w+)(?:@(\w+))?")

HELP = (
    "<b>How to ask</b>\n"
    "Private chat: write the question. Groups: <code>/ask question</code>, a reply to one of "
    "my messages, or a message that mentions me. Follow-ups like “and when?” refer to the "
    "previous answers in the same chat.\n\n"
    "<b>Commands</b>\n"
    "/ask question: answer from the articles\n"
    "/sources: the full citations of the last answer\n"
    "/follow topic words: send me new articles that match the topic\n"
    "/following: the topics this chat follows; /unfollow N stops one (in groups: admins only)\n"
    "/reindex: pick up new articles (admins only)\n"
    "/help: this message\n\n"
    "Under each answer, <b>Sources</b> expands the citations and <b>More</b> shows further "
    "passages. In any chat you can type my @name and a question to share an answer."
)


def describe_corpus(corpus: Corpus) -> str:
    """'3 news articles, dated 1 Feb 2022 to 11 Feb 2022' (one article, one date: said once)."""
    text = f"{corpus.articles} news article{'' if corpus.articles == 1 else 's'}"
    if corpus.first and corpus.last:
        first, last = format_date(corpus.first), format_date(corpus.last)
        text += f", dated {first}" if first == last else f", dated {first} to {last}"
    return text


async def start(update: Update, context: Context) -> None:
    """Says what the bot is, how many articles it knows, their dates, and how to ask."""
    bot = state(context)
    example = esc(bot.settings.example_question)
    await reply(
        update,
        f"Hi! I answer questions from {describe_corpus(bot.corpus)}, and cite the article "
        f"each answer comes from.\n\nIn a private chat just write your question, for example:\n"
        f"<i>{example}</i>\n\nIn groups use <code>/ask {example}</code>, reply to "
        f"one of my messages, or mention me. <code>/follow topic words</code> brings new articles "
        f"on a topic as they arrive. /help lists everything.",
    )


async def help_command(update: Update, context: Context) -> None:
    """Lists the commands and how the bot behaves in groups."""
    await reply(update, HELP)


async def ask(update: Update, context: Context) -> None:
    """Answers the question after /ask (the way to ask in groups)."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    await answer(update, context, COMMAND.sub("", message.text, count=1).strip())


async def sources(update: Update, context: Context) -> None:
    """Sends the full citations of this chat's last answer."""
    chat = update.effective_chat
    found = await state(context).shared.history(chat.id, 1) if chat is not None else []
    last = found[-1] if found else None
    if last is None:
        await reply(update, "There is no answer in this chat yet; ask me something first.")
        return
    await reply(update, render_sources(last))


async def unknown_command(update: Update, context: Context) -> None:
    """Points to /help for commands meant for this bot that it does not know."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or message.text is None:
        return
    match = COMMAND.match(message.text)
    target = match.group(2) if match else None
    if target and target.lower() != (context.bot.username or "").lower():
        return  # /cmd@otherbot is someone else's business
    if chat.type == Chat.PRIVATE:
        await reply(update, "I do not know that command; /help lists the ones I have.")
