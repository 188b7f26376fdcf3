"""What the bot keeps between updates: the retriever in service, and the shared bot state."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from telegram.ext import ContextTypes

from newsbot.bot.serving import Served
from newsbot.bot.shared import BotState, open_state
from newsbot.bot.workers import AnswerWorkers, Opener, open_for_answers
from newsbot.config.settings import Settings
from newsbot.retrieval.records import Answer
from newsbot.retrieval.retriever import Retriever

Context = ContextTypes.DEFAULT_TYPE
RetrieverFactory = Callable[[Settings], Retriever]
STATE_KEY = "newsbot"  # where the Newsbot sits in the application's bot_data
T = TypeVar("T")


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
    """The bot's state, reached by every handler through the application's bot_data.

    What a chat or user needs from one update to the next (follow-up memory, throttle, inline
    queries, refused chats) is in ``shared``: this process's memory, or a Redis that every
    replica of the bot reads and writes. With ``answer_processes`` set, questions are answered by
    worker processes (bot/workers.py) that ``answer_opener`` opens the index in.
    """

    def __init__(
        self,
        settings: Settings,
        retriever_factory: RetrieverFactory,
        shared: BotState | None = None,
        answer_opener: Opener = open_for_answers,
    ) -> None:
        self.settings = settings
        self.retriever_factory = retriever_factory
        self.shared = shared if shared is not None else open_state(settings)
        self.answer_opener = answer_opener
        self._served: Served | None = None
        self._workers: AnswerWorkers | None = None
        self.corpus = Corpus(0, None, None)
        self.rebuilding = False
        # Whether this replica polls the feeds and sends alerts (bot/lease.py keeps it current);
        # a bot without shared state leads itself.
        self.leading = True

    async def load(self) -> None:
        """Opens (or first builds) the index off the event loop, before any update is taken."""
        retriever = await asyncio.to_thread(self.retriever_factory, self.settings)
        self.corpus = await asyncio.to_thread(Corpus.of, retriever)
        # The model loads lazily; pay that (~10 s) now rather than on the first user's question.
        await asyncio.to_thread(retriever.warm_up)
        self._served = Served(retriever)
        self._workers = await self._start_workers()

    @property
    def retriever(self) -> Retriever | None:
        return self._served.retriever if self._served is not None else None

    def current(self) -> Retriever:
        """The retriever in service, for what does not outlive this call (its embedder, its top_k)."""
        if self._served is None:
            raise RuntimeError("the index is not loaded yet")
        return self._served.retriever

    async def use(self, work: Callable[[Retriever], T]) -> T:
        """Runs ``work`` on the retriever in service, in a worker thread; a /reindex meanwhile
        closes that retriever only once ``work`` (and every other holder) is done with it."""
        if self._served is None:
            raise RuntimeError("the index is not loaded yet")
        return await self._served.run(work)

    async def answer(self, question: str, history: list[Answer]) -> Answer:
        """The answer to a chat's question: from the worker processes when there are any."""
        if self._workers is not None:
            return await self._workers.answer(question, history)
        return await self.use(lambda retriever: retriever.answer(question, history=history))

    async def swap(self, retriever: Retriever, corpus: Corpus) -> None:
        """Puts a rebuilt index in use; in-flight questions finish on the old one, which is then closed.
        Worker processes on the new index are started first, so every answer after the swap is
        from it; the old workers finish the questions they hold, then stop."""
        fresh = None
        if self._workers is not None:
            try:
                fresh = await self._start_workers()
            except Exception:
                retriever.close()
                raise
        old, self._served, self.corpus = self._served, Served(retriever), corpus
        if old is not None:
            old.retire()
        if fresh is not None:
            replaced, self._workers = self._workers, fresh
            if replaced is not None:
                await replaced.close()

    async def _start_workers(self) -> AnswerWorkers | None:
        """Answer workers on the latest index, as ``answer_processes`` asks (None: threads)."""
        processes = self.settings.answer_workers()
        return await AnswerWorkers(self.settings, processes, self.answer_opener).start() if processes else None

    async def close(self) -> None:
        if self._workers is not None:
            await self._workers.close()
            self._workers = None
        await self.shared.close()


def state(context: Context) -> Newsbot:
    """The Newsbot that build_application put in this application's bot_data."""
    return context.bot_data[STATE_KEY]
