"""Excerpt candidates and their vectors are stored with the index, so answering embeds only the question."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from newsbot.index.builder import IndexBuilder
from newsbot.index.chunking import excerpt_spans
from newsbot.index.folder import IndexReader
from newsbot.retrieval.answer import Sentences
from newsbot.retrieval.retriever import Retriever
from tests.fakes.embedder import FakeEmbedder


def test_every_chunk_stores_its_excerpt_spans_with_unit_vectors(news_index: Path) -> None:
    reader = IndexReader.open(news_index)
    chunks = list(reader.chunks.iter_chunks())
    stored = reader.chunks.sentences([c.id for c in chunks])
    assert set(stored) == {c.id for c in chunks}
    for c in chunks:
        s = stored[c.id]
        assert list(s.spans) == excerpt_spans(c.text)
        assert np.allclose(np.linalg.norm(s.vectors, axis=1), 1.0, atol=1e-2)
    reader.close()


def test_answering_embeds_only_the_question(news_index: Path) -> None:
    embedder = FakeEmbedder()
    retriever = Retriever.open(news_index, embedder=embedder)
    answer = retriever.answer("when does Scholz visit Kyiv?")
    assert answer.citations and embedder.texts_embedded == 1
    retriever.close()


def test_removed_articles_take_their_sentences_with_them(news_index: Path, tmp_path: Path) -> None:
    before = IndexReader.open(news_index)
    ids = [c.id for c in before.chunks.iter_chunks()]
    before.close()
    seeds = tmp_path / "seeds"
    (seeds / "gas-jan20.txt").unlink()
    IndexBuilder(FakeEmbedder(), chunk_tokens=64).build(seeds, news_index)
    after = IndexReader.open(news_index)
    kept = {c.id for c in after.chunks.iter_chunks()}
    assert set(after.chunks.sentences(ids)) == kept and len(kept) < len(ids)
    after.close()


def test_chunks_without_stored_sentences_are_embedded_once_and_cached(news_index: Path) -> None:
    reader = IndexReader.open(news_index)
    chunks = list(reader.chunks.iter_chunks())[:3]
    embedder = FakeEmbedder()
    sentences = Sentences(embedder, lookup=None)
    first = sentences.get(chunks)
    calls = embedder.calls
    again = sentences.get(chunks)
    assert embedder.calls == calls == 1
    assert [s.spans for s in first] == [s.spans for s in again] == [tuple(excerpt_spans(c.text)) for c in chunks]
    reader.close()
