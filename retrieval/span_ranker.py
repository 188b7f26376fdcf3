"""The learned span model: which candidate in the answering sentence is the short answer, and how sure.

A logistic regression over each candidate's features, fitted on the dev halves of the eval sets by
``scripts/train_spans.py`` and shipped as JSON beside this module (no pickle), with the threshold
calibrated there: ``bold_confidence``, the probability a candidate needs before it is shown in bold.
The candidate with the highest probability is the short answer; below the threshold the reply is
the excerpt alone, because a wrong bold answer is worse than none.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from newsbot.index.entities import Entity
from newsbot.retrieval.ranker import Logistic
from newsbot.retrieval.spans import DATE, NUMBER, ORGANISATION, PERSON, PLACE, SpanCandidate, span_candidates
from newsbot.retrieval.text import normalize, stems, words

DEFAULT_SPAN_MODEL = Path(__file__).with_name("models") / "span_ranker.json"
KINDS = (DATE, NUMBER, PERSON, PLACE, ORGANISATION)
# The label that answers a kind most directly ("who" is mostly a PERSON, though ORG and NORP fit).
MAIN_LABEL = {DATE: "DATE", NUMBER: "CARDINAL", PERSON: "PERSON", PLACE: "GPE", ORGANISATION: "ORG"}
# How many of the next-best excerpts vote for a candidate that they repeat.
SUPPORT_EXCERPTS = 5

SPAN_FEATURES = (
    "sentence_score",  # the sentence ranker's probability for the sentence holding the candidate
    "confidence",  # the answerability model's probability that the articles answer at all
    "closeness",  # minus the summed distance to the question's words, over the sentence's length
    "nearest",  # distance to the closest of the question's words, over the sentence's length
    "nearest_first",  # the candidate nearest the question's words
    "inverse_rank",  # 1 / (1 + its place in that order)
    "alone",  # 1 / the number of candidates in the sentence
    "fits",  # has what the question's words ask for (a unit after a number, a year)
    "support",  # score share of the next-best excerpts that repeat the candidate
    "main_label",  # its label is the one that answers its kind most directly
    "tokens",  # log of its length in words
    "overlap",  # share of the question's content stems in the sentence
    "label_asked",  # 1: its label is the one the question's words call for ("what percentage"); -1: another
    "listed",  # one item of a list ("A, B and C"), where the answer is often the whole list
    "beside",  # share of the question's content stems among the four words either side of it
    "unit_beside",  # 1: the unit of "how many X" is beside it; -1: it is not; 0: no unit asked
    *(f"kind_{k}" for k in KINDS),
)


@dataclass(frozen=True, slots=True)
class Passage:
    """A scored excerpt as the span model sees it: its text, stored entities and score."""

    text: str
    score: float
    entities: tuple[Entity, ...] | None = None


@dataclass(frozen=True, slots=True)
class ShortAnswer:
    """The chosen candidate (offsets into the best excerpt's text) and its probability of being right."""

    start: int
    end: int
    kind: str
    probability: float


def span_rows(
    question: str, kind: str | None, best: Passage, others: Sequence[Passage], confidence: float
) -> tuple[list[SpanCandidate], np.ndarray]:
    """The candidates of ``best`` and one feature row each, in ``SPAN_FEATURES`` order."""
    found = span_candidates(question, best.text, kind, best.entities)
    if not found or kind is None:
        return [], np.zeros((0, len(SPAN_FEATURES)), dtype=np.float64)
    voters = [(f" {normalize(p.text)} ", p.score) for p in _voters(best, others)]
    total = sum(score for _, score in voters) or 1.0
    asked = stems(question)
    overlap = len(asked & stems(best.text)) / len(asked) if asked else 0.0
    rows = []
    for c in found:
        phrase = f" {normalize(best.text[c.start : c.end])} "
        row = {
            "sentence_score": best.score,
            "confidence": confidence,
            "closeness": c.closeness,
            "nearest": c.nearest,
            "nearest_first": float(c.rank == 0),
            "inverse_rank": 1.0 / (1 + c.rank),
            "alone": 1.0 / len(found),
            "fits": float(c.fits),
            "support": sum(score for text, score in voters if phrase in text) / total,
            "main_label": float(c.label == MAIN_LABEL[kind]),
            "tokens": float(np.log1p(len(words(best.text[c.start : c.end])))),
            "overlap": overlap,
            "label_asked": float(c.label_asked),
            "listed": float(c.listed),
            "beside": c.beside,
            "unit_beside": float(c.unit_beside),
        } | {f"kind_{k}": float(kind == k) for k in KINDS}
        rows.append([row[name] for name in SPAN_FEATURES])
    return found, np.asarray(rows, dtype=np.float64)


def _voters(best: Passage, others: Sequence[Passage]) -> list[Passage]:
    """The next-best excerpts, one per distinct text (the same sentence twice is one vote)."""
    seen = {normalize(best.text)}
    out = []
    for p in sorted(others, key=lambda p: -p.score):
        key = normalize(p.text)
        if key not in seen:
            seen.add(key)
            out.append(p)
        if len(out) == SUPPORT_EXCERPTS:
            break
    return out


@dataclass(frozen=True, slots=True)
class SpanRanker:
    """P(a candidate is the short answer), and the probability a bold answer needs."""

    features: tuple[str, ...]
    model: Logistic
    bold_confidence: float

    def __post_init__(self) -> None:
        if self.features != SPAN_FEATURES:
            raise ValueError(
                f"span model features {list(self.features)} do not match this newsbot's {list(SPAN_FEATURES)}"
            )
        if self.model.weights.shape != (len(SPAN_FEATURES),):
            raise ValueError(f"the span model must have {len(SPAN_FEATURES)} weights")
        if not 0 <= self.bold_confidence <= 1:
            raise ValueError(f"span model bold_confidence must be between 0 and 1, got {self.bold_confidence}")

    def choose(
        self, question: str, kind: str | None, best: Passage, others: Sequence[Passage], confidence: float
    ) -> ShortAnswer | None:
        """The most probable candidate in ``best`` (whatever its probability), or None when none fits."""
        found, rows = span_rows(question, kind, best, others, confidence)
        if not found or kind is None:
            return None
        probability = self.model.predict(rows)
        i = int(np.argmax(probability))
        return ShortAnswer(found[i].start, found[i].end, kind, float(probability[i]))

    def to_json(self) -> dict:
        return {
            "features": list(self.features),
            "model": self.model.to_json(),
            "bold_confidence": round(float(self.bold_confidence), 4),
        }

    @classmethod
    def from_json(cls, data: dict) -> SpanRanker:
        try:
            return cls(tuple(data["features"]), Logistic.from_json(data["model"]), float(data["bold_confidence"]))
        except KeyError as exc:
            raise ValueError(f"span model file lacks {exc.args[0]!r}") from None

    @classmethod
    def load(cls, path: Path = DEFAULT_SPAN_MODEL) -> SpanRanker:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
