from __future__ import annotations

import pytest

from newsbot.retrieval.retriever import Retriever


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_every_mode_finds_the_article_that_answers(retriever: Retriever, mode: str) -> None:
    hits = retriever.search("Gas prices in Europe", k=3, mode=mode)
    assert hits[0].article.title == "Gas prices in Europe"
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_hybrid_holds_what_either_side_ranks_first(retriever: Retriever) -> None:
    question = "Chancellor dialogue security"
    dense = retriever.search(question, k=1, mode="dense")[0].chunk.id
    sparse = retriever.search(question, k=1, mode="bm25")[0].chunk.id
    hybrid = {h.chunk.id for h in retriever.search(question, k=4, mode="hybrid")}
    assert {dense, sparse} <= hybrid


def test_unknown_mode_is_refused_with_the_allowed_ones(retriever: Retriever) -> None:
    with pytest.raises(ValueError, match="dense, bm25, hybrid"):
        retriever.search("anything", mode="sparse")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"score, rrf.*'sum'"):
        Retriever(retriever.reader, retriever.embedder, fusion="sum")


@pytest.mark.parametrize("fusion", ["score", "rrf"])
def test_both_fusions_hold_what_either_side_ranks_first(retriever: Retriever, fusion: str) -> None:
    fused = Retriever(retriever.reader, retriever.embedder, fusion=fusion)
    question = "Chancellor dialogue security"
    tops = {fused.search(question, k=1, mode=m)[0].chunk.id for m in ("dense", "bm25")}
    assert tops <= {h.chunk.id for h in fused.search(question, k=4, mode="hybrid")}


def test_near_duplicate_passages_collapse_into_also_in(retriever: Retriever) -> None:
    hits = retriever.search("Macron travel to Moscow to meet Putin", k=5, mode="hybrid")
    macron = [h for h in hits if "Macron is set to travel" in h.chunk.text]
    assert len(macron) == 1, "the wire copy of the same statement must not take a second place"
    assert len(macron[0].also_in) == 1


def test_the_same_sentence_in_another_article_is_cited_once_with_also_in(retriever: Retriever) -> None:
    answer = retriever.answer("Was Germany ready for a serious dialogue with Russia about European security?")
    same = [c for c in answer.citations if "serious dialogue" in c.excerpt]
    assert len(same) == 1
    [other] = same[0].also_in  # a record front ends can link, not a preformatted string
    assert other.path != same[0].path and other.date is not None and other.date.isoformat().startswith("2022-02")
    shown = answer.to_json()["citations"][same[0].n - 1]["also_in"]
    assert shown == [
        {
            "title": other.title,
            "source": other.source,
            "date": other.date.isoformat(),
            "url": other.url,
            "path": other.path,
        }
    ]
