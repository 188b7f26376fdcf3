"""How deep each side searches before hybrid fusion, and what `Retriever.candidates` hands it."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from newsbot.index.reading import Searched
from newsbot.retrieval.retriever import Retriever


class CountingReader:
    """The index, with every search's depth recorded."""

    def __init__(self, reader) -> None:
        self.reader, self.depths = reader, []

    def search(self, query_vector, question, k, allowed=None) -> Searched:
        self.depths.append(k)
        return self.reader.search(query_vector, question, k, allowed)

    def __getattr__(self, name):
        return getattr(self.reader, name)


@pytest.mark.parametrize(("mode", "depth", "searched"), [("hybrid", 80, 80), ("hybrid", 10, 50), ("dense", 80, 50)])
def test_hybrid_search_reads_each_side_fusion_depth_deep(retriever: Retriever, mode, depth, searched) -> None:
    reader = CountingReader(retriever.reader)
    deep = Retriever(reader, retriever.embedder, fusion_depth=depth)  # type: ignore[arg-type]
    deep.search("Chancellor dialogue security", k=3, mode=mode)
    # Never shallower than the pool of 50 passages the ranking is cut to.
    assert reader.depths == [searched]


@pytest.mark.parametrize("depth", [0, -5])
def test_a_bad_fusion_depth_is_refused_by_value(retriever: Retriever, depth: int) -> None:
    with pytest.raises(ValueError, match=f"fusion_depth must be at least 1 candidate, got {depth}"):
        Retriever(retriever.reader, retriever.embedder, fusion_depth=depth)


def test_candidates_are_what_rank_fuses(retriever: Retriever) -> None:
    question = "Chancellor dialogue security"
    vector = retriever.embedder.embed_batch([question])
    found = retriever.candidates(question, vector, "hybrid", 50)
    assert found.dense and found.lexical and found.window is None and found.preferred is None
    for side in (found.dense, found.lexical):
        assert [s for _, s in side] == sorted((s for _, s in side), reverse=True)
    assert [i for i, _ in found.dense][:1] == [h.chunk.id for h in retriever.search(question, k=1, mode="dense")]
    assert [i for i, _ in found.lexical][:1] == [h.chunk.id for h in retriever.search(question, k=1, mode="bm25")]


def test_candidates_name_the_in_window_chunks_to_lift_or_keep_only_those(retriever: Retriever) -> None:
    mentioned = "how much did gas prices in Europe rise in February?"
    found = retriever.candidates(mentioned, retriever.embedder.embed_batch([mentioned]), "hybrid", 50)
    assert found.window is not None and not found.window.explicit and found.preferred is not None
    february = {c.id for c in retriever.reader.chunks.chunks(found.preferred.tolist()).values()}
    assert february and set(found.preferred.tolist()) == february
    dates = retriever.reader.chunks.articles(
        c.article_id for c in retriever.reader.chunks.chunks(found.preferred.tolist()).values()
    )
    assert all(a.date is not None and a.date.month == 2 for a in dates.values())
    # Searched everywhere too: the January article that answers is still a candidate.
    assert set(np.setdiff1d([i for i, _ in found.lexical], found.preferred).tolist())
    asked = "gas prices in Europe on 10 February"
    found = retriever.candidates(asked, retriever.embedder.embed_batch([asked]), "hybrid", 50)
    assert found.window is not None and found.window.explicit and found.preferred is None
    kept = retriever.reader.chunks.chunks([i for i, _ in found.dense + found.lexical])
    days = retriever.reader.chunks.articles(c.article_id for c in kept.values())
    assert all(a.date == date(2022, 2, 10) for a in days.values())
