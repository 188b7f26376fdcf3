"""The span model: reproducible from the committed dev spans, and it picks what a reader would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from newsbot.index.entities import Entity
from newsbot.retrieval.span_ranker import DEFAULT_SPAN_MODEL, SPAN_FEATURES, Passage, SpanRanker, span_rows
from newsbot.retrieval.spans import answer_type
from tests.conftest import ROOT

SPANS_FILE = ROOT / "corpora" / "eval" / "ranker" / "dev_spans.npz"
SENTENCE = "As Macron and Putin meet in Moscow, German Chancellor Olaf Scholz will meet Biden in Washington, DC."


def _entities(text: str, *named: tuple[str, str]) -> tuple[Entity, ...]:
    return tuple(Entity(text.index(name), text.index(name) + len(name), label) for name, label in named)


SEED_ENTITIES = _entities(
    SENTENCE,
    ("Macron", "PERSON"), ("Putin", "PERSON"), ("Moscow", "GPE"), ("German", "NORP"),
    ("Olaf Scholz", "PERSON"), ("Biden", "PERSON"), ("Washington, DC", "GPE"),
)  # fmt: skip


def test_the_training_script_reproduces_the_shipped_model(tmp_path: Path) -> None:
    out = tmp_path / "spans.json"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_spans.py"), "fit", "--spans", str(SPANS_FILE), "--out", str(out)],
        check=True, timeout=300, capture_output=True,
    )  # fmt: skip
    fitted, shipped = json.loads(out.read_text()), json.loads(DEFAULT_SPAN_MODEL.read_text())
    assert fitted["features"] == shipped["features"] == list(SPAN_FEATURES)
    for key in ("mean", "scale", "weights"):
        np.testing.assert_allclose(fitted["model"][key], shipped["model"][key], atol=1e-5)
    assert fitted["model"]["bias"] == pytest.approx(shipped["model"]["bias"], abs=1e-5)
    assert fitted["bold_confidence"] == shipped["bold_confidence"]
    assert fitted["fitted_on"] == shipped["fitted_on"]


def test_one_row_per_candidate_and_the_questions_own_names_are_not_candidates() -> None:
    question = "who met Biden?"
    found, rows = span_rows(question, answer_type(question), Passage(SENTENCE, 0.8, SEED_ENTITIES), [], 0.9)
    names = [SENTENCE[c.start : c.end] for c in found]
    assert "Biden" not in names and "Olaf Scholz" in names
    assert rows.shape == (len(found), len(SPAN_FEATURES))
    assert rows[:, SPAN_FEATURES.index("kind_person")].tolist() == [1.0] * len(found)


def test_a_candidate_the_next_excerpts_repeat_has_their_support() -> None:
    question = "where will Scholz meet Biden?"
    others = [Passage("Scholz flies to Washington, DC on Monday.", 0.6), Passage("Putin stays in Moscow.", 0.2)]
    found, rows = span_rows(question, "place", Passage(SENTENCE, 0.8, SEED_ENTITIES), others, 0.9)
    support = {
        SENTENCE[c.start : c.end]: row[SPAN_FEATURES.index("support")] for c, row in zip(found, rows, strict=True)
    }
    assert support["Washington, DC"] == pytest.approx(0.75)
    assert support["Moscow"] == pytest.approx(0.25)


def test_the_shipped_model_picks_the_answer_in_the_seed_sentence() -> None:
    ranker = SpanRanker.load()
    choice = ranker.choose("who met Biden?", "person", Passage(SENTENCE, 0.8, SEED_ENTITIES), [], 0.9)
    assert choice is not None and SENTENCE[choice.start : choice.end] == "Olaf Scholz"
    assert 0 <= choice.probability <= 1


def test_no_kind_no_short_answer() -> None:
    ranker = SpanRanker.load()
    assert ranker.choose("why did they meet?", None, Passage(SENTENCE, 0.8, SEED_ENTITIES), [], 0.9) is None


def test_a_span_model_file_that_does_not_fit_is_refused() -> None:
    data = json.loads(DEFAULT_SPAN_MODEL.read_text())
    with pytest.raises(ValueError, match="do not match"):
        SpanRanker.from_json(data | {"features": data["features"][:-1]})
    with pytest.raises(ValueError, match="bold_confidence must be between 0 and 1"):
        SpanRanker.from_json(data | {"bold_confidence": 2.0})
    with pytest.raises(ValueError, match="lacks 'model'"):
        SpanRanker.from_json({k: v for k, v in data.items() if k != "model"})
