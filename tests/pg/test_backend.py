"""The postgres backend end to end against a real server: build, ask, rebuild incrementally."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from newsbot.index.builder import IndexBuilder
from newsbot.retrieval.retriever import Retriever
from tests.conftest import SEED_QUESTION
from tests.fakes.embedder import FakeEmbedder
from tests.pg.helpers import pg_build, pg_retriever, pg_settings


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
