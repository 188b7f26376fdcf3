"""What the bot keeps between updates: the current retriever, the throttle, the refused chats."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from telegram.ext import ContextTypes

from newsbot.bot.memory import ChatMemory
from newsbot.bot.throttle import Throttle
from newsbot.config.settings import Settings
from newsbot.retrieval.retriever import Retriever

Context = ContextTypes.DEFAULT_TYPE
RetrieverFactory = Callable[[Settings], Retriever]
STATE_KEY = "newsbot"  # where the Newsbot sits in the application's bot_data


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
    """The bot's state, shared by every handler through the application's bot_data."""

    def __init__(self, settings: Settings, retriever_factory: RetrieverFactory) -> None:
        self.settings = settings
        self.retriever_factory = retriever_factory
        self.retriever: Retriever | None = None
        self.corpus = Corpus(0, None, None)
        self.throttle = Throttle(settings.throttle_questions, settings.throttle_seconds)
        self.refused: set[int] = set()
        self.latest_inline: dict[int, str] = {}
        self.rebuilding = False

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

    def swap(self, retriever: Retriever, corpus: Corpus) -> None:
        """Puts a rebuilt index in use; in-flight questions hold the old one and finish on it."""
        self.retriever, self.corpus = retriever, corpus

    def memory(self, context: Context) -> ChatMemory:
        chat_data = context.chat_data
        if chat_data is None:
            raise RuntimeError("this update has no chat")
        if "memory" not in chat_data:
            chat_data["memory"] = ChatMemory(deque(maxlen=self.settings.history_turns))
        return chat_data["memory"]


def state(context: Context) -> Newsbot:
    """The Newsbot that build_application put in this application's bot_data."""
    return context.bot_data[STATE_KEY]
