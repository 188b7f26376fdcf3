"""The library entry point: open an index, search it, answer from it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np

from index.embedder import Embedder, SentenceTransformerEmbedder
from index.builder import IndexBuilder
from index.folder import IndexReader, current_generation
from retrieval.answer import AnswerComposer
from retrieval.records import Answer, Hit

Mode = Literal["dense", "bm25", "hybrid"]
MODES = ("dense", "bm25", "hybrid")


class Retriever:
    """Finds passages for a question and builds the cited answer.

    >>> retriever = Retriever.open("data/index")            # doctest: +SKIP
    >>> retriever.answer("when does Scholz visit Kyiv?").answer  # doctest: +SKIP
    """

    def __init__(self, reader: IndexReader, embedder: Embedder, *, top_k: int = 5,
                 min_confidence: float = 0.35, mode: Mode = "dense") -> None:
        if top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {top_k}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.reader = reader
        self.embedder = embedder
        self.top_k = top_k
        self.mode = mode
        self.composer = AnswerComposer(embedder, min_confidence=min_confidence)

    @classmethod
    def open(cls, index_dir: str | Path, *, embedder: Embedder | None = None, settings=None,  # noqa: ANN001
             **options) -> Retriever:
        """Opens the index in ``index_dir``; the embedder must be the model the index was built with."""
        if settings is not None:
            options = {"top_k": settings.top_k, "min_confidence": settings.min_confidence,
                       "mode": settings.search_mode} | options
            embedder = embedder or SentenceTransformerEmbedder(settings.model_name, settings.batch_size)
        reader = IndexReader.open(Path(index_dir))
        embedder = embedder or SentenceTransformerEmbedder(reader.manifest.model)
        reader.manifest.check_compatible(embedder.name, None)
        return cls(reader, embedder, **options)

    @classmethod
    def from_settings(cls, settings, *, embedder: Embedder | None = None, build_if_missing: bool = True,  # noqa: ANN001
                      show_progress_bar: bool = False) -> Retriever:
        """Opens the configured index, building it from the seeds first when there is none yet."""
        embedder = embedder or SentenceTransformerEmbedder(settings.model_name, settings.batch_size)
        if build_if_missing and current_generation(Path(settings.index_dir)) is None:
            IndexBuilder.from_settings(settings, embedder).build(
                settings.seeds_dir, settings.index_dir, show_progress_bar=show_progress_bar)
        return cls.open(settings.index_dir, embedder=embedder, settings=settings)

    @property
    def article_count(self) -> int:
        return len(self.reader.manifest.articles)

    def search(self, question: str, k: int | None = None, mode: Mode | None = None) -> list[Hit]:
        """The ``k`` passages most likely to answer ``question``, best first."""
        return self._search(question, k or self.top_k, mode or self.mode, None)[0]

    def answer(self, question: str, history: list[str] | None = None, k: int | None = None) -> Answer:
        """A short answer with numbered citations, or a decline when the articles do not say."""
        question = question.strip()
        if not question:
            raise ValueError("the question is empty; ask something, e.g. 'when does Scholz visit Kyiv?'")
        hits, query_vector = self._search(question, k or self.top_k, self.mode, None)
        return self.composer.compose(question, hits, query_vector)

    def _search(self, question: str, k: int, mode: Mode, query_vector: np.ndarray | None) -> tuple[list[Hit], np.ndarray]:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if query_vector is None:
            query_vector = self.embedder.embed_batch([question])
        scores, ids = self.reader.vectors.search(query_vector, k)
        pairs = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        return self._hits(pairs), query_vector

    def _hits(self, pairs: list[tuple[int, float]]) -> list[Hit]:
        chunks = self.reader.chunks.chunks([i for i, _ in pairs])
        articles = self.reader.chunks.articles(c.article_id for c in chunks.values())
        return [Hit(chunks[i], articles[chunks[i].article_id], score, rank)
                for rank, (i, score) in enumerate(pairs, 1) if i in chunks]

    def close(self) -> None:
        self.reader.close()
