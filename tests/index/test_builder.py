"""Incremental builds embed only what changed, forget what was deleted, and report every count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsbot.index.builder import IndexBuilder, NothingToIndex
from newsbot.index.folder import IndexReader
from newsbot.index.manifest import MANIFEST, IndexCorrupt, IndexMismatch, IndexNotFound
from newsbot.retrieval.retriever import Retriever
from tests.conftest import write_article
from tests.fakes.embedder import FakeEmbedder


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    seeds = tmp_path / "seeds"
    write_article(seeds, "harbour.txt", "Harbour bridge", "The harbour bridge opens to traffic in May.")
    write_article(seeds, "volcano.txt", "Volcano erupts", "The volcano erupted on Tuesday near the village.")
    write_article(seeds, "budget.txt", "Budget vote", "Parliament passed the budget by twelve votes.")
    return seeds


def build(seeds: Path, index: Path, embedder: FakeEmbedder | None = None, **kw):
    return IndexBuilder(embedder or FakeEmbedder(), chunk_tokens=64).build(seeds, index, **kw)


def test_first_build_adds_everything_and_second_changes_nothing(corpus, tmp_path):
    index = tmp_path / "index"
    first = build(corpus, index)
    assert (first.added, first.updated, first.removed, first.unchanged) == (3, 0, 0, 0)
    embedder = FakeEmbedder()
    second = build(corpus, index, embedder)
    assert (second.added, second.unchanged, second.chunks_embedded) == (0, 3, 0)
    assert embedder.texts_embedded == 0 and second.generation is None


def test_changed_article_is_re_embedded_alone_and_old_text_is_gone(corpus, tmp_path):
    index = tmp_path / "index"
    build(corpus, index)
    write_article(corpus, "volcano.txt", "Volcano erupts", "The volcano went quiet on Friday; ash settled.")
    embedder = FakeEmbedder()
    report = build(corpus, index, embedder)
    assert (report.updated, report.unchanged) == (1, 2)
    assert embedder.texts_embedded == report.chunks_embedded == 1
    retriever = Retriever.open(index, embedder=FakeEmbedder())
    texts = [h.chunk.text for h in retriever.search("volcano", k=10)]
    assert any("went quiet" in t for t in texts) and not any("erupted on Tuesday" in t for t in texts)


def test_deleted_article_no_longer_answers(corpus, tmp_path):
    index = tmp_path / "index"
    build(corpus, index)
    (corpus / "budget.txt").unlink()
    report = build(corpus, index)
    assert report.removed == 1 and report.articles == 2
    reader = IndexReader.open(index)
    assert len(reader.vectors) == reader.manifest.chunk_count == 2
    hits = Retriever.open(index, embedder=FakeEmbedder()).search("budget parliament votes", k=10)
    assert all("budget" not in h.chunk.text for h in hits)


def test_full_rebuild_re_embeds_everything(corpus, tmp_path):
    index = tmp_path / "index"
    build(corpus, index)
    embedder = FakeEmbedder()
    report = build(corpus, index, embedder, full=True)
    assert report.full and embedder.texts_embedded == report.chunks == 3


def test_exact_duplicates_are_indexed_once(corpus, tmp_path):
    write_article(corpus, "copy.txt", "Harbour bridge", "The  harbour bridge opens to TRAFFIC in May.")
    report = build(corpus, tmp_path / "index")
    assert report.articles == 3
    [duplicate] = report.duplicates  # files are read in name order: copy.txt is kept
    assert duplicate.path == "harbour.txt" and "copy.txt" in duplicate.reason


def test_bad_file_is_counted_and_does_not_stop_the_build(corpus, tmp_path):
    (corpus / "broken.txt").write_bytes(b"\xff\xfe\xfa not utf8 \x00")
    report = build(corpus, tmp_path / "index")
    assert report.articles == 3 and report.failed == 1
    assert report.failures[0].path == "broken.txt" and "failed 1" in report.summary()


def test_changed_model_forces_a_full_rebuild(corpus, tmp_path):
    index = tmp_path / "index"
    build(corpus, index)
    report = build(corpus, index, FakeEmbedder(name="other-model", dimension=32))
    assert report.full and report.note and IndexReader.open(index).manifest.dimension == 32


def test_empty_seeds_keep_the_existing_index(corpus, tmp_path):
    index = tmp_path / "index"
    build(corpus, index)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(NothingToIndex):
        build(empty, index)
    assert IndexReader.open(index).manifest.chunk_count == 3


def test_loading_checks_the_manifest(corpus, tmp_path):
    index = tmp_path / "index"
    with pytest.raises(IndexNotFound, match="newsbot index"):
        IndexReader.open(index)
    build(corpus, index)
    with pytest.raises(IndexMismatch, match="other"):
        IndexReader.open(index, model="other")
    manifest = IndexReader.open(index).folder / MANIFEST
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps(data | {"format_version": 99}))
    with pytest.raises(IndexMismatch, match="newer"):
        IndexReader.open(index)
    manifest.write_text("{ torn")
    with pytest.raises(IndexCorrupt, match="--full"):
        IndexReader.open(index)
