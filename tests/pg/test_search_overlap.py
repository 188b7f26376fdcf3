"""A question's dense and lexical searches on the postgres backend: run at once, found as one after the other."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from newsbot.index import backends
from newsbot.index.reading import one_after_other
from tests.conftest import SEED_QUESTION
from tests.fakes.embedder import FakeEmbedder
from tests.pg.helpers import pg_build, pg_retriever, pg_settings


@pytest.fixture
def reader(pg_url: str, seeds_copy: Path):
    settings = pg_settings(pg_url, seeds_copy)
    pg_build(settings)
    opened = backends.open_index(settings, model="fake-hash-64")
    yield opened
    opened.close()


def test_both_searches_are_in_flight_at_once(reader, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each search waits at the barrier for the other: one after the other, the first would time out.
    meet = threading.Barrier(2, timeout=20)
    threads: dict[str, int] = {}

    def meeting(name, search):
        def inner(*args, **kwargs):
            threads[name] = threading.get_ident()
            meet.wait()
            return search(*args, **kwargs)

        return inner

    monkeypatch.setattr(reader.vectors, "search", meeting("dense", reader.vectors.search))
    monkeypatch.setattr(reader.lexical, "search", meeting("lexical", reader.lexical.search))
    found = reader.search(FakeEmbedder().embed_batch([SEED_QUESTION]), SEED_QUESTION, 10)
    assert len(found.dense.ids) == min(10, reader.chunk_count) and len(found.lexical.ids)
    assert threads["dense"] != threads["lexical"]


@pytest.mark.parametrize("window", [False, True], ids=["everything", "allowed-ids"])
def test_overlapped_searches_find_what_one_after_the_other_finds(reader, window: bool) -> None:
    allowed = np.sort(reader.chunks.chunks_of([reader.chunks.all_articles()[0].id])) if window else None
    query = FakeEmbedder().embed_batch([SEED_QUESTION])
    together = reader.search(query, "Scholz visit Kyiv", 20, allowed)
    apart = one_after_other(reader, query, "Scholz visit Kyiv", 20, allowed)
    for got, expected in ((together.dense, apart.dense), (together.lexical, apart.lexical)):
        assert got.ids.tolist() == expected.ids.tolist() and len(got.ids)
        np.testing.assert_array_equal(got.scores, expected.scores)
        if allowed is not None:
            assert set(got.ids.tolist()) <= set(allowed.tolist())
    dense_only = reader.search(query, None, 20, allowed)
    assert dense_only.lexical is None and dense_only.dense.ids.tolist() == apart.dense.ids.tolist()
    lexical_only = reader.search(None, "Scholz visit Kyiv", 20, allowed)
    assert lexical_only.dense is None and lexical_only.lexical.ids.tolist() == apart.lexical.ids.tolist()


def test_a_failed_dense_search_waits_for_the_lexical_one(reader, monkeypatch: pytest.MonkeyPatch) -> None:
    finished = threading.Event()
    lexical = reader.lexical.search

    def slow(*args, **kwargs):
        time.sleep(0.3)
        try:
            return lexical(*args, **kwargs)
        finally:
            finished.set()

    def broken(*args, **kwargs):
        raise RuntimeError("dense search failed")

    monkeypatch.setattr(reader.lexical, "search", slow)
    monkeypatch.setattr(reader.vectors, "search", broken)
    with pytest.raises(RuntimeError, match="dense search failed"):
        reader.search(FakeEmbedder().embed_batch([SEED_QUESTION]), SEED_QUESTION, 10)
    assert finished.is_set()  # nothing left running on a connection after the call


def test_answers_from_threads_sharing_one_reader(pg_url: str, seeds_copy: Path) -> None:
    # More answers at once than the pool has connections, each holding two: none may wait forever.
    settings = pg_settings(pg_url, seeds_copy)
    pg_build(settings)
    retriever = pg_retriever(settings)
    try:
        expected = retriever.answer(SEED_QUESTION)
        answers: list = [None] * 8
        workers = [
            threading.Thread(target=lambda i=i: answers.__setitem__(i, retriever.answer(SEED_QUESTION)))
            for i in range(8)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join(60)
        assert all(a is not None and a.answer == expected.answer for a in answers)
    finally:
        retriever.close()
