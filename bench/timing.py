"""Small timing helpers: percentiles over repeated calls, wall time of a block."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Percentiles:
    p50_ms: float
    p99_ms: float
    count: int


def percentiles(seconds: Iterable[float]) -> Percentiles:
    values = np.asarray(list(seconds), dtype=float) * 1000
    if not len(values):
        raise ValueError("no timings to summarise")
    return Percentiles(float(np.percentile(values, 50)), float(np.percentile(values, 99)), len(values))


def time_each(call: Callable[[T], object], inputs: Sequence[T], *, warmup: int = 3) -> Percentiles:
    """Calls ``call`` on each input (after a few warm-up calls) and summarises the latencies."""
    for item in inputs[:warmup]:
        call(item)
    times = []
    for item in inputs:
        started = time.perf_counter()
        call(item)
        times.append(time.perf_counter() - started)
    return percentiles(times)
