"""The sparse half of the index: BM25 over every chunk (title + text), saved beside the vectors.

It lives in index/ because the builder writes it into each generation (index never imports
retrieval). bm25s has no incremental update, so each generation rebuilds it from the chunk
store; that takes about a second per 10,000 chunks, far less than embedding the changed ones.

bm25s builds and saves the index; serving reads the saved files itself. bm25s stores every
(word, chunk) BM25 score precomputed, so a query is a sum of a few slices read from disk, and
importing bm25s would bring SciPy into every serving process (about 25 MB and a second of
start-up) for nothing it calls. Its tokenizer is the few lines below; a test checks that both
tokenize and score alike.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import Stemmer

from newsbot.index.npyfile import NpyFile

if TYPE_CHECKING:
    import bm25s

BM25_DIR = "bm25"
CHUNK_IDS = "chunk_ids.npy"
# bm25s's saved files (bm25s.BM25.save's default names).
_PARAMS, _VOCAB = "params.index.json", "vocab.index.json"
_ARRAYS = {"data": "data.csc.index.npy", "indices": "indices.csc.index.npy", "indptr": "indptr.csc.index.npy"}
# Variants that add a score for every word a chunk lacks, which the precomputed sums leave out.
_NEEDS_NONOCCURRENCE = ("bm25l", "bm25+")

# bm25s's English stop words (bm25s.stopwords.STOPWORDS_EN) and its token pattern, lower-cased.
STOPWORDS_EN = (
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not",
    "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was",
    "will", "with",
)  # fmt: skip
_STOP = frozenset(STOPWORDS_EN)
# A word is two or more word characters: "almaz-antey" is two words, "putin's" is "putin". Answer
# scoring (retrieval/text.py) reads words with this same pattern, so every idf it looks up exists.
TOKEN = re.compile(r"(?u)\b\w\w+\b")
_stemmer = Stemmer.Stemmer("english")


def stems(texts: list[str]) -> list[list[str]]:
    """The words BM25 counts in each text, in order: lower case, stop words out, Snowball stems."""
    return [_stemmer.stemWords([w for w in TOKEN.findall(text.lower()) if w not in _STOP]) for text in texts]


@dataclass(frozen=True, slots=True)
class SparseHits:
    """Chunk ids and their scores (BM25; or cosine, from a dense search), best first."""

    ids: np.ndarray
    scores: np.ndarray


class _Held:
    """Postings built in this process, read as a loaded index's are read from disk (NpyFile)."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    def slice(self, start: int, end: int) -> np.ndarray:
        return self.values[start:end]

    def close(self) -> None:
        """Nothing is open."""


Postings = NpyFile | _Held


