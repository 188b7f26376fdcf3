"""The sparse half of the index: BM25 over every chunk (title + text), saved beside the vectors.

It lives in index/ because the builder writes it into each generation (index never imports
retrieval). bm25s has no incremental update, so each generation rebuilds it from the chunk
store; that takes about a second per 10,000 chunks, far less than embedding the changed ones.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

BM25_DIR = "bm25"
CHUNK_IDS = "chunk_ids.npy"

_stemmer = Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> bm25s.tokenization.Tokenized:
    return bm25s.tokenize(texts, stopwords=STOPWORDS_EN, stemmer=_stemmer.stemWords, show_progress=False)


def stems(texts: list[str]) -> list[list[str]]:
    """The words BM25 counts in each text, in order, as strings (the same tokens as ``tokenize``)."""
    if not texts:
        return []
    return bm25s.tokenize(
        texts, stopwords=STOPWORDS_EN, stemmer=_stemmer.stemWords, show_progress=False, return_ids=False
    )


@dataclass(frozen=True, slots=True)
class SparseHits:
    """Chunk ids and their BM25 scores, best first."""

    ids: np.ndarray
    scores: np.ndarray


class BM25Index:
    """bm25s over chunks; row ``i`` of the bm25s index is chunk ``chunk_ids[i]``."""

    def __init__(self, model: bm25s.BM25, chunk_ids: np.ndarray) -> None:
        self.model = model
        self.chunk_ids = np.asarray(chunk_ids, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.chunk_ids)

    @classmethod
    def build(cls, chunk_ids: list[int], texts: list[str]) -> BM25Index:
        if len(chunk_ids) != len(texts):
            raise ValueError(f"{len(chunk_ids)} chunk ids but {len(texts)} texts")
        model = bm25s.BM25()
        if texts:
            model.index(tokenize(texts), show_progress=False)
        return cls(model, np.asarray(chunk_ids, dtype=np.int64))

    @classmethod
    def from_chunk_db(cls, db: sqlite3.Connection) -> BM25Index:
        """Every chunk of a chunk store (open connection), each prefixed by its article's title."""
        rows = db.execute(
            "SELECT c.id, a.title, c.text FROM chunks c JOIN articles a ON a.id = c.article_id ORDER BY c.id"
        ).fetchall()
        return cls.build([r[0] for r in rows], [f"{r[1]}\n{r[2]}" for r in rows])

    def save(self, folder: Path) -> None:
        target = Path(folder) / BM25_DIR
        target.mkdir(parents=True, exist_ok=True)
        self.model.save(str(target), show_progress=False)
        np.save(target / CHUNK_IDS, self.chunk_ids)

    @classmethod
    def load(cls, folder: Path) -> BM25Index | None:
        """The BM25 index saved in a generation folder, or None if that generation has none."""
        target = Path(folder) / BM25_DIR
        if not (target / CHUNK_IDS).is_file():
            return None
        # Mapped, not read: a question touches only its words' postings, so a large index costs
        # the serving process little memory.
        model = bm25s.BM25.load(str(target), mmap=True)
        # Plain arrays over the same mapping: slicing np.memmap builds a memmap object each time,
        # which made a search a quarter slower.
        model.scores = {k: np.asarray(v) if isinstance(v, np.memmap) else v for k, v in model.scores.items()}
        return cls(model, np.load(target / CHUNK_IDS))

    def idf(self, stems: list[str]) -> np.ndarray:
        """BM25's inverse document frequency of each (stemmed) word; 0 for a word no chunk has."""
        vocab, indptr = self.model.vocab_dict, self.model.scores["indptr"]
        n = max(len(self.chunk_ids), 1)
        out = np.zeros(len(stems), dtype=np.float32)
        for i, word in enumerate(stems):
            row = vocab.get(word)
            if row is not None:
                df = int(indptr[row + 1] - indptr[row])
                out[i] = np.log(1 + (n - df + 0.5) / (df + 0.5))
        return out

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> SparseHits:
        """Top ``k`` chunks; ``allowed`` (chunk ids) restricts the ranking to those chunks."""
        if not len(self.chunk_ids):
            return SparseHits(np.zeros(0, np.int64), np.zeros(0, np.float32))
        tokens = tokenize([query])
        vocab_ids = tokens.ids[0]
        if not vocab_ids:
            return SparseHits(np.zeros(0, np.int64), np.zeros(0, np.float32))
        inverse = {i: w for w, i in tokens.vocab.items()}
        words = [inverse[i] for i in vocab_ids]
        scores = self.model.get_scores(words)
        if allowed is not None:
            mask = np.isin(self.chunk_ids, allowed)
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return SparseHits(self.chunk_ids[top], scores[top].astype(np.float32))
