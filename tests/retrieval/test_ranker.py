"""The shipped sentence ranker is what scripts/train_ranker.py fits from the committed dev features."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from newsbot.index.records import ArticleInfo, Chunk
from newsbot.retrieval.answer import AnswerComposer
from newsbot.retrieval.ranker import DEFAULT_MODEL, FEATURES, SentenceRanker
from newsbot.retrieval.records import Hit
from newsbot.retrieval.text import stems
from tests.conftest import ROOT
from tests.fakes.embedder import FakeEmbedder

FEATURES_FILE = ROOT / "corpora" / "eval" / "ranker" / "dev_features.npz"


def test_the_training_script_reproduces_the_shipped_model(tmp_path: Path) -> None:
    out = tmp_path / "ranker.json"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_ranker.py"), "fit", "--features", str(FEATURES_FILE),
         "--out", str(out)],
        check=True, timeout=300, capture_output=True,
    )  # fmt: skip
    fitted, shipped = json.loads(out.read_text()), json.loads(DEFAULT_MODEL.read_text())
    assert fitted["features"] == shipped["features"] == list(FEATURES)
    for model in ("sentences", "answerable"):
        for key in ("mean", "scale", "weights"):
            np.testing.assert_allclose(fitted[model][key], shipped[model][key], atol=1e-5)
        assert fitted[model]["bias"] == pytest.approx(shipped[model]["bias"], abs=1e-5)
    assert fitted["min_confidence"] == shipped["min_confidence"]
    assert fitted["fitted_on"] == shipped["fitted_on"]


def test_the_shipped_model_prefers_a_sentence_that_matches_the_question() -> None:
    ranker = SentenceRanker.load()
    weak = dict.fromkeys(FEATURES, 0.0) | {
        "similarity": 0.2,
        "similarity_gap": -0.5,
        "inverse_rank": 0.2,
        "passage_score": 0.5,
        "length": 0.9,
        "kind_known": 1.0,
    }
    strong = weak | {
        "similarity": 0.7,
        "similarity_gap": 0.0,
        "overlap": 1.0,
        "idf_overlap": 1.0,
        "typed": 1.0,
        "inverse_rank": 1.0,
        "passage_score": 1.0,
    }
    p_weak, p_strong = ranker.predict(np.asarray([[weak[f] for f in FEATURES], [strong[f] for f in FEATURES]]))
    assert 0 <= p_weak < p_strong <= 1


def test_a_ranker_file_that_does_not_fit_is_refused() -> None:
    data = json.loads(DEFAULT_MODEL.read_text())
    with pytest.raises(ValueError, match="do not match"):
        SentenceRanker.from_json(data | {"features": data["features"][:-1]})
    with pytest.raises(ValueError, match="min_confidence must be between 0 and 1"):
        SentenceRanker.from_json(data | {"min_confidence": 1.5})
    with pytest.raises(ValueError, match="lacks 'answerable'"):
        SentenceRanker.from_json({k: v for k, v in data.items() if k != "answerable"})


def test_a_sentence_is_also_read_with_its_articles_title() -> None:
    text = "Officials marked the centenary on Monday. In 1992, it was transformed into a republic."
    article = ArticleInfo(id="a1", title="Karachayevo-Circassia celebrates", path="kc.txt")
    hit = Hit(Chunk(1, "a1", 0, text, 0, len(text), 1, 1), article, 1.0, 1)
    question = "when did karachayevo-circassia become a republic"
    candidates = AnswerComposer(FakeEmbedder()).candidates(question, [hit])
    rows = [dict(zip(FEATURES, c.features.tolist(), strict=True)) for c in candidates]
    answering = next(r for c, r in zip(candidates, rows, strict=True) if "1992" in c.text)
    # "republic" is in the sentence; "karachayevo" and "circassia" only in the title.
    terms = stems(question)
    assert answering["idf_overlap"] == pytest.approx(1 / len(terms))
    assert answering["title_idf_overlap"] == pytest.approx(3 / len(terms))
    assert answering["title_idf_overlap_gap"] == 0.0
