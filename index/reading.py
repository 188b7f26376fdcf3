"""The reader side of an index, as the retriever sees it: small protocols, one per question asked.

Each backend (FAISS + SQLite + bm25s in a folder, or PostgreSQL + pgvector) implements them; the
retriever and the answer code only ever hold these, so they never know which backend serves them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np

from newsbot.index.bm25 import SparseHits
from newsbot.index.records import ArticleInfo, Chunk, ChunkSentences


class ChunkLookup(Protocol):
    """Chunks, their stored sentences and signatures, and articles, by id."""

    def chunks(self, ids: Sequence[int]) -> dict[int, Chunk]: ...

    def sentences(self, ids: Sequence[int]) -> dict[int, ChunkSentences]: ...

    def signatures(self, ids: Sequence[int]) -> dict[int, np.ndarray]: ...

    def articles(self, ids: Iterable[str]) -> dict[str, ArticleInfo]: ...

    def article_text(self, article_id: str) -> str: ...

    def all_articles(self) -> list[ArticleInfo]: ...

    def chunks_of(self, article_ids: Sequence[str]) -> np.ndarray:
        """Ids (int64) of these articles' chunks."""
        ...

    def newest_date(self) -> date | None:
        """The date of the newest dated article (what "last week" is relative to), None if none is dated."""
        ...

    def dated_between(self, start: date, end: date) -> np.ndarray:
        """Ids (int64) of the chunks whose article is dated ``start`` to ``end``, both included."""
        ...


class LexicalSearch(Protocol):
    """Word-based search (BM25 or the nearest a backend has), and the word weights it uses."""

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> SparseHits: ...

    def idf(self, stems: list[str]) -> np.ndarray:
        """Inverse document frequency of each stemmed word; 0 for a word no chunk has."""
        ...


class VectorSearch(Protocol):
    """Nearest chunk vectors by inner product (the vectors are unit length: cosine)."""

    def __len__(self) -> int: ...

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each (len(queries), k); missing slots have id -1; ``allowed`` restricts
        the search to those chunk ids without missing any of them."""
        ...


@dataclass(frozen=True, slots=True)
class Searched:
    """One question's two searches: each one's chunk ids and scores, best first (None: not asked)."""

    dense: SparseHits | None
    lexical: SparseHits | None


class IndexSource(Protocol):
    """One readable state of an index: what a retriever opens and answers from."""

    @property
    def model(self) -> str:
        """The embedding model the index was built with."""
        ...

    @property
    def dimension(self) -> int: ...

    @property
    def chunks(self) -> ChunkLookup: ...

    @property
    def vectors(self) -> VectorSearch: ...

    @property
    def lexical(self) -> LexicalSearch: ...

    @property
    def article_count(self) -> int: ...

    @property
    def chunk_count(self) -> int: ...

    def search(
        self, query_vector: np.ndarray | None, question: str | None, k: int, allowed: np.ndarray | None = None
    ) -> Searched:
        """The dense search for ``query_vector`` (one row) and the lexical one for ``question``, k
        hits each, among ``allowed`` chunk ids (None: all); None skips that search. A backend may
        run the two at once; ``one_after_other`` is the plain way."""
        ...

    def generation(self) -> str:
        """The build this reader was opened on (no I/O)."""
        ...

    def stored_generation(self) -> str:
        """The newest finished build in storage now (cheap: a bot may poll it). When it differs
        from ``generation()``, a build has finished since: open a new reader to serve it."""
        ...

    def close(self) -> None: ...


def dense_hits(vectors: VectorSearch, query_vector: np.ndarray, k: int, allowed: np.ndarray | None) -> SparseHits:
    """``vectors``'s hits for one query vector, empty slots (id -1) left out."""
    scores, ids = vectors.search(query_vector, k, allowed)
    kept = ids[0] >= 0
    return SparseHits(ids[0][kept], scores[0][kept])


def one_after_other(
    source: IndexSource, query_vector: np.ndarray | None, question: str | None, k: int, allowed: np.ndarray | None
) -> Searched:
    """``IndexSource.search`` done in the calling thread, the dense search first."""
    dense = None
    if query_vector is not None:
        empty = SparseHits(np.zeros(0, np.int64), np.zeros(0, np.float32))
        dense = dense_hits(source.vectors, query_vector, k, allowed) if len(source.vectors) else empty
    lexical = source.lexical.search(question, k, allowed) if question is not None else None
    return Searched(dense, lexical)
