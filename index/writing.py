"""The writer side of an index, as the builder sees it: one build's edits, made live whole by ``commit``.

The folder writer (``IndexWriter``: a new generation swapped in) and the PostgreSQL writer (one
transaction) both implement it, so ``IndexBuilder`` runs the same incremental build on either.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, Self

import numpy as np

from newsbot.index.manifest import Manifest
from newsbot.index.records import Article, Chunk, ChunkSentences


class IndexWriting(Protocol):
    """Use as a context manager: leaving it without ``commit`` (an error, a kill) changes nothing live."""

    @property
    def previous(self) -> Manifest | None:
        """What the live index holds (articles by path, with their hashes), None when there is none
        or it cannot be built on (then the build is a full one)."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    def begin(self, model: str, dimension: int, chunking: dict[str, int | str], *, incremental: bool) -> Manifest:
        """Starts the new state: the live one to edit when incremental, else empty."""
        ...

    def remove_article(self, path: str) -> None: ...

    def add_article(
        self, article: Article, chunks: list[Chunk], vectors: np.ndarray, sentences: Sequence[ChunkSentences] = ()
    ) -> None: ...

    def write_bm25(self) -> None:
        """Brings the lexical index up to date with the articles written so far."""
        ...

    def commit(self) -> str:
        """Makes the new state live; returns the name of its generation."""
        ...
