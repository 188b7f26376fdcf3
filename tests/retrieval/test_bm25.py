from __future__ import annotations

from pathlib import Path

import numpy as np

from newsbot.index.bm25 import BM25_DIR, BM25Index
from newsbot.index.builder import IndexBuilder
from newsbot.index.folder import IndexReader
from newsbot.retrieval.retriever import Retriever
from tests.conftest import write_article


def test_search_ranks_matching_chunk_first_and_maps_chunk_ids() -> None:
    index = BM25Index.build([11, 22, 33], ["gas prices in Europe", "Scholz visits Kyiv", "troops near the border"])
    found = index.search("when does Scholz visit Kyiv?", 3)
    assert found.ids.tolist() == [22]
    assert found.scores[0] > 0


def test_stemming_matches_inflections() -> None:
    index = BM25Index.build([1, 2], ["the vaccines were delivered", "prices rose"])
    assert index.search("vaccine delivery", 2).ids.tolist() == [1]


def test_allowed_restricts_the_ranking() -> None:
    index = BM25Index.build([1, 2], ["Kyiv talks", "Kyiv talks again"])
    assert index.search("Kyiv", 5, allowed=np.array([2])).ids.tolist() == [2]


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    index = BM25Index.build([5, 9], ["alpha beta", "gamma delta"])
    index.save(tmp_path)
    loaded = BM25Index.load(tmp_path)
    assert loaded is not None and loaded.search("gamma", 2).ids.tolist() == [9]
    assert BM25Index.load(tmp_path / "nothing") is None


def test_each_generation_carries_a_checksummed_bm25_index_that_follows_changes(tmp_path: Path, fake_embedder) -> None:
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    write_article(seeds, "a.txt", "Gas prices", "Gas prices in Europe rose sharply.")
    builder = IndexBuilder(fake_embedder)
    builder.build(seeds, index)
    reader = IndexReader.open(index, verify=True)
    assert any(name.startswith(BM25_DIR + "/") for name in reader.manifest.files)
    reader.close()

    write_article(seeds, "b.txt", "Zelenskyy speech", "Zelenskyy addressed the parliament in Warsaw.")
    builder.build(seeds, index)
    retriever = Retriever.open(index, embedder=fake_embedder)
    hits = retriever.search("Warsaw parliament", k=1, mode="bm25")
    assert hits and hits[0].article.path == "b.txt"
    (seeds / "b.txt").unlink()
    builder.build(seeds, index)
    retriever = Retriever.open(index, embedder=fake_embedder)
    assert all(h.article.path != "b.txt" for h in retriever.search("Warsaw parliament", k=3, mode="bm25"))
