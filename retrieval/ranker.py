"""The learned sentence ranker: which candidate sentence holds the answer, as a probability.

A logistic regression over a handful of features (below), fitted on the dev halves of the eval
sets by ``scripts/train_ranker.py`` and shipped as JSON beside this module (no pickle). The same
file carries the thresholds calibrated on dev: ``min_confidence`` (below it newsbot declines) and
``bold_confidence`` (below it the reply shows the excerpt without a bold short answer).
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
)


@dataclass(frozen=True, slots=True)
class SentenceRanker:
    """Standardised features -> logistic regression -> probability that a sentence answers."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    min_confidence: float
    bold_confidence: float

    def __post_init__(self) -> None:
        if self.features != FEATURES:
            raise ValueError(f"ranker features {list(self.features)} do not match this newsbot's {list(FEATURES)}")
        for name in ("mean", "scale", "weights"):
            if getattr(self, name).shape != (len(FEATURES),):
                raise ValueError(f"ranker {name} must have {len(FEATURES)} values")
        for name in ("min_confidence", "bold_confidence"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"ranker {name} must be between 0 and 1, got {getattr(self, name)}")

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """P(answer) for each row of features."""
        if len(rows) == 0:
            return np.zeros(0, dtype=np.float64)
        z = ((rows - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-z))

    def to_json(self) -> dict:
        return {
            "features": list(self.features),
            "mean": [round(float(v), 8) for v in self.mean],
            "scale": [round(float(v), 8) for v in self.scale],
            "weights": [round(float(v), 8) for v in self.weights],
            "bias": round(float(self.bias), 8),
            "min_confidence": round(float(self.min_confidence), 4),
            "bold_confidence": round(float(self.bold_confidence), 4),
        }

    @classmethod
    def from_json(cls, data: dict) -> SentenceRanker:
        try:
            return cls(
                tuple(data["features"]),
                np.asarray(data["mean"], dtype=np.float64),
                np.asarray(data["scale"], dtype=np.float64),
                np.asarray(data["weights"], dtype=np.float64),
                float(data["bias"]),
                float(data["min_confidence"]),
                float(data["bold_confidence"]),
            )
        except KeyError as exc:
            raise ValueError(f"ranker file lacks {exc.args[0]!r}") from None

    @classmethod
    def load(cls, path: Path = DEFAULT_MODEL) -> SentenceRanker:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls.from_json(data)


def untrained() -> SentenceRanker:
    """Hand-set weights, close to what newsbot used before it learned them (for the first fit)."""
    weights = np.zeros(len(FEATURES))
    weights[FEATURES.index("similarity")] = 0.6 * 8
    weights[FEATURES.index("overlap")] = 0.4 * 8
    weights[FEATURES.index("inverse_rank")] = 0.1 * 8
    weights[FEATURES.index("typed")] = 0.05 * 8
    return SentenceRanker(FEATURES, np.zeros(len(FEATURES)), np.ones(len(FEATURES)), weights, -4.0, 0.42, 0.42)
