"""Coalescer: concurrent embed calls share model calls, and each caller gets its own rows."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from newsbot.index.embedder import Coalescer


def slow_embed(texts: list[str]) -> np.ndarray:
    time.sleep(0.05)  # a model call; callers arriving meanwhile must queue for the next one
    return np.asarray([[len(t), hash(t) % 1000] for t in texts], dtype=np.float32)


def test_concurrent_callers_get_their_own_rows_from_fewer_calls() -> None:
    coalesce = Coalescer(slow_embed)
    inputs = [[f"q{i}", f"sentence {i} " * (i % 4)] for i in range(40)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(coalesce, inputs))
    for texts, got in zip(inputs, results, strict=True):
        np.testing.assert_array_equal(got, slow_embed(texts))
    assert coalesce.calls < len(inputs)


def test_a_lone_caller_goes_straight_through() -> None:
    coalesce = Coalescer(slow_embed, max_texts=1)
    np.testing.assert_array_equal(coalesce(["a", "bb"]), slow_embed(["a", "bb"]))  # bigger than max: alone
    assert coalesce.calls == 1


def test_model_errors_reach_every_waiting_caller() -> None:
    started = threading.Event()

    def failing(texts: list[str]) -> np.ndarray:
        started.set()
        time.sleep(0.05)
        raise RuntimeError("model exploded")

    coalesce = Coalescer(failing)
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(coalesce, [str(i)]) for i in range(4)]
        for f in futures:
            with pytest.raises(RuntimeError, match="model exploded"):
                f.result(timeout=10)


def test_max_texts_is_checked() -> None:
    with pytest.raises(ValueError, match="max_texts must be at least 1, got 0"):
        Coalescer(slow_embed, max_texts=0)
