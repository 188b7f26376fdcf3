"""Deleted (and rewritten) articles never answer again: gone from search, chunk store and vectors."""

from __future__ import annotations

from pathlib import Path

import faiss

from newsbot.index.builder import IndexBuilder
from newsbot.index.folder import IndexReader
from newsbot.retrieval.retriever import MODES, Retriever
from tests.fakes.embedder import FakeEmbedder
from tests.reliability.helpers import CHUNK_TOKENS, make_corpus, news_files

GONE = "The quarry at Thornbeck flooded overnight and the pumping crews gave up at dawn."
OLD = "The lighthouse keeper of Vellmar counted ninety seven ships in the autumn gale."
NEW = "The bakery on Orchard Lane sold its last loaf before noon on the festival day."


def _ids(reader: IndexReader) -> set[int]:
    return set(faiss.vector_to_array(reader.vectors.index.id_map).tolist())


def _paths(retriever: Retriever, question: str) -> dict[str, set[str]]:
    return {mode: {h.article.path for h in retriever.search(question, 10, mode=mode)} for mode in MODES}


def test_deleted_and_rewritten_articles_never_answer(tmp_path: Path) -> None:
    seeds = make_corpus(tmp_path / "seeds", news_files(every=80))
    (seeds / "quarry.txt").write_text(f"Quarry flood\n\n{GONE}\n\nThe owners will decide on Friday.\n")
    (seeds / "coast.txt").write_text(f"Coast log\n\n{OLD}\n\nThe harbour master kept the tally.\n")
    index_dir = tmp_path / "index"
    builder = IndexBuilder(FakeEmbedder(), chunk_tokens=CHUNK_TOKENS)
    builder.build(seeds, index_dir)

    before = IndexReader.open(index_dir)
    gone_entry = before.manifest.articles["quarry.txt"]
    gone_ids = {c.id for c in before.chunks.iter_chunks() if c.article_id == gone_entry.id}
    vectors_before = len(before.vectors)
    coast_before = before.manifest.articles["coast.txt"].chunks
    before.close()
    retriever = Retriever.open(index_dir, embedder=FakeEmbedder())
    assert all("quarry.txt" in found for found in _paths(retriever, GONE).values())  # the test can fail
    retriever.close()

    (seeds / "quarry.txt").unlink()
    (seeds / "coast.txt").write_text(f"Coast log\n\n{NEW}\n\nThe harbour master kept the tally.\n")
    report = builder.build(seeds, index_dir)
    assert (report.removed, report.updated, report.added) == (1, 1, 0)

    after = IndexReader.open(index_dir, verify=True)
    try:
        assert "quarry.txt" not in after.manifest.articles
        assert "quarry.txt" not in {a.path for a in after.chunks.all_articles()}
        texts = [c.text for c in after.chunks.iter_chunks()]
        assert not [t for t in texts if "Thornbeck" in t or "Vellmar" in t]
        assert any(NEW in t for t in texts)
        assert not gone_ids & _ids(after), "vectors of the deleted article are still searchable"
        coast_after = after.manifest.articles["coast.txt"].chunks
        assert len(after.vectors) == vectors_before - len(gone_ids) - coast_before + coast_after
        assert _ids(after) == {c.id for c in after.chunks.iter_chunks()}
        dense = after.vectors.search(FakeEmbedder().embed_batch([GONE]), len(after.vectors))[1][0]
        assert not gone_ids & set(dense[dense >= 0].tolist())
    finally:
        after.close()

    retriever = Retriever.open(index_dir, embedder=FakeEmbedder())
    try:
        for mode, found in _paths(retriever, GONE).items():
            assert "quarry.txt" not in found, mode
        for mode in MODES:
            excerpts = [h.chunk.text for h in retriever.search(OLD, 10, mode=mode)]
            assert not [e for e in excerpts if "Vellmar" in e], mode
        answer = retriever.answer("What happened at the Thornbeck quarry overnight?")
        assert not [c for c in answer.citations if "Thornbeck" in c.excerpt or c.path == "quarry.txt"]
    finally:
        retriever.close()
