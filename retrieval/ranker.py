"""The learned sentence ranker: which candidate sentence holds the answer, and whether any does.

Two logistic regressions, fitted on the dev halves of the eval sets by ``scripts/train_ranker.py``
and shipped as JSON beside this module (no pickle): one scores each candidate sentence (features
below), the other turns the best candidate into the probability that the articles answer at all
(its score, a few of its features and what its passage holds of the question's rare words: a
question about something absent still finds a "best" sentence). The same file carries the
threshold calibrated on dev: ``min_confidence`` on the second (below it newsbot declines; the
highest that declines at most 5 % of each set's answerable dev questions). The bold short answer
has a model of its own (span_ranker.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_MODEL = Path(__file__).with_name("models") / "sentence_ranker.json"

# One row per candidate sentence, in this order.
FEATURES = (
    "similarity",  # cosine of the sentence's stored vector and the question's
    "similarity_gap",  # similarity minus the best candidate's (<= 0)
    "overlap",  # share of the question's content stems in the sentence
    "idf_overlap",  # the same, weighted by BM25's idf: a sentence-level BM25 without length terms
    "idf_overlap_gap",  # idf_overlap minus the best candidate's
    "passage_score",  # the passage's retrieval score over the best passage's
    "inverse_rank",  # 1 / the passage's rank
    "typed",  # holds an entity of the kind asked for (0 when the question asks for no kind)
    "kind_known",  # the question asks for a kind (date, number, person, place, organisation)
    "neighbour",  # best similarity of the sentences beside it in its passage
    "lead",  # the first sentence of its article
    "length",  # log of its length in characters, over 5
    "passage_idf_overlap",  # idf_overlap of its whole passage: are the question's rare words there at all?
    "unknown",  # share of the question's content stems no indexed chunk has (the same for every sentence)
    # idf_overlap over the sentence and its article's title together (a word no chunk has weighs
    # most): a sentence that answers often leaves the topic to the headline ("In 1992, it was
    # transformed into a republic." under "... Karachayevo-Circassia ..."); BM25 reads the title too.
    "title_idf_overlap",
    "title_idf_overlap_gap",  # title_idf_overlap minus the best candidate's
)
# What the answerability model reads of the best candidate, besides its sentence score.
# A question about an event the articles lack often names it in words the index has never seen:
# ``unknown`` and ``passage_idf_overlap`` see that where the sentence's own features cannot.
ANSWERABLE_FEATURES = (
    "similarity",
    "overlap",
    "idf_overlap",
    "typed",
    "kind_known",
    "passage_idf_overlap",
    "unknown",
)
# Read of the best candidate's passage (its title and text) for the answerability model only: the
# sentence model never sees them. A question about an event the articles lack often shares its
# people and places with them, but the passage that scores best lacks the question's rarest word
# ("pyeongchang", "linkedin", "samarkand"): measured on the dev halves (README "Declining").
EVIDENCE = (
    "missing_rarest",  # idf of the rarest question word the passage lacks, over a word no chunk has (0: none lacking)
    "passage_cover",  # idf-weighted share of the question's words in the passage; a word no chunk has weighs most
)
# Which of those the answerability model reads (scripts/train_ranker.py compare tries the others).
ANSWERABLE_EVIDENCE = EVIDENCE


def answerable_inputs() -> tuple[str, ...]:
    """The answerability model's inputs, in order: the best sentence's score, some of its
    features, some of its passage's evidence."""
    return ("sentence_score", *ANSWERABLE_FEATURES, *ANSWERABLE_EVIDENCE)


def answerable_row(best_row: np.ndarray, best_score: float, evidence: np.ndarray) -> np.ndarray:
    """The answerability model's input row for a best candidate (``answerable_inputs`` order)."""
    return np.asarray(
        [
            best_score,
            *(best_row[FEATURES.index(f)] for f in ANSWERABLE_FEATURES),
            *(evidence[EVIDENCE.index(f)] for f in ANSWERABLE_EVIDENCE),
        ],
        dtype=np.float64,
    )


@dataclass(frozen=True, slots=True)
class Logistic:
    """Standardised inputs -> logistic regression -> probability."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def __post_init__(self) -> None:
        if not self.mean.shape == self.scale.shape == self.weights.shape:
            raise ValueError("a logistic model needs as many means, scales and weights as inputs")

    def predict(self, rows: np.ndarray) -> np.ndarray:
        if len(rows) == 0:
            return np.zeros(0, dtype=np.float64)
        z = ((rows - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-z))

    def to_json(self) -> dict:
        return {
            "mean": [round(float(v), 8) for v in self.mean],
            "scale": [round(float(v), 8) for v in self.scale],
            "weights": [round(float(v), 8) for v in self.weights],
            "bias": round(float(self.bias), 8),
        }

    @classmethod
    def from_json(cls, data: dict) -> Logistic:
        mean, scale, weights = (np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "weights"))
        return cls(mean, scale, weights, float(data["bias"]))


@dataclass(frozen=True, slots=True)
class SentenceRanker:
    """Which sentence answers (``sentences``), whether any does (``answerable``), and when to decline."""

    features: tuple[str, ...]
    sentences: Logistic
    answerable: Logistic
    min_confidence: float

    def __post_init__(self) -> None:
        if self.features != FEATURES:
            raise ValueError(f"ranker features {list(self.features)} do not match this newsbot's {list(FEATURES)}")
        if self.sentences.weights.shape != (len(FEATURES),):
            raise ValueError(f"the sentence model must have {len(FEATURES)} weights")
        if self.answerable.weights.shape != (len(answerable_inputs()),):
            raise ValueError(f"the answerability model must have {len(answerable_inputs())} weights")
        if not 0 <= self.min_confidence <= 1:
            raise ValueError(f"ranker min_confidence must be between 0 and 1, got {self.min_confidence}")

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """P(this sentence holds the answer) for each row of features."""
        return self.sentences.predict(rows)

    def confidence(self, best_row: np.ndarray, best_score: float, evidence: np.ndarray) -> float:
        """P(the passages answer the question at all), from the best candidate and its passage's
        ``evidence`` (in ``EVIDENCE`` order)."""
        inputs = answerable_row(best_row, best_score, evidence)
        return float(self.answerable.predict(inputs[None, :])[0])

    def to_json(self) -> dict:
        return {
            "features": list(self.features),
            "sentences": self.sentences.to_json(),
            "answerable_features": list(answerable_inputs()),
            "answerable": self.answerable.to_json(),
            "min_confidence": round(float(self.min_confidence), 4),
        }

    @classmethod
    def from_json(cls, data: dict) -> SentenceRanker:
        expected = list(answerable_inputs())
        if data.get("answerable_features", expected) != expected:
            raise ValueError(
                f"ranker answerability inputs {data['answerable_features']} do not match this newsbot's {expected}"
            )
        try:
            return cls(
                tuple(data["features"]),
                Logistic.from_json(data["sentences"]),
                Logistic.from_json(data["answerable"]),
                float(data["min_confidence"]),
            )
        except KeyError as exc:
            raise ValueError(f"ranker file lacks {exc.args[0]!r}") from None

    @classmethod
    def load(cls, path: Path = DEFAULT_MODEL) -> SentenceRanker:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls.from_json(data)
