"""Fusing rankings: weighted reciprocal rank fusion (Cormack et al., 2009).

RRF needs no score calibration between BM25 (unbounded) and cosine similarity (bounded), which
is why it is the default; the weights let a deployment lean on one side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Ranked:
    """One item of a fused ranking."""

    id: int
    score: float


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], weights: Sequence[float], k: int = 60) -> list[Ranked]:
    """Items of all ``rankings`` (ids, best first), by sum of weight / (k + rank), best first."""
    if len(rankings) != len(weights):
        raise ValueError(f"{len(rankings)} rankings but {len(weights)} weights")
    if k < 1:
        raise ValueError(f"rrf k must be at least 1, got {k}")
    if any(w < 0 for w in weights):
        raise ValueError(f"weights must be 0 or more, got {list(weights)}")
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    # Ties (an item at the same ranks on both sides) keep the order of first appearance.
    return [Ranked(i, s) for i, s in sorted(scores.items(), key=lambda kv: -kv[1])]
