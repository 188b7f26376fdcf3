"""A retriever in service, closed once the last question holding it is done (after a /reindex).

Questions run in worker threads. A rebuilt index replaces the retriever at once, but questions
already running keep the old one; closing it under them would fail them (a closed SQLite
connection). So each use holds the retriever, and the old one closes when it is retired and the
last holder lets go: exactly when nobody can use it again, however long a question takes (a
grace period would be a guess that a slow question or a busy machine can outlast).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from newsbot.retrieval.retriever import Retriever

log = logging.getLogger(__name__)
T = TypeVar("T")


class Served:
    """One retriever and the number of uses holding it."""

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever
        self._lock = threading.Lock()
        self._holders = 0
        self._retired = False
        self.closed = False

    async def run(self, work: Callable[[Retriever], T]) -> T:
        """``work(retriever)`` in a worker thread, holding the retriever until it returns."""
        lease = _Lease(self)
        try:
            return await asyncio.to_thread(lease.run, work)
        except asyncio.CancelledError:
            lease.abandon()  # the thread may never start; then nobody else lets go for it
            raise

    def retire(self) -> None:
        """No new uses; closes the retriever now if none is running, else when the last ends."""
        with self._lock:
            self._retired = True
            close = self._holders == 0
        if close:
            self._close()

    def hold(self) -> None:
        with self._lock:
            self._holders += 1

    def release(self) -> None:
        with self._lock:
            self._holders -= 1
            close = self._retired and self._holders == 0
        if close:
            self._close()

    def _close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
        try:
            self.retriever.close()
        except Exception as exc:  # noqa: BLE001 - a failed close must not fail the question that ended last
            log.warning("closing the replaced index failed: %s", exc)
        else:
            log.info("closed the replaced index")


class _Lease:
    """One use: held from the event loop, let go exactly once (by its thread, or on cancel)."""

    def __init__(self, served: Served) -> None:
        self.served = served
        self._lock = threading.Lock()
        self._state = "waiting"  # -> running (the thread let go) | abandoned (the canceller did)
        served.hold()

    def run(self, work: Callable[[Retriever], T]) -> T:
        with self._lock:
            if self._state == "abandoned":
                raise asyncio.CancelledError
            self._state = "running"
        try:
            return work(self.served.retriever)
        finally:
            self.served.release()

    def abandon(self) -> None:
        with self._lock:
            if self._state != "waiting":
                return
            self._state = "abandoned"
        self.served.release()
