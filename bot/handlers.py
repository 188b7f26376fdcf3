"""What the bot does with each kind of update: one async method per command or message kind."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from html import escape
from pathlib import Path

from telegram import (
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from newsbot.bot.inline import NO_PREVIEW, inline_results
from newsbot.bot.memory import ChatMemory, Turn
from newsbot.bot.render import format_date, render_answer, render_passages, render_sources, split_html
from newsbot.bot.throttle import Throttle, Verdict
from newsbot.config.settings import Settings
from newsbot.retrieval.records import Citation, Hit
from newsbot.retrieval.retriever import Retriever

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
RetrieverFactory = Callable[[Settings], Retriever]

GROUPS = (Chat.GROUP, Chat.SUPERGROUP)
MORE_PER_PRESS = 3
INLINE_SETTLE_SECONDS = 0.4
_COMMAND = re.compile(r"^/(\w+)(?:@(\w+))?")


@dataclass(frozen=True, slots=True)
class Corpus:
    """What /start tells people about the articles."""

    articles: int
    first: date | None
    last: date | None

    @classmethod
    def of(cls, retriever: Retriever) -> Corpus:
        dates = [a.date for a in retriever.reader.chunks.all_articles() if a.date]
        return cls(retriever.article_count, min(dates, default=None), max(dates, default=None))


class Newsbot:
    """The bot's state (current retriever, throttle, refused chats) and its update handlers."""

    def __init__(self, settings: Settings, retriever_factory: RetrieverFactory) -> None:
        self.settings = settings
        self.retriever_factory = retriever_factory
        self.retriever: Retriever | None = None
        self.corpus = Corpus(0, None, None)
        self.throttle = Throttle(settings.throttle_questions, settings.throttle_seconds)
        self.refused: set[int] = set()
        self.latest_inline: dict[int, str] = {}
        self.rebuilding = False

    # --- lifecycle --------------------------------------------------------------------------

    async def load(self) -> None:
        """Opens (or first builds) the index off the event loop, before any update is taken."""
        retriever = await asyncio.to_thread(self.retriever_factory, self.settings)
        self.corpus = await asyncio.to_thread(Corpus.of, retriever)
        # The model loads lazily; pay that (~10 s) now rather than on the first user's question.
        await asyncio.to_thread(retriever.embedder.embed_batch, ["warm up"])
        self.retriever = retriever

    def current(self) -> Retriever:
        if self.retriever is None:
            raise RuntimeError("the index is not loaded yet")
        return self.retriever

    def memory(self, context: Context) -> ChatMemory:
        chat_data = context.chat_data
        if chat_data is None:
            raise RuntimeError("this update has no chat")
        if "memory" not in chat_data:
            chat_data["memory"] = ChatMemory(deque(maxlen=self.settings.history_turns))
        return chat_data["memory"]

    # --- gates ------------------------------------------------------------------------------

    async def gate(self, update: Update, context: Context) -> None:
        """Stops updates from chats outside the allow-list, refusing each such chat once."""
        allowed = self.settings.allowed_chat_ids
        if not allowed:
            return
        chat, user = update.effective_chat, update.effective_user
        who = chat.id if chat is not None else (user.id if user is not None else None)
        if who in allowed:
            return
        # Who, never the text: the log must not hold strangers' messages. Loud once per chat only.
        log.log(
            logging.DEBUG if who in self.refused else logging.WARNING,
            "refused update %s from chat %s (user %s): not in allowed_chat_ids",
            update.update_id,
            chat.id if chat is not None else "-",
            user.id if user is not None else "-",
        )
        if update.inline_query is not None:
            await update.inline_query.answer([], cache_time=60, is_personal=True)
        elif update.callback_query is not None:
            await update.callback_query.answer("Sorry, this bot is not open to this chat.")
        elif who is not None and who not in self.refused and update.effective_message is not None:
            self.refused.add(who)
            await update.effective_message.reply_text(
                "Sorry, this bot only answers in the chats it was set up for. Ask its owner if you would like access."
            )
        raise ApplicationHandlerStop

    # --- commands ---------------------------------------------------------------------------

    async def start(self, update: Update, context: Context) -> None:
        """Says what the bot is, how many articles it knows, their dates, and how to ask."""
        c = self.corpus
        span = ""
        if c.first and c.last:
            span = f", dated {format_date(c.first)} to {format_date(c.last)}"
        example = self.settings.example_question
        await self._reply(
            update,
            (
                f"Hi! I answer questions from {c.articles} news articles{span}, and cite the article "
                f"each answer comes from.\n\nIn a private chat just write your question, for example:\n"
                f"<i>{_esc(example)}</i>\n\nIn groups use <code>/ask {_esc(example)}</code>, reply to "
                f"one of my messages, or mention me. /help lists everything."
            ),
        )

    async def help(self, update: Update, context: Context) -> None:
        """Lists the commands and how the bot behaves in groups."""
        await self._reply(
            update,
            (
                "<b>How to ask</b>\n"
                "Private chat: write the question. Groups: <code>/ask question</code>, a reply to one of "
                "my messages, or a message that mentions me. Follow-ups like “and when?” refer to the "
                "previous answers in the same chat.\n\n"
                "<b>Commands</b>\n"
                "/ask question: answer from the articles\n"
                "/sources: the full citations of the last answer\n"
                "/reindex: pick up new articles (admins only)\n"
                "/help: this message\n\n"
                "Under each answer, <b>Sources</b> expands the citations and <b>More</b> shows further "
                "passages. In any chat you can type my @name and a question to share an answer."
            ),
        )

    async def ask(self, update: Update, context: Context) -> None:
        """Answers the question after /ask (the way to ask in groups)."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        question = _COMMAND.sub("", message.text, count=1).strip()
        await self._answer(update, context, question)

    async def sources(self, update: Update, context: Context) -> None:
        """Sends the full citations of this chat's last answer."""
        last = self.memory(context).last
        if last is None:
            await self._reply(update, "There is no answer in this chat yet; ask me something first.")
            return
        await self._reply(update, render_sources(last))

    async def reindex(self, update: Update, context: Context) -> None:
        """Rebuilds the index in the background and swaps it in (admins only)."""
        user = update.effective_user
        if user is None or user.id not in self.settings.admin_ids:
            log.warning(
                "refused /reindex from user %s in chat %s: not in admin_ids",
                user.id if user is not None else "-",
                update.effective_chat.id if update.effective_chat else "-",
            )
            await self._reply(update, "Sorry, only the bot's admins can rebuild the index.")
            return
        if self.rebuilding:
            await self._reply(update, "A rebuild is already running; I will report when it is done.")
            return
        self.rebuilding = True
        await self._reply(
            update,
            "Rebuilding the index in the background; answers keep coming "
            "from the current one until the new one is ready.",
        )
        context.application.create_task(self._rebuild(update, context), update=update)

    # --- messages ---------------------------------------------------------------------------

    async def text(self, update: Update, context: Context) -> None:
        """Answers any text in private chats; in groups only replies to the bot or mentions of it."""
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or message.text is None:
            return
        question = message.text
        if chat.type in GROUPS:
            question = self._addressed(message, context)
            if question is None:
                return
        elif chat.type != Chat.PRIVATE:
            return
        await self._answer(update, context, question)

    async def unknown_command(self, update: Update, context: Context) -> None:
        """Points to /help for commands meant for this bot that it does not know."""
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or message.text is None:
            return
        match = _COMMAND.match(message.text)
        target = match.group(2) if match else None
        if target and target.lower() != (context.bot.username or "").lower():
            return  # /cmd@otherbot is someone else's business
        if chat.type == Chat.PRIVATE:
            await self._reply(update, "I do not know that command; /help lists the ones I have.")

    async def not_text(self, update: Update, context: Context) -> None:
        """Explains, in private chats only, that questions must be text (stickers, photos, voice)."""
        chat, message = update.effective_chat, update.effective_message
        if chat is None or message is None or chat.type != Chat.PRIVATE:
            return
        await self._reply(update, "I can only read text. Please type your question.")

    async def button(self, update: Update, context: Context) -> None:
        """Handles the Sources and More buttons; every press is answered."""
        query = update.callback_query
        if query is None:
            return
        kind, _, raw_id = (query.data or "").partition(":")
        turn = None
        if context.chat_data is not None and raw_id.isdigit():
            turn = self.memory(context).turns.get(int(raw_id))
        if turn is None or kind not in ("s", "m"):
            await query.answer("That answer is too old for buttons; please ask again.")
            return
        await query.answer()
        message = query.message if isinstance(query.message, Message) else None
        if kind == "s":
            await self._expand(message, turn, int(raw_id), context)
        else:
            await self._more(message, turn, context)

    async def inline(self, update: Update, context: Context) -> None:
        """Offers the answer to an inline query (@thisbot question) as shareable results."""
        query = update.inline_query
        if query is None:
            return
        question = query.query.strip()
        if not question or len(question) > self.settings.max_question_chars:
            await query.answer([], cache_time=5)
            return
        # Telegram sends a query per keystroke: answer only the one the user stopped typing at.
        self.latest_inline[query.from_user.id] = query.id
        await asyncio.sleep(INLINE_SETTLE_SECONDS)
        if self.latest_inline.get(query.from_user.id) != query.id:
            return
        answer = await asyncio.to_thread(self.current().answer, question)
        await query.answer(inline_results(answer), cache_time=300)

    async def error(self, update: object, context: Context) -> None:
        """Logs the failure with its traceback and tells the user, briefly, that something broke."""
        log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
        if isinstance(update, Update) and update.effective_message is not None:
            with contextlib.suppress(TelegramError):
                await update.effective_message.reply_text(
                    "Sorry, something went wrong on my side. Please try again in a moment."
                )

    # --- the work ---------------------------------------------------------------------------

    def _addressed(self, message: Message, context: Context) -> str | None:
        """The question in a group message meant for this bot, or None when it is not for it."""
        bot = context.bot
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
            return message.text
        handle = f"@{bot.username}".lower() if bot.username else None
        entities = message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
        for entity, text in entities.items():
            mentioned = (entity.type == MessageEntity.MENTION and text.lower() == handle) or (
                entity.user is not None and entity.user.id == bot.id
            )
            if mentioned:
                return (message.text or "").replace(text, " ").strip()
        return None

    async def _answer(self, update: Update, context: Context, question: str) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None:
            return
        question = question.strip()
        if not question:
            await self._reply(
                update,
                f"What would you like to know? For example: <code>/ask {_esc(self.settings.example_question)}</code>",
            )
            return
        limit = self.settings.max_question_chars
        if len(question) > limit:
            await self._reply(
                update, f"That question is {len(question)} characters long; please keep it under {limit}."
            )
            return
        verdict = self.throttle.check(user.id if user else message.chat_id)
        if verdict is Verdict.DROP:
            return
        if verdict is Verdict.WARN:
            await self._reply(update, "You are asking faster than I can read. Give me a few seconds, then ask again.")
            return
        memory = self.memory(context)
        retriever = self.current()
        async with typing(context, message.chat_id, after=self.settings.typing_after):
            answer = await asyncio.to_thread(retriever.answer, question, history=list(memory.history))
        turn_id = memory.remember(answer)
        await self._send(update, render_answer(answer), keyboard(turn_id))

    async def _expand(self, message: Message | None, turn: Turn, turn_id: int, context: Context) -> None:
        full = split_html(render_answer(turn.answer, full=True))
        if message is not None and len(full) == 1 and message.text is not None:
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
        if message is not None:
            for piece in split_html(render_sources(turn.answer)):
                await message.reply_html(piece, link_preview_options=NO_PREVIEW)

    async def _more(self, message: Message | None, turn: Turn, context: Context) -> None:
        if message is None:
            return
        answer = turn.answer
        question = answer.resolved_question or answer.question
        retriever = self.current()
        want = len(answer.citations) + turn.more_shown + MORE_PER_PRESS
        hits = await asyncio.to_thread(retriever.search, question, min(50, want + retriever.top_k))
        cited = {c.chunk_id for c in answer.citations}
        fresh = [h for h in hits if h.chunk.id not in cited][turn.more_shown : turn.more_shown + MORE_PER_PRESS]
        first = len(answer.citations) + turn.more_shown + 1
        turn.more_shown += len(fresh)
        passages = [passage(n, h) for n, h in enumerate(fresh, first)]
        for piece in split_html(render_passages(question, passages)):
            await message.reply_html(piece, link_preview_options=NO_PREVIEW)

    async def _rebuild(self, update: Update, context: Context) -> None:
        from newsbot.index.builder import IndexBuilder, NothingToIndex
        from newsbot.index.manifest import IndexProblem

        old = self.current()
        settings = self.settings

        def build_and_open() -> tuple[str, Retriever, Corpus]:
            builder = IndexBuilder.from_settings(settings, old.embedder)
            report = builder.build(Path(settings.seeds_dir), Path(settings.index_dir))
            fresh = Retriever.open(settings.index_dir, embedder=old.embedder, settings=settings)
            return report.summary(), fresh, Corpus.of(fresh)

        try:
            summary, fresh, corpus = await asyncio.to_thread(build_and_open)
        except (NothingToIndex, IndexProblem, OSError, ValueError) as exc:
            log.warning("reindex failed: %s", exc)
            await self._reply(update, f"The rebuild failed and the current index stays in use: {_esc(str(exc))}")
            return
        finally:
            self.rebuilding = False
        # In-flight questions hold their own reference to the old retriever and finish on it.
        self.retriever, self.corpus = fresh, corpus
        await self._reply(update, f"The new index is in use. {_esc(summary)}.")

    async def _reply(self, update: Update, html: str) -> None:
        await self._send(update, html, None)

    async def _send(self, update: Update, html: str, markup: InlineKeyboardMarkup | None) -> None:
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


def passage(n: int, hit: Hit) -> Citation:
    """A search hit shown as a citation (the whole passage as its excerpt)."""
    a, c = hit.article, hit.chunk
    return Citation(
        n=n,
        title=a.title,
        source=a.source,
        date=a.date,
        url=a.url,
        path=a.path,
        paragraph=c.paragraph,
        excerpt=c.text,
        score=round(hit.score, 4),
        start=c.start,
        end=c.end,
        article_id=a.id,
        chunk_id=c.id,
    )


@contextlib.asynccontextmanager
async def typing(context: Context, chat_id: int, after: float = 0.0) -> AsyncIterator[None]:
    """Shows "typing…" (Telegram keeps it ~5 s per call) while the body runs, once it has run
    ``after`` seconds: a quick answer needs no indicator, and each one spends the send budget."""

    async def keep_typing() -> None:
        await asyncio.sleep(after)
        while True:
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


def _esc(text: str) -> str:
    return escape(text, quote=False)
