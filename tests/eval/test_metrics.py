from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from newsbot.index.records import ArticleInfo, Chunk
from newsbot.retrieval.evaluate import (
    DatasetError,
    ModeScore,
    Query,
    answer_hit,
    article_ranking,
    load_dataset,
    tradeoffs,
)
from newsbot.retrieval.records import Answer, Citation, Hit


def write_set(folder: Path, docs: list[dict], queries: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries), encoding="utf-8")
    rows = ["query-id\tcorpus-id\tscore"] + [f"{q['id']}\t{d}\t1" for q in queries for d in q["doc_ids"]]
    (folder / "qrels.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def citation(n: int, excerpt: str) -> Citation:
    return Citation(
        n=n,
        title="t",
        source=None,
        date=None,
        url=None,
        path="p",
        paragraph=1,
        excerpt=excerpt,
        score=0.5,
        start=0,
        end=len(excerpt),
        article_id="a",
        chunk_id=0,
    )


def test_answer_hit_normalises_and_counts_only_the_first_n() -> None:
    answer = Answer(
        question="q",
        answer=None,
        confident=False,
        citations=[citation(1, "Nothing here."), citation(2, "It was The Denver Broncos, in 2016.")],
    )
    assert not answer_hit(answer, ["Denver Broncos"], 1)
    assert answer_hit(answer, ["denver broncos"], 2)
    assert answer_hit(answer, ["the Denver Broncos!"], 3)
    assert not answer_hit(answer, ["Carolina"], 3)


def test_ranking_metrics_follow_their_definitions() -> None:
    score = ModeScore("x")
    answer = Answer(question="q", answer="a", confident=True, citations=[citation(1, "a b c")])
    score.add(Query("1", "q", ("b",), frozenset({"d2"})), ["d1", "d2", "d3"], answer, 0.01)
    score.add(Query("2", "q", ("z",), frozenset({"d9"})), ["d1", "d2"], answer, 0.03)
    s = score.summary()
    assert s["R@1"] == 0.0 and s["R@5"] == 0.5
    assert s["MRR@10"] == pytest.approx(0.25)
    assert s["nDCG@10"] == pytest.approx(round(1 / math.log2(3) / 2, 4))
    assert s["hit@1"] == 0.5 and s["declined"] == 0.0


def test_article_ranking_dedupes_passages_and_maps_corpus_lines(tmp_path: Path) -> None:
    folder = write_set(
        tmp_path / "set",
        [{"id": "A", "text": "x"}, {"id": "B", "text": "y"}],
        [{"id": "1", "question": "q", "answers": ["x"], "doc_ids": ["B"]}],
    )
    dataset = load_dataset(folder)

    def hit(path: str, chunk_id: int) -> Hit:
        return Hit(Chunk(chunk_id, path, 0, "x", 0, 1, 1, 1), ArticleInfo(path, "t", path), 1.0, chunk_id)

    hits = [hit("corpus.jsonl#L2", 1), hit("corpus.jsonl#L2", 2), hit("corpus.jsonl#L1", 3)]
    assert article_ranking(hits, dataset) == ["B", "A"]


def test_tradeoff_counts_declines_on_each_side() -> None:
    rows = tradeoffs([0.9, 0.8, 0.3], [0.1, 0.2, 0.5, 0.6], thresholds=[0.4])
    assert rows[0].answerable_declined == pytest.approx(1 / 3)
    assert rows[0].unanswerable_declined == pytest.approx(0.5)


def test_sample_spreads_over_the_set(tmp_path: Path) -> None:
    queries = [{"id": str(i), "question": f"q{i}", "answers": [], "doc_ids": ["A"]} for i in range(10)]
    dataset = load_dataset(write_set(tmp_path / "s", [{"id": "A", "text": "x"}], queries))
    assert [q.id for q in dataset.sample(5).queries] == ["0", "2", "4", "6", "8"]


def test_broken_sets_are_named(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not a folder"):
        load_dataset(tmp_path / "missing")
    (tmp_path / "bad").mkdir()
    with pytest.raises(DatasetError, match=r"corpus\.jsonl is missing"):
        load_dataset(tmp_path / "bad")


def test_short_answer_metrics_count_only_bold_spans_shorter_than_the_excerpt() -> None:
    from newsbot.retrieval.evaluate import ModeScore, Query, short_answer_correct

    excerpt = "Scholz will travel to Kyiv on February 14-15."
    cited = [citation(1, excerpt)]
    bold = Answer(
        question="q",
        answer="February 14-15",
        confident=True,
        citations=cited,
        answer_start=30,
        answer_end=44,
        answer_citation=1,
    )
    wrong = bold.model_copy(update={"answer": "Kyiv", "answer_start": 22, "answer_end": 26})
    whole = Answer(
        question="q",
        answer=excerpt,
        confident=True,
        citations=cited,
        answer_start=0,
        answer_end=len(excerpt),
        answer_citation=1,
    )
    assert short_answer_correct(bold, ["february 14-15"]) is True
    assert short_answer_correct(wrong, ["February 14-15"]) is False
    assert short_answer_correct(whole, ["February 14-15"]) is None  # the excerpt is the answer: no bold
    score = ModeScore("hybrid")
    query = Query("1", "when?", ("February 14-15",), frozenset())
    for answer in (bold, wrong, whole, whole):
        score.add(query, [], answer, 0.01)
    summary = score.summary()
    assert summary["short"] == 0.25 and summary["coverage"] == 0.5 and summary["wrong_bold"] == 0.5


def test_splits_are_fixed_halves_by_query_id() -> None:
    from newsbot.retrieval.evaluate import split_of

    ids = [f"q{i}" for i in range(400)]
    dev = [i for i in ids if split_of(i) == "dev"]
    assert 150 < len(dev) < 250  # about half
    assert [split_of(i) for i in ids] == [split_of(i) for i in ids]  # the same every run
    assert split_of("q0") in ("dev", "test")
