"""Chunks keep exact offsets, respect the window and never lose a sentence."""

from __future__ import annotations

import itertools

import pytest

from newsbot.index.chunking import Chunker, sentence_spans
from newsbot.index.records import Article
from tests.fakes.embedder import FakeEmbedder

COUNT = FakeEmbedder().count_tokens


def make(paragraphs: list[str]) -> Article:
    return Article.from_paragraphs("A title", paragraphs, path="a.txt")


def test_offsets_match_text_and_every_sentence_is_covered():
    article = make([" ".join(f"Sentence {i} of paragraph {p} is here." for i in range(5)) for p in range(6)])
    chunks = Chunker(COUNT, max_tokens=24, overlap=1).split(article)
    assert len(chunks) > 3
    for c in chunks:
        assert article.text[c.start : c.end] == c.text
        assert COUNT(c.text) <= 24
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    for s, e in sentence_spans(article.text):
        assert set(range(s, e)) <= covered


def test_neighbouring_chunks_overlap_by_a_sentence():
    article = make([" ".join(f"Fact number {i} stands alone." for i in range(12))])
    chunks = Chunker(COUNT, max_tokens=20, overlap=1).split(article)
    for a, b in itertools.pairwise(chunks):
        assert b.start < a.end


def test_paragraph_numbers_are_one_based_and_span_the_chunk():
    article = make(["Short one.", "Short two.", "Short three."])
    [chunk] = Chunker(COUNT, max_tokens=64).split(article)
    assert (chunk.paragraph, chunk.paragraph_end) == (1, 3)


def test_over_long_sentence_is_cut_so_nothing_is_truncated_by_the_model():
    article = make(["word " * 300 + "end."])
    chunks = Chunker(COUNT, max_tokens=50, overlap=0).split(article)
    assert all(COUNT(c.text) <= 50 for c in chunks)
    assert chunks[-1].text.endswith("end.")


@pytest.mark.parametrize("bad", [{"max_tokens": 4}, {"max_tokens": 300}, {"overlap": -1}])
def test_bad_settings_are_refused_with_the_value(bad):
    with pytest.raises(ValueError, match=str(next(iter(bad.values())))):
        Chunker(COUNT, **{"max_tokens": 64, "window": 254} | bad)


def test_a_title_longer_than_the_window_cannot_push_chunk_text_past_it():
    article = Article.from_paragraphs("headline " * 400, ["Body sentence one. Body sentence two."], path="t.txt")
    chunker = Chunker(COUNT, max_tokens=64, window=100)
    title = chunker.embedded_title(article.title)
    assert COUNT(title) <= 25
    for chunk in chunker.split(article):
        assert COUNT(title) + 1 + COUNT(chunk.text) <= 100
