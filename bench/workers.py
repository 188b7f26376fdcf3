"""The alternative the bot benchmark weighs against answering on threads: answering in worker
processes, each with the index open on its own (the vectors memory-mapped, so N workers share one
copy in the page cache), so no answer holds the bot's GIL.

It is measured, not shipped: on the shared 2-core machine it lost to threads whose concurrent
questions share one model call (see README, Benchmarks). The bot gets a Retriever whose
``answer`` runs in the pool; everything else (/sources, inline queries) stays in the bot process.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from newsbot.retrieval.retriever import Retriever

if TYPE_CHECKING:
    from newsbot.config.settings import Settings
    from newsbot.index.embedder import Embedder
    from newsbot.retrieval.records import Answer
    from newsbot.retrieval.retriever import Mode

_worker: Retriever | None = None  # one per worker process


def _open(index_dir: str, make_embedder: Callable[[], Embedder], settings: Settings) -> None:
    global _worker
    _worker = Retriever.open(Path(index_dir), embedder=make_embedder(), settings=settings, question_cache=0)


def _answer(question: str, history: list[Answer] | None, k: int | None, mode: Mode | None) -> Answer:
    if _worker is None:
        raise RuntimeError("this worker process has no retriever (its initializer did not run)")
    return _worker.answer(question, history=history, k=k, mode=mode)


class PooledRetriever(Retriever):
    """A Retriever that answers in worker processes; call ``start`` before the first answer."""

    pool: ProcessPoolExecutor | None = None

    def start(
        self, index_dir: Path, make_embedder: Callable[[], Embedder], settings: Settings, workers: int
    ) -> PooledRetriever:
        """Starts ``workers`` processes, each opening ``index_dir`` with an embedder from
        ``make_embedder`` (picklable: a class, or a partial of one)."""
        # spawn: the workers inherit neither the bot's threads nor its event loop.
        context = multiprocessing.get_context("spawn")
        self.pool = ProcessPoolExecutor(
            workers, mp_context=context, initializer=_open, initargs=(str(index_dir), make_embedder, settings)
        )
        for _ in self.pool.map(_answer, ["warm up"] * workers, [None] * workers, [None] * workers, [None] * workers):
            pass
        return self

    def answer(
        self, question: str, history: list[Answer] | None = None, k: int | None = None, mode: Mode | None = None
    ) -> Answer:
        if self.pool is None:
            raise RuntimeError("PooledRetriever.start was not called")
        return self.pool.submit(_answer, question, history, k, mode).result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()
        super().close()
