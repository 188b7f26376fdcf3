"""The postgres backend end to end against a real server: build, ask, rebuild incrementally."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from newsbot.index import backends
from newsbot.index.builder import IndexBuilder
from newsbot.index.pg import reader as pg_reader
from newsbot.retrieval.retriever import Retriever
from tests.conftest import SEED_QUESTION, write_article
from tests.fakes.embedder import FakeEmbedder
from tests.pg.helpers import document_frequencies, pg_build, pg_retriever, pg_settings


@pytest.fixture
def faiss_retriever(seeds_copy: Path, tmp_path: Path) -> Retriever:
    IndexBuilder(FakeEmbedder()).build(seeds_copy, tmp_path / "index")
    return Retriever.open(tmp_path / "index", embedder=FakeEmbedder())


def test_build_and_answer_match_the_faiss_backend(pg_url: str, seeds_copy: Path, faiss_retriever: Retriever) -> None:
    settings = pg_settings(pg_url, seeds_copy)
    report = pg_build(settings)
    assert report.full and report.added == faiss_retriever.article_count and report.generation == "generation 1"
    retriever = pg_retriever(settings)
    try:
        assert retriever.article_count == faiss_retriever.article_count
        assert retriever.chunk_count == faiss_retriever.chunk_count
        assert retriever.article_ids() == faiss_retriever.article_ids()
        ids = list(retriever.article_ids())
        assert sorted(retriever.chunks_of(ids).tolist()) == sorted(faiss_retriever.chunks_of(ids).tolist())
        assert len(retriever.chunks_of(ids)) == retriever.chunk_count
        for mode in ("dense", "bm25", "hybrid"):
            pg_hits = retriever.search(SEED_QUESTION, k=10, mode=mode)
            faiss_hits = faiss_retriever.search(SEED_QUESTION, k=10, mode=mode)
            assert [h.chunk.text for h in pg_hits] == [h.chunk.text for h in faiss_hits], mode
            np.testing.assert_allclose([h.score for h in pg_hits], [h.score for h in faiss_hits], rtol=1e-4, atol=1e-5)
        answer = retriever.answer(SEED_QUESTION)
        expected = faiss_retriever.answer(SEED_QUESTION)
        assert answer.answer == expected.answer and answer.citations == expected.citations
    finally:
        retriever.close()


def test_incremental_rebuild_embeds_only_changed_articles_and_bumps_the_generation(
    pg_url: str, seeds_copy: Path
) -> None:
    settings = pg_settings(pg_url, seeds_copy)
    pg_build(settings)
    reader = backends.open_index(settings, model="fake-hash-64")
    try:
        before = reader.article_count
        assert reader.generation() == reader.stored_generation() == "generation 1"
        write_article(
            seeds_copy,
            "extra/zelensky.txt",
            "Zelensky thanks Scholz",
            "Zelensky thanked Olaf Scholz for the visit to Kyiv.",
        )
        embedder = FakeEmbedder()
        report = pg_build(settings, embedder)
        assert (report.added, report.updated, report.removed, report.full) == (1, 0, 0, False)
        assert report.chunks_embedded == 1 and report.generation == "generation 2"
        kept, counted = document_frequencies(pg_url)
        assert kept == counted and ("zelenski", 1) in kept  # the new article's words counted
        # The open reader notices the finished build, and already reads it.
        assert reader.generation() == "generation 1" and reader.stored_generation() == "generation 2"
        assert reader.article_count == before + 1
        (seeds_copy / "extra" / "zelensky.txt").unlink()
        again = pg_build(settings)
        assert (again.removed, again.chunks_embedded, again.generation) == (1, 0, "generation 3")
        kept, counted = document_frequencies(pg_url)
        assert kept == counted and "zelenski" not in dict(kept)  # its words uncounted, the one only it had gone
        assert reader.article_count == before
        unchanged = pg_build(settings)
        assert unchanged.generation is None and unchanged.unchanged == before  # nothing to do: no new generation
    finally:
        reader.close()


@pytest.mark.parametrize("exact_max", [20_000, 0], ids=["exact", "hnsw-iterative-scan"])
def test_date_windows_restrict_both_searches_without_missing_chunks(
    pg_url: str, seeds_copy: Path, exact_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pg_reader, "EXACT_MAX", exact_max)
    for day in ("2023-05-01", "2023-05-02"):
        text = f"---\ntitle: Troops on {day}\ndate: {day}\n---\nScholz spoke about troops near Kyiv on {day}.\n"
        (seeds_copy / f"troops-{day}.md").write_text(text, encoding="utf-8")
    settings = pg_settings(pg_url, seeds_copy)
    pg_build(settings)
    reader = backends.open_index(settings, model="fake-hash-64")
    try:
        newest = reader.chunks.newest_date()
        assert str(newest) == "2023-05-02"
        assert newest is not None
        allowed = reader.chunks.dated_between(newest, newest)
        assert len(allowed) and len(allowed) < reader.chunk_count
        query = FakeEmbedder().embed_batch([SEED_QUESTION])
        _, ids = reader.vectors.search(query, reader.chunk_count, allowed)
        assert sorted(i for i in ids[0] if i >= 0) == sorted(allowed.tolist())  # every allowed one, none else
        hits = reader.lexical.search("Kyiv Scholz troops", 50, allowed)
        assert set(hits.ids.tolist()) <= set(allowed.tolist())
        # The retriever over this backend: an explicit day filters, a month only mentioned is preferred.
        retriever = Retriever.serve(reader, embedder=FakeEmbedder(), date_boost=1.0)
        assert {h.article.date for h in retriever.search("Scholz troops Kyiv on 2 May 2023", k=10)} == {newest}
        preferred = [h.article.date for h in retriever.search("Scholz troops Kyiv in May 2023", k=10)]
        may = [d is not None and (d.year, d.month) == (2023, 5) for d in preferred]
        assert may[:2] == [True, True] and not all(may)  # May's first, the seed article still there
    finally:
        reader.close()


def test_ts_rank_cd_scoring_finds_the_chunks_holding_the_words(pg_url: str, seeds_copy: Path) -> None:
    settings = pg_settings(pg_url, seeds_copy, pg_lexical="ts_rank_cd")
    pg_build(settings)
    reader = backends.open_index(settings, model="fake-hash-64")
    try:
        hits = reader.lexical.search("Scholz's visit to Kyiv", 5)
        assert len(hits.ids) and np.all(np.diff(hits.scores) <= 0)
        texts = reader.chunks.chunks(hits.ids.tolist())
        assert "Scholz" in texts[int(hits.ids[0])].text
        assert not len(reader.lexical.search("the of and", 5).ids)  # stop words only: nothing to match
    finally:
        reader.close()


class TransactionWatcher(FakeEmbedder):
    """Records, at every embedding call, whether a transaction is open on the database."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.open_transactions: list[int] = []

    def embed_batch(self, texts, *, batch_size=None, show_progress_bar=False):
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND xact_start IS NOT NULL "
                "AND pid <> pg_backend_pid()"
            ).fetchone()
        self.open_transactions.append(row[0] if row else -1)
        return super().embed_batch(texts, batch_size=batch_size, show_progress_bar=show_progress_bar)


