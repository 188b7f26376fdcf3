"""Answering in worker processes, so answers never hold the bot's GIL.

In threads, every answer's Python work (ranking, scoring sentences, composing) takes the GIL
from the event loop, which then waits its turn to read updates and send replies. Here each of
``answer_processes`` workers opens the index itself (its vectors memory-mapped, so the workers
share one copy in the page cache) and the bot process only sends questions and receives answers.
Questions that wait while a worker is busy go to it together as one batch, whose questions are
embedded in one call (``Retriever.answer_many``) and then ranked and answered one by one.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from newsbot.config.settings import Settings
from newsbot.retrieval.records import Answer
from newsbot.retrieval.retriever import Retriever

log = logging.getLogger(__name__)
Opener = Callable[[Settings], Retriever]  # must pickle (a module-level function): workers call it
MAX_BATCH = 16  # questions a worker takes at once (the embedder's batch)

_retriever: Retriever | None = None  # one per worker process


def open_for_answers(settings: Settings) -> Retriever:
    """The configured index as ``newsbot serve`` opens it: questions embedded with the ONNX export."""
    from newsbot.index.embedder import SentenceTransformerEmbedder
    from newsbot.index.onnx_embedder import query_embedder

    embedder = query_embedder(settings.index_dir, settings.model_name) or SentenceTransformerEmbedder(
        settings.model_name, settings.batch_size
    )
    return Retriever.from_settings(settings, embedder=embedder, build_if_missing=False)


def _start_worker(opener: Opener, settings: Settings) -> None:
    global _retriever
    _retriever = opener(settings)
    _retriever.warm_up(MAX_BATCH)


def _answer_batch(batch: list[tuple[str, list[Answer]]]) -> list[Answer | Exception]:
    if _retriever is None:
        raise RuntimeError("this worker has no index (its initializer did not run)")
    if not batch:
        return []
    try:
        # One embedding call for the whole batch, then each question's ranking and answer.
        return list(_retriever.answer_many([q for q, _ in batch], [h for _, h in batch]))
    except Exception:  # noqa: BLE001 - find the question that failed; the others are answered
        return [_answer_one(question, history) for question, history in batch]


def _answer_one(question: str, history: list[Answer]) -> Answer | Exception:
    if _retriever is None:
        raise RuntimeError("this worker has no index (its initializer did not run)")
    try:
        return _retriever.answer(question, history=history)
    except Exception as exc:  # noqa: BLE001 - one question's failure is its own, not its batch's
        return exc


@dataclass
class _Asked:
    question: str
    history: list[Answer]
    answered: asyncio.Future[Answer] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class AnswerWorkers:
    """``processes`` worker processes answering from the index ``opener`` opens in each."""

    def __init__(self, settings: Settings, processes: int, opener: Opener = open_for_answers) -> None:
        if processes < 1:
            raise ValueError(f"processes must be at least 1, got {processes}")
        self.settings = settings
        self.processes = processes
        self.opener = opener
        self._pool: ProcessPoolExecutor | None = None
        self._queue: asyncio.Queue[_Asked | None] | None = None  # None: a dispatcher's signal to stop
        self._dispatchers: list[asyncio.Task[None]] = []

    async def start(self) -> AnswerWorkers:
        """Starts the processes and waits until each has opened the index and loaded the model."""
        # spawn: a worker inherits neither the bot's threads nor its event loop.
        pool = ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(self.opener, self.settings),
        )
        loop = asyncio.get_running_loop()
        try:
            # One empty batch per process: each starts (and fails here, not on a question) now.
            await asyncio.gather(*(loop.run_in_executor(pool, _answer_batch, []) for _ in range(self.processes)))
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        self._pool, self._queue = pool, asyncio.Queue()
        self._dispatchers = [asyncio.create_task(self._dispatch()) for _ in range(self.processes)]
        return self

    async def answer(self, question: str, history: list[Answer] | None = None) -> Answer:
        """The answer, from whichever worker is free first."""
        if self._queue is None:
            raise RuntimeError("AnswerWorkers.start was not awaited")
        asked = _Asked(question, list(history or []))
        await self._queue.put(asked)
        return await asked.answered

    async def _dispatch(self) -> None:
        """Feeds one worker: whatever waits when it comes free goes as one batch."""
        if self._queue is None or self._pool is None:
            raise RuntimeError("AnswerWorkers.start was not awaited")
        queue, pool, loop = self._queue, self._pool, asyncio.get_running_loop()
        stopping = False
        while not stopping:
            first = await queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH and not queue.empty():
                more = queue.get_nowait()
                if more is None:  # answer what was taken, then stop
                    stopping = True
                    break
                batch.append(more)
            try:
                results = await loop.run_in_executor(pool, _answer_batch, [(a.question, a.history) for a in batch])
            except Exception as exc:  # noqa: BLE001 - e.g. a worker died: every question of the batch hears of it
                results = [exc] * len(batch)
            for asked, result in zip(batch, results, strict=True):
                if asked.answered.done():  # its update was cancelled meanwhile
                    continue
                if isinstance(result, Exception):
                    asked.answered.set_exception(result)
                else:
                    asked.answered.set_result(result)

    async def close(self) -> None:
        """Answers every question already asked, then stops the processes (a swapped-in index's
        workers take the new questions meanwhile)."""
        if self._queue is not None:
            for _ in self._dispatchers:
                await self._queue.put(None)  # behind every question already waiting
        await asyncio.gather(*self._dispatchers, return_exceptions=True)
        self._dispatchers = []
        if self._pool is not None:
            await asyncio.to_thread(self._pool.shutdown)
        self._pool = self._queue = None
