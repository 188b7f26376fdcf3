"""The answerability model's passage evidence: the question's words as BM25 reads them, and what
the best passage lacks of them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from newsbot.index.bm25 import BM25Index
from newsbot.index.bm25 import stems as bm25_stems
from newsbot.retrieval.answer import passage_evidence, unseen_idf
from newsbot.retrieval.ranker import (
    ANSWERABLE_EVIDENCE,
    DEFAULT_MODEL,
    EVIDENCE,
    FEATURES,
    SentenceRanker,
    answerable_inputs,
)
from newsbot.retrieval.text import STOPWORDS, stem, stems, words


def test_answer_scoring_reads_words_as_bm25_does() -> None:
    text = "Almaz-Antey's Buk missile: Putin's 'special operation' in post-war Kyiv, 2022 (co-operation)"
    assert "almaz" in words(text) and "antey" in words(text) and "almaz-antey" not in words(text)
    counted = set(bm25_stems([text])[0])
    assert stems(text) == {stem(w) for w in words(text) if w not in STOPWORDS} <= counted
    index = BM25Index.build([1], [text])
    terms = sorted(stems("what did almaz-antey's buk do?"))
    assert terms and (index.idf(terms) > 0).all()  # every word the question shares with the text has an idf


def _evidence(terms: list[str], idf: list[float], present: set[str]) -> dict[str, float]:
    row = passage_evidence(terms, np.asarray(idf, dtype=np.float32), unseen_idf(1000), present)
    return dict(zip(EVIDENCE, row.tolist(), strict=True))


def test_the_rarest_word_a_passage_lacks_weighs_by_its_idf() -> None:
    terms = ["gold", "medal", "pyeongchang", "russia"]
    idf = [2.0, 2.5, 6.0, 1.0]
    assert _evidence(terms, idf, set(terms)) == {"missing_rarest": 0.0, "passage_cover": 1.0}
    lacking = _evidence(terms, idf, {"gold", "medal", "russia"})
    assert lacking["missing_rarest"] == pytest.approx(6.0 / unseen_idf(1000))
    assert lacking["passage_cover"] == pytest.approx(5.5 / 11.5)
    # A word no chunk has (idf 0) weighs the most a word can, not nothing.
    unseen = _evidence(terms, [2.0, 2.5, 0.0, 1.0], {"gold", "medal", "russia"})
    assert unseen["missing_rarest"] == pytest.approx(1.0)
    assert unseen["passage_cover"] == pytest.approx(5.5 / (5.5 + unseen_idf(1000)))
    assert _evidence(terms, idf, {"pyeongchang"})["missing_rarest"] == pytest.approx(2.5 / unseen_idf(1000))
    assert _evidence([], [], set()) == dict.fromkeys(EVIDENCE, 0.0)


def test_a_best_passage_lacking_the_questions_rarest_word_lowers_the_confidence() -> None:
    ranker = SentenceRanker.load()
    assert "missing_rarest" in ANSWERABLE_EVIDENCE
    row = dict.fromkeys(FEATURES, 0.0) | {"similarity": 0.6, "overlap": 0.75, "idf_overlap": 0.6, "length": 0.9}
    row |= {"passage_idf_overlap": 0.6, "passage_score": 1.0, "inverse_rank": 1.0}
    best = np.asarray([row[f] for f in FEATURES])
    holds = np.asarray([{"missing_rarest": 0.0, "passage_cover": 1.0}[e] for e in EVIDENCE])
    lacks = np.asarray([{"missing_rarest": 0.9, "passage_cover": 0.6}[e] for e in EVIDENCE])
    assert ranker.confidence(best, 0.5, lacks) < ranker.confidence(best, 0.5, holds)


def test_a_ranker_file_with_other_answerability_inputs_is_refused() -> None:
    data = json.loads(DEFAULT_MODEL.read_text())
    assert data["answerable_features"] == list(answerable_inputs())
    with pytest.raises(ValueError, match=r"answerability inputs .* do not match"):
        SentenceRanker.from_json(data | {"answerable_features": data["answerable_features"][:-1]})