@pytest.mark.parametrize("full", [False, True], ids=["first-build", "full-rebuild"])
def test_no_transaction_is_held_open_while_the_build_embeds(pg_url: str, seeds_copy: Path, full: bool) -> None:
    settings = pg_settings(pg_url, seeds_copy)
    if full:
        pg_build(settings)
    watcher = TransactionWatcher(pg_url)
    pg_build(settings, watcher, full=full)
    assert watcher.open_transactions and set(watcher.open_transactions) == {0}


def test_idf_matches_the_faiss_backend(pg_url: str, seeds_copy: Path, faiss_retriever: Retriever) -> None:
    pg_build(pg_settings(pg_url, seeds_copy))
    retriever = pg_retriever(pg_settings(pg_url, seeds_copy))
    try:
        words = ["scholz", "kyiv", "visit", "nosuchwordanywher", "scholz"]
        got = retriever.reader.lexical.idf(words)
        np.testing.assert_allclose(got, faiss_retriever.reader.lexical.idf(words), rtol=1e-6)
        assert got[0] > 0 and got[3] == 0 and got[0] == got[4]
        assert not len(retriever.reader.lexical.idf([]))
        assert not retriever.reader.lexical.idf(["nosuchwordanywher"]).any()  # no row comes back: all 0
    finally:
        retriever.close()
