"""The library entry point: open an index, search it (dense, BM25 or hybrid), answer from it."""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from cachetools import LRUCache

from newsbot.index import backends
from newsbot.index.builder import IndexBuilder
from newsbot.index.embedder import Embedder, SentenceTransformerEmbedder
from newsbot.index.folder import IndexReader
from newsbot.index.manifest import REBUILD_HINT, IndexMismatch
from newsbot.index.minhash import signature, similarity
from newsbot.index.reading import IndexSource
from newsbot.index.store import single_thread_search
from newsbot.retrieval.answer import AnswerComposer
from newsbot.retrieval.dates import DateWindow, find_date_window
from newsbot.retrieval.followup import resolve_followup
from newsbot.retrieval.fusion import reciprocal_rank_fusion, score_fusion
from newsbot.retrieval.records import Answer, Hit

if TYPE_CHECKING:
    from newsbot.config.settings import Settings

Mode = Literal["dense", "bm25", "hybrid"]
MODES = ("dense", "bm25", "hybrid")
FUSIONS = ("score", "rrf")
# Passages ranked before cutting to k: enough for article-level recall@10 and for collapsing.
POOL = 50
# Candidates each side brings to hybrid fusion when deeper than the pool (settings: fusion_depth,
# fitted on the dev halves by scripts/fit_fusion.py: 100 and 200 scored within a few questions of
# 50, so the cheapest stays).
FUSION_DEPTH = 50
# Two passages from different articles sharing this much of their wording are one statement.
NEAR_DUPLICATE = 0.8
# In-window passages of a date the question does not clearly ask for are lifted by this share of
# the ranking's score spread (settings: date_boost; why this value: README, Answers worth trusting).
DATE_BOOST = 0.2
# A question as long as users' longer ones, so the warm-up batch is shaped like real ones.
WARM_UP_QUESTION = (
    "what did the minister say about the agreement on energy prices that the leaders reached at the summit?"
)


@dataclass(frozen=True, slots=True)
class Candidates:
    """What fusion reads for one question: each side's (chunk id, score), best first, the date
    window the question set, and the in-window chunk ids to lift by ``date_boost`` (None: none)."""

    dense: list[tuple[int, float]]
    lexical: list[tuple[int, float]]
    window: DateWindow | None
    preferred: np.ndarray | None


@dataclass(frozen=True, slots=True)
class Ranking:
    """What one search found: passages best first, and the date window the question set."""

    hits: list[Hit]
    query_vector: np.ndarray
    window: DateWindow | None


def lift_preferred(pairs: list[tuple[int, float]], preferred: np.ndarray, boost: float) -> list[tuple[int, float]]:
    """``pairs`` re-ranked with ``boost`` times their score spread added to the preferred ids'.

    In units of the spread, the boost means the same for cosine, BM25 and fused scores.
    """
    if not pairs or boost == 0:
        return pairs
    scores = [s for _, s in pairs]
    lift = boost * ((max(scores) - min(scores)) or 1.0)
    inside = np.isin(np.fromiter((i for i, _ in pairs), np.int64, len(pairs)), preferred)
    lifted = [(i, s + lift if hit else s) for (i, s), hit in zip(pairs, inside.tolist(), strict=True)]
    return sorted(lifted, key=lambda pair: -pair[1])


