"""A tiny deterministic embedder for unit tests: hashed words, no model, no torch."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from newsbot.index.embedder import SpanVectors

if TYPE_CHECKING:
    from newsbot.config.settings import Settings
    from newsbot.retrieval.retriever import Retriever

_TOKEN = re.compile(r"\w+|[^\w\s]")


class FakeEmbedder:
    """Bag of hashed lower-cased words (and their 4-letter prefixes), unit length.

    Texts that share words are close, so retrieval tests behave like the real thing, only cruder.
    """

    def __init__(
        self, name: str = "fake-hash-64", dimension: int = 64, max_tokens: int = 254, delay: float = 0.0
    ) -> None:
        self.name = name
        self.dimension = dimension
        self.max_tokens = max_tokens
        self.delay = delay
        self.calls = 0
        self.texts_embedded = 0

    def count_tokens(self, text: str) -> int:
        return len(_TOKEN.findall(text))

    def embed_batch(
        self, texts: Sequence[str], *, batch_size: int | None = None, show_progress_bar: bool = False
    ) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        return self._vectors(texts)

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            if self.delay:
                time.sleep(self.delay)
            for word in re.findall(r"\w+", text.lower()):
                for feature in (word, word[:4] + "~"):
                    h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
                    out[row, h % self.dimension] += 1.0 if (h >> 32) & 1 else -1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
            else:
                out[row, 0] = 1.0
        return out

    def embed_spans(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        *,
        batch_size: int | None = None,
        show_progress_bar: bool = False,
    ) -> SpanVectors:
        """The span texts embedded on their own (a bag of words has no context to pool); only the
        whole texts count as embedded, as with a real model's single pass."""
        vectors = self.embed_batch(texts, batch_size=batch_size)
        parts = self._vectors([text[s:e] for text, sps in zip(texts, spans, strict=True) for s, e in sps])
        out, row = [], 0
        for sps in spans:
            out.append(parts[row : row + len(sps)])
            row += len(sps)
        return SpanVectors(vectors, out)


def open_with_fake_embedder(settings: Settings) -> Retriever:
    """The configured index with a FakeEmbedder: what a bot's answer workers open in tests (a
    module-level function, so it can be sent to a worker process)."""
    from newsbot.retrieval.retriever import Retriever

    return Retriever.from_settings(settings, embedder=FakeEmbedder(), build_if_missing=False)