class BM25Index:
    """BM25 over chunks: row ``i`` of the postings is chunk ``chunk_ids[i]``.

    ``vocab`` maps a stem to its row in ``indptr``; ``data``/``indices`` hold, per stem, the
    chunks that have it and their precomputed scores (bm25s's compressed layout), in memory when
    built here, on disk when loaded.
    """

    def __init__(
        self,
        vocab: dict[str, int],
        data: Postings,
        indices: Postings,
        indptr: np.ndarray,
        chunk_ids: np.ndarray,
        model: bm25s.BM25 | None = None,
    ) -> None:
        vocab = {word: row for word, row in vocab.items() if word}  # bm25s lists "" too, with no postings
        if len(indptr) != len(vocab) + 1:
            raise ValueError(f"indptr has {len(indptr)} entries for {len(vocab)} words; it needs one more than words")
        if vocab and max(vocab.values()) >= len(vocab):
            raise ValueError("the vocabulary's rows must be 0 to words - 1")
        self.vocab = vocab
        self.data, self.indices, self.indptr = data, indices, indptr
        self.chunk_ids = np.asarray(chunk_ids, dtype=np.int64)
        self._model = model  # the bm25s index this was built from (what save writes); None when loaded

    def __len__(self) -> int:
        return len(self.chunk_ids)

    @classmethod
    def build(cls, chunk_ids: list[int], texts: list[str]) -> BM25Index:
        import bm25s

        if len(chunk_ids) != len(texts):
            raise ValueError(f"{len(chunk_ids)} chunk ids but {len(texts)} texts")
        model = bm25s.BM25()
        if not texts:
            empty = np.zeros(0, dtype=np.float32)
            return cls(
                {}, _Held(empty), _Held(empty.astype(np.int32)), np.zeros(1, np.int32), np.zeros(0, np.int64), model
            )
        tokens = stems(texts)
        model.index(tokens, show_progress=False)
        scores = model.scores
        return cls(
            dict(model.vocab_dict),
            _Held(scores["data"]),
            _Held(scores["indices"]),
            scores["indptr"],
            np.asarray(chunk_ids),
            model,
        )

    @classmethod
    def from_chunk_db(cls, db: sqlite3.Connection) -> BM25Index:
        """Every chunk of a chunk store (open connection), each prefixed by its article's title."""
        rows = db.execute(
            "SELECT c.id, a.title, c.text FROM chunks c JOIN articles a ON a.id = c.article_id ORDER BY c.id"
        ).fetchall()
        return cls.build([r[0] for r in rows], [f"{r[1]}\n{r[2]}" for r in rows])

    def save(self, folder: Path) -> None:
        if self._model is None:
            raise ValueError("only a BM25 index built here can be saved; a loaded one is in its folder already")
        target = Path(folder) / BM25_DIR
        target.mkdir(parents=True, exist_ok=True)
        self._model.save(str(target), show_progress=False)
        np.save(target / CHUNK_IDS, self.chunk_ids)

    @classmethod
    def load(cls, folder: Path) -> BM25Index | None:
        """The BM25 index saved in a generation folder, or None if that generation has none (or
        one of a bm25s variant this reader does not score)."""
        target = Path(folder) / BM25_DIR
        if not (target / CHUNK_IDS).is_file():
            return None
        params = json.loads((target / _PARAMS).read_text(encoding="utf-8"))
        if params.get("method") in _NEEDS_NONOCCURRENCE:
            return None  # the folder reader then builds one from the chunk store
        vocab = json.loads((target / _VOCAB).read_text(encoding="utf-8"))
        # Left on disk: a question reads only its words' postings (npyfile.py says why not mapped).
        data, indices = NpyFile(target / _ARRAYS["data"]), NpyFile(target / _ARRAYS["indices"])
        if len(data) != len(indices):
            raise ValueError(f"{target} has {len(data)} BM25 scores for {len(indices)} postings")
        return cls(vocab, data, indices, np.load(target / _ARRAYS["indptr"]), np.load(target / CHUNK_IDS))

    def close(self) -> None:
        """Close the postings files of a loaded index (a built one holds nothing open)."""
        self.data.close()
        self.indices.close()

    def _postings(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """The chunks (rows of ``chunk_ids``) having the word of vocabulary row ``row``, and its scores there."""
        start, end = int(self.indptr[row]), int(self.indptr[row + 1])
        return self.indices.slice(start, end), self.data.slice(start, end)

    def idf(self, stems: list[str]) -> np.ndarray:
        """BM25's inverse document frequency of each (stemmed) word; 0 for a word no chunk has."""
        n = max(len(self.chunk_ids), 1)
        out = np.zeros(len(stems), dtype=np.float32)
        for i, word in enumerate(stems):
            row = self.vocab.get(word)
            if row is not None:
                df = int(self.indptr[row + 1] - self.indptr[row])
                out[i] = np.log(1 + (n - df + 0.5) / (df + 0.5))
        return out

    def scores(self, words: list[str]) -> np.ndarray:
        """Every chunk's BM25 score for these stems (a word given twice counts twice)."""
        out = np.zeros(len(self.chunk_ids), dtype=np.float32)
        for word in words:
            row = self.vocab.get(word)
            if row is not None:
                np.add.at(out, *self._postings(row))
        return out

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> SparseHits:
        """Top ``k`` chunks; ``allowed`` (chunk ids) restricts the ranking to those chunks."""
        words = stems([query])[0]
        if not len(self.chunk_ids) or not words:
            return SparseHits(np.zeros(0, np.int64), np.zeros(0, np.float32))
        scores = self.scores(words)
        if allowed is not None:
            mask = np.isin(self.chunk_ids, allowed)
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return SparseHits(self.chunk_ids[top], scores[top].astype(np.float32))