class Retriever:
    """Finds passages for a question and builds the cited answer.

    >>> retriever = Retriever.open("data/index")            # doctest: +SKIP
    >>> retriever.answer("when does Scholz visit Kyiv?").answer  # doctest: +SKIP
    """

    def __init__(
        self,
        reader: IndexSource,
        embedder: Embedder,
        *,
        top_k: int = 10,
        min_confidence: float | None = None,
        bold_confidence: float | None = None,
        mode: Mode = "hybrid",
        fusion: str = "score",
        rrf_k: int = 60,
        dense_weight: float = 0.4,
        bm25_weight: float = 0.6,
        fusion_depth: int = FUSION_DEPTH,
        max_citations: int = 3,
        question_cache: int = 256,
        date_boost: float = DATE_BOOST,
    ) -> None:
        if top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {top_k}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if question_cache < 0:
            raise ValueError(f"question_cache must be 0 or more questions, got {question_cache}")
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}, got {fusion!r}")
        if rrf_k < 1:
            raise ValueError(f"rrf_k must be at least 1, got {rrf_k}")
        if dense_weight < 0 or bm25_weight < 0 or dense_weight + bm25_weight == 0:
            raise ValueError(
                f"dense_weight and bm25_weight must be 0 or more and not both 0, got {dense_weight} and {bm25_weight}"
            )
        if fusion_depth < 1:
            raise ValueError(f"fusion_depth must be at least 1 candidate, got {fusion_depth}")
        if not 0 <= date_boost <= 1:
            raise ValueError(f"date_boost must be from 0 to 1 (a share of the score spread), got {date_boost}")
        single_thread_search()
        self.reader = reader
        self.embedder = embedder
        self.top_k = top_k
        self.mode = mode
        self.fusion = fusion
        self.rrf_k = rrf_k
        self.weights = (dense_weight, bm25_weight)
        self.fusion_depth = fusion_depth
        self.date_boost = date_boost
        # Indexes written before BM25 was part of a generation get one built in memory.
        self.composer = AnswerComposer(
            embedder,
            min_confidence=min_confidence,
            bold_confidence=bold_confidence,
            max_citations=max_citations,
            sentences=reader.chunks.sentences,
            idf=reader.lexical.idf,
            chunk_count=reader.chunk_count,
        )
        self.newest = reader.chunks.newest_date()
        # Off (None) at 0: benchmarks time every question's embedding.
        self._question_vectors: LRUCache[str, np.ndarray] | None = LRUCache(question_cache) if question_cache else None
        self.question_cache = question_cache
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls,
        index_dir: str | Path,
        *,
        embedder: Embedder | None = None,
        settings: Settings | None = None,
        **options: Any,
    ) -> Retriever:
        """Opens the index folder ``index_dir``; the embedder must be the model the index was built with."""
        return cls.serve(IndexReader.open(Path(index_dir)), embedder=embedder, settings=settings, **options)

    @classmethod
    def serve(
        cls,
        source: IndexSource,
        *,
        embedder: Embedder | None = None,
        settings: Settings | None = None,
        **options: Any,
    ) -> Retriever:
        """A retriever over an opened index of any backend (see ``newsbot.index.backends``)."""
        if settings is not None:
            options = {
                "top_k": settings.top_k,
                "min_confidence": settings.min_confidence,
                "bold_confidence": settings.bold_confidence,
                "mode": settings.search_mode,
                "fusion": settings.fusion,
                "rrf_k": settings.rrf_k,
                "dense_weight": settings.dense_weight,
                "bm25_weight": settings.bm25_weight,
                "fusion_depth": settings.fusion_depth,
                "date_boost": settings.date_boost,
            } | options
            embedder = embedder or SentenceTransformerEmbedder(settings.model_name, settings.batch_size)
        embedder = embedder or SentenceTransformerEmbedder(source.model)
        if embedder.name != source.model:
            source.close()
            raise IndexMismatch(
                f"index was built with model {source.model!r} but settings ask for {embedder.name!r}; "
                f"set model_name back or {REBUILD_HINT}"
            )
        return cls(source, embedder, **options)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        build_if_missing: bool = True,
        show_progress_bar: bool = False,
    ) -> Retriever:
        """Opens the configured index (of the configured backend), building it from the seeds
        first when there is none yet."""
        embedder = embedder or SentenceTransformerEmbedder(settings.model_name, settings.batch_size)
        if build_if_missing and not backends.index_exists(settings):
            backends.build(
                IndexBuilder.from_settings(settings, embedder), settings, show_progress_bar=show_progress_bar
            )
        return cls.serve(backends.open_index(settings, model=embedder.name), embedder=embedder, settings=settings)

    @property
    def article_count(self) -> int:
        return self.reader.article_count

    def search(self, question: str, k: int | None = None, mode: Mode | None = None) -> list[Hit]:
        """The ``k`` passages most likely to answer ``question``, best first.

        Date words in the question put articles of those dates first ("in March 2022") or, when
        the question clearly asks for them ("on 12 February", "articles from last week"), keep
        only those.
        """
        return self.rank(question, mode or self.mode, k or self.top_k).hits[: k or self.top_k]

    def answer(
        self, question: str, history: list[Answer] | None = None, k: int | None = None, mode: Mode | None = None
    ) -> Answer:
        """A short answer with numbered citations, or a decline when the articles do not say.

        ``history`` holds the earlier turns' answers, oldest first; a short follow-up ("and when
        does he go to Moscow?") is resolved against the last of them.
        """
        return self.answer_ranked(question, history=history, k=k, mode=mode)[0]

    def answer_ranked(
        self,
        question: str,
        *,
        history: list[Answer] | None = None,
        k: int | None = None,
        mode: Mode | None = None,
        max_citations: int | None = None,
    ) -> tuple[Answer, list[Hit]]:
        """The answer and the whole passage ranking behind it (for evaluation and debugging)."""
        question = _asked(question)
        resolved = resolve_followup(question, history or [])
        return self._answer_ranked(question, resolved, None, k=k, mode=mode, max_citations=max_citations)

    def answer_many(self, questions: Sequence[str], histories: Sequence[list[Answer]] | None = None) -> list[Answer]:
        """``answer`` for several questions (each with its chat's history, if given), their
        embeddings made together by one ``embed_batch`` call: cheaper per question than one each."""
        if histories is not None and len(histories) != len(questions):
            raise ValueError(f"{len(questions)} questions but {len(histories)} histories; give one per question")
        asked = [_asked(q) for q in questions]
        resolved = [resolve_followup(q, h) for q, h in zip(asked, histories or [[]] * len(asked), strict=True)]
        vectors = self.embedder.embed_batch(resolved) if resolved else None
        return [
            self._answer_ranked(q, r, vectors[i : i + 1] if vectors is not None else None)[0]
            for i, (q, r) in enumerate(zip(asked, resolved, strict=True))
        ]

    def warm_up(self, batch: int = 16) -> None:
        """Pays an answer's one-time costs now rather than on the first questions: the model's lazy
        load, the runtime's first batch of ``batch`` questions (measured, loaded: ~0.3 s more for a
        worker's first batch of 16 than for its next; why was not found) and the answer path's
        lazily opened parts."""
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        self.answer_many([WARM_UP_QUESTION] * batch)

    def _answer_ranked(
        self,
        question: str,
        resolved: str,
        query_vector: np.ndarray | None,
        *,
        k: int | None = None,
        mode: Mode | None = None,
        max_citations: int | None = None,
    ) -> tuple[Answer, list[Hit]]:
        ranking = self.rank(resolved, mode or self.mode, k or self.top_k, query_vector=query_vector)
        window = ranking.window
        dates = f"{window.text}: {window.describe()}" if window is not None else None
        answer = self.composer.compose(
            resolved,
            ranking.hits[: k or self.top_k],
            ranking.query_vector,
            asked=question,
            date_filter=dates if window is not None and window.explicit else None,
            date_preferred=dates if window is not None and not window.explicit else None,
            max_citations=max_citations,
        )
        return answer, ranking.hits

    def answer_within(self, question: str, article_ids: Collection[str]) -> Answer:
        """The answer to ``question`` from these articles' passages alone (a followed topic meets
        new articles this way); the confidence is the same as for any answer."""
        ranking = self.rank(question, self.mode, self.top_k, within=self.chunks_of(article_ids))
        return self.composer.compose(question, ranking.hits[: self.top_k], ranking.query_vector)

    def chunks_of(self, article_ids: Collection[str]) -> np.ndarray:
        """The chunk ids of these articles (what ``rank(within=...)`` takes)."""
        return self.reader.chunks.chunks_of(list(article_ids))

    def article_ids(self) -> frozenset[str]:
        """Every article the index holds (what a rebuild is compared with to find the new ones)."""
        return frozenset(a.id for a in self.reader.chunks.all_articles())

    def rank(
        self,
        question: str,
        mode: Mode,
        k: int,
        within: np.ndarray | None = None,
        query_vector: np.ndarray | None = None,
    ) -> Ranking:
        """Passages best first; ``within`` (chunk ids) restricts the search to those chunks;
        ``query_vector``: the question's embedding when the caller has it already.

        A date the question clearly asks for (``DateWindow.explicit``) keeps only articles of
        those dates; any other date word searches everything and within the window, and lifts the
        in-window passages by ``date_boost`` of the ranking's score spread.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if query_vector is None:
            query_vector = self._embed_question(question)
        if within is not None and not len(within):
            return Ranking([], query_vector, None)
        pool = max(POOL, 4 * k)
        found = self.candidates(question, query_vector, mode, pool, within)
        pairs = self._fused(found, mode)
        if found.preferred is not None:
            pairs = lift_preferred(pairs, found.preferred, self.date_boost)
        return Ranking(self._collapse(self._hits(pairs[:pool])), query_vector, found.window)

    def candidates(
        self, question: str, query_vector: np.ndarray, mode: Mode, pool: int, within: np.ndarray | None = None
    ) -> Candidates:
        """Each side's passages for ``question`` before fusion, as ``rank`` gathers them (dates
        included); scripts/fit_fusion.py replays fusion on these."""
        window = find_date_window(question, self.newest) if self.newest else None
        in_window = self._allowed(window)
        if in_window is not None and within is not None:
            in_window = np.intersect1d(in_window, within)
        if in_window is not None and not len(in_window):
            window, in_window = None, None  # no article of those dates: rank them all rather than none
        # One side alone needs only the pool; fusion may read each side deeper (see FUSION_DEPTH).
        depth = max(pool, self.fusion_depth) if mode == "hybrid" else pool
        if window is not None and window.explicit:
            dense, lexical = self._searched(question, query_vector, mode, depth, in_window)
            return Candidates(dense, lexical, window, None)
        if window is not None and in_window is not None:
            # Searched within the window too, so no in-window passage is crowded out of the pool.
            dense, lexical = self._searched(question, query_vector, mode, depth, within, in_window)
            return Candidates(dense, lexical, window, in_window)
        dense, lexical = self._searched(question, query_vector, mode, depth, within)
        return Candidates(dense, lexical, None, None)

    def _searched(
        self, question: str, query_vector: np.ndarray, mode: Mode, depth: int, *allowed: np.ndarray | None
    ) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
        """(chunk id, score) best first, dense and BM25, of the passages found among each of
        ``allowed`` (None: all); a side the mode does not search is empty."""
        dense: dict[int, float] = {}
        sparse: dict[int, float] = {}
        for ids in allowed:
            # One call for both searches: a backend may run them at once (PostgreSQL does).
            found = self.reader.search(
                query_vector if mode != "bm25" else None, question if mode != "dense" else None, depth, ids
            )
            if found.dense is not None:
                dense.update(zip(found.dense.ids.tolist(), found.dense.scores.tolist(), strict=True))
            if found.lexical is not None:
                sparse.update(zip(found.lexical.ids.tolist(), found.lexical.scores.tolist(), strict=True))
        return sorted(dense.items(), key=lambda kv: -kv[1]), sorted(sparse.items(), key=lambda kv: -kv[1])

    def _fused(self, found: Candidates, mode: Mode) -> list[tuple[int, float]]:
        if mode != "hybrid":
            return found.dense if mode == "dense" else found.lexical
        fused = (
            score_fusion([found.dense, found.lexical], self.weights)
            if self.fusion == "score"
            else reciprocal_rank_fusion(
                [[i for i, _ in found.dense], [i for i, _ in found.lexical]], self.weights, self.rrf_k
            )
        )
        return [(r.id, r.score) for r in fused]

    def _embed_question(self, question: str) -> np.ndarray:
        # The same question is often searched again (another mode, a retry): embed it once.
        cache = self._question_vectors
        if cache is None:
            return self.embedder.embed_batch([question])
        with self._lock:  # cachetools caches are not thread-safe
            vector = cache.get(question)
        if vector is None:
            vector = self.embedder.embed_batch([question])
            with self._lock:
                cache[question] = vector
        return vector

    @property
    def chunk_count(self) -> int:
        return self.reader.chunk_count

    def _allowed(self, window: DateWindow | None) -> np.ndarray | None:
        if window is None:
            return None
        return self.reader.chunks.dated_between(window.start, window.end)

    def _hits(self, pairs: list[tuple[int, float]]) -> list[Hit]:
        chunks = self.reader.chunks.chunks([i for i, _ in pairs])
        articles = self.reader.chunks.articles(c.article_id for c in chunks.values())
        return [
            Hit(chunks[i], articles[chunks[i].article_id], score, rank)
            for rank, (i, score) in enumerate(pairs, 1)
            # A database backend answers each lookup from the latest build: a chunk whose article a
            # build removed between the two lookups is left out rather than half shown.
            if i in chunks and chunks[i].article_id in articles
        ]

    def _collapse(self, hits: list[Hit]) -> list[Hit]:
        """Near-identical passages of other articles fold into the first one, as "also in"."""
        if not hits:
            return []
        stored = self.reader.chunks.signatures([h.chunk.id for h in hits])
        # An index written before signatures were stored: worked out here from the text.
        same = similarity(
            np.stack([stored[h.chunk.id] if h.chunk.id in stored else signature(h.chunk.text) for h in hits])
        )
        kept: list[tuple[int, list]] = []
        for i, hit in enumerate(hits):
            for first, also in kept:
                if hits[first].article.id != hit.article.id and same[i, first] >= NEAR_DUPLICATE:
                    if all(a.id != hit.article.id for a in also):
                        also.append(hit.article)
                    break
            else:
                kept.append((i, []))
        return [
            Hit(hits[i].chunk, hits[i].article, hits[i].score, rank, tuple(also))
            for rank, (i, also) in enumerate(kept, 1)
        ]

    def close(self) -> None:
        self.reader.close()


def _asked(question: str) -> str:
    """The question without surrounding space; an empty one is refused."""
    question = question.strip()
    if not question:
        raise ValueError("the question is empty; ask something, e.g. 'when does Scholz visit Kyiv?'")
    return question
