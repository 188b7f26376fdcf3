"""Vector stores: a small protocol, and FAISS behind it."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, Self

import numpy as np

VECTORS = "vectors.faiss"


class VectorStore(Protocol):
    """What the index needs from a vector backend; FAISS is one, another can replace it."""

    dimension: int

    def __len__(self) -> int: ...

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def remove(self, ids: np.ndarray) -> int: ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each (len(queries), k); missing slots have id -1."""
        ...

    def save(self, folder: Path) -> list[str]:
        """Writes the store's files into ``folder``; returns their names."""
        ...

    @classmethod
    def load(cls, folder: Path, dimension: int) -> Self: ...


class FaissStore:
    """Exact inner-product search over unit vectors (cosine), with stable 64-bit chunk ids."""

    def __init__(self, dimension: int, index: object | None = None) -> None:
        import faiss

        if dimension <= 0:
            raise ValueError(f"dimension must be positive, got {dimension}")
        self.dimension = dimension
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dimension:
            raise ValueError(f"vectors must have shape (n, {self.dimension}), got {vectors.shape}")
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
        if len(ids):
            self.index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> int:
        if not len(ids):
            return 0
        return int(self.index.remove_ids(np.asarray(ids, dtype=np.int64)))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        k = max(1, min(k, len(self) or 1))
        scores, ids = self.index.search(queries, k)
        return scores, ids

    def save(self, folder: Path) -> list[str]:
        import faiss

        faiss.write_index(self.index, str(folder / VECTORS))
        return [VECTORS]

    @classmethod
    def load(cls, folder: Path, dimension: int) -> FaissStore:
        import faiss

        index = faiss.read_index(str(folder / VECTORS))
        if index.d != dimension:
            raise ValueError(f"{VECTORS} holds dimension {index.d}, manifest says {dimension}")
        return cls(dimension, index)
