"""ANN recall and latency on real text: every corpus in the repository in one index of real chunk
vectors, queried with the eval sets' real questions, against exact search.

The corpora are news_qa's (corpora/news plus the seed article), covidqa's and xquad_en's. Each is
indexed the way `newsbot eval` indexes it, in the same cache (data/eval-cache, keyed by the
corpus's content), so the embeddings are computed once and shared with eval; a rerun only reads
the vectors back. Synthetic vectors (bench/corpus.py) never enter these figures: noisy copies
of a few vectors make recall rise with size, which real data does not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from newsbot.bench.corpus import IndexedCorpus
from newsbot.bench.records import BenchReport, Row
from newsbot.bench.timing import Percentiles, time_each
from newsbot.index.records import Article, Chunk, ChunkSentences
from newsbot.index.store import ANN_KINDS, AnnKind, build_ann, ivf_lists, single_thread_search

if TYPE_CHECKING:
    import faiss

    from newsbot.config.settings import Settings
    from newsbot.index.embedder import Embedder

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "corpora" / "eval"
CACHE = ROOT / "data" / "eval-cache"
REAL_SETS = ("news_qa", "covidqa", "xquad_en")
NPROBES = (1, 4, 8, 16, 32, 64, 96, 128, 192, 256)
EF_SEARCH = (32, 64, 128, 192, 256, 384)
LATENCY_QUERIES = 300  # timed one at a time; recall uses every question
RECALL_TARGET = 0.98


def real_questions(limit: int | None = None, sets: Sequence[str] = REAL_SETS, root: Path = EVAL) -> list[str]:
    """The eval sets' questions (answerable and not), in file order, or ``limit`` spread over them."""
    from newsbot.retrieval.evaluate import load_dataset

    questions: list[str] = []
    for name in sets:
        dataset = load_dataset(root / name)
        questions += [q.question for q in (*dataset.queries, *dataset.unanswerable)]
    if limit is not None and limit < len(questions):
        questions = [questions[int(i * len(questions) / limit)] for i in range(limit)]
    return questions


@dataclass(frozen=True, slots=True)
class RealVectors:
    """The chunk vectors of every real corpus, stacked; ``counts`` says how many came from each."""

    vectors: np.ndarray
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class RealSets:
    """Where the question sets are and which to use, and where their indexes are cached."""

    root: Path = EVAL
    sets: tuple[str, ...] = REAL_SETS
    cache: Path = CACHE


@dataclass(frozen=True, slots=True)
class RealCorpus:
    """Every real corpus's articles, chunks, vectors and sentences in one (chunk ids renumbered
    from 0, paths under the set's name); ``counts`` says how many chunks came from each set."""

    corpus: IndexedCorpus
    counts: dict[str, int]


def real_corpus(
    settings: Settings, embedder: Embedder, where: RealSets, progress: Callable[[str], None] = lambda _: None
) -> RealCorpus:
    """Indexes each real corpus into the eval cache (nothing is embedded when it is there already)
    and reads back its records, exact vectors included."""
    from newsbot.bench.corpus import load_indexed

    parts = {name: load_indexed(cached_index(name, settings, embedder, where, progress).index) for name in where.sets}
    return RealCorpus(_merged(parts), {name: len(part.chunks) for name, part in parts.items()})


@dataclass(frozen=True, slots=True)
class CachedIndex:
    """A question set's corpus as `newsbot eval` indexes it: its seeds folder and index folder."""

    seeds: Path
    index: Path


def cached_index(
    name: str, settings: Settings, embedder: Embedder, where: RealSets, progress: Callable[[str], None] = lambda _: None
) -> CachedIndex:
    """The set's corpus indexed in the eval cache (nothing is embedded when it is there already)."""
    from newsbot.index.builder import IndexBuilder
    from newsbot.retrieval.evaluate import cache_folder, load_dataset

    folder = cache_folder(load_dataset(where.root / name), where.cache)
    built = IndexBuilder.from_settings(settings, embedder).build(folder / "seeds", folder / "index")
    progress(f"{name}: {built.summary()}")
    return CachedIndex(folder / "seeds", folder / "index")


def _merged(parts: dict[str, IndexedCorpus]) -> IndexedCorpus:
    articles: list[Article] = []
    chunks: list[Chunk] = []
    sentences: list[ChunkSentences] = []
    for name, part in parts.items():
        renamed: dict[str, str] = {}
        for a in part.articles:  # the sets' corpora name their articles alike: each gets its own folder
            articles.append(
                Article(title=a.title, text=a.text, path=f"{name}/{a.path}", date=a.date, source=a.source, url=a.url)
            )
            renamed[a.id] = articles[-1].id
        for c, s in zip(part.chunks, part.sentences, strict=True):
            new_id = len(chunks)
            chunks.append(replace(c, id=new_id, article_id=renamed[c.article_id]))
            sentences.append(replace(s, chunk_id=new_id))
    vectors = np.vstack([part.vectors for part in parts.values()]) if parts else np.zeros((0, 0), np.float32)
    return IndexedCorpus(
        articles, chunks, np.ascontiguousarray(vectors, np.float32), [a.title for a in articles], sentences
    )


def real_vectors(
    settings: Settings, embedder: Embedder, where: RealSets, progress: Callable[[str], None] = lambda _: None
) -> RealVectors:
    """The chunk vectors of ``real_corpus``."""
    real = real_corpus(settings, embedder, where, progress)
    return RealVectors(real.corpus.vectors, real.counts)


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of each query's true top-k that the approximate search found (empty slots, id
    -1, are not results: an index smaller than k has fewer)."""
    shares = []
    for f, t in zip(found, truth, strict=True):
        true = set(t[t >= 0].tolist())
        shares.append(len(true & set(f.tolist())) / len(true) if true else 1.0)
    return float(np.mean(shares))


def _latency(index: faiss.Index, queries: np.ndarray) -> Percentiles:
    rows = [q[None, :] for q in queries[:LATENCY_QUERIES]]
    return time_each(lambda q: index.search(q, 10), rows)


def bench_real_recall(
    report: BenchReport,
    settings: Settings,
    embedder: Embedder,
    questions_embedder: Embedder,
    *,
    limit: int | None = None,
    where: RealSets = RealSets(),
    kinds: tuple[AnnKind, ...] = ANN_KINDS,
    progress: Callable[[str], None] = lambda _: None,
) -> None:
    """Recall@10 and latency of each ANN kind over a range of nprobe / efSearch, against exact
    search, on every real chunk vector; ``embedder`` indexes (when the cache lacks a corpus),
    ``questions_embedder`` embeds the questions (the ONNX export, as serving does)."""
    import faiss

    single_thread_search()  # as serving searches: one question at a time, one thread
    real = real_vectors(settings, embedder, where, progress)
    questions = real_questions(limit, where.sets, where.root)
    queries = questions_embedder.embed_batch(questions, batch_size=64)
    n = len(real.vectors)
    exact = faiss.IndexFlatIP(real.vectors.shape[1])
    exact.add(real.vectors)
    truth = exact.search(queries, 10)[1]
    flat = _latency(exact, queries)
    sources = ", ".join(f"{k} {v:,}" for k, v in real.counts.items())
    report.add(
        Row(
            "recall (real)",
            f"flat (exact) search p50 at {n:,} real chunks",
            round(flat.p50_ms, 3),
            "ms",
            note=f"p99 {flat.p99_ms:.2f} ms; chunks: {sources}; {len(questions)} real questions",
        )
    )
    ids = np.arange(n, dtype=np.int64)
    for kind in kinds:
        started = time.perf_counter()
        index = build_ann(kind, real.vectors, ids)
        built = time.perf_counter() - started
        default = _default_param(kind, index)
        params = EF_SEARCH if kind == "hnsw" else tuple(p for p in NPROBES if p <= ivf_lists(n))
        for param in sorted({*params, default}):
            _set_param(kind, index, param)
            recall = recall_at(index.search(queries, 10)[1], truth)
            lat = _latency(index, queries)
            name = "efSearch" if kind == "hnsw" else "nprobe"
            is_default = param == default
            report.add(
                Row(
                    "recall (real)",
                    f"{kind} {name} {param}: recall@10 vs exact at {n:,} real chunks",
                    round(recall, 4),
                    "recall",
                    target=f">= {RECALL_TARGET} at the default {name}" if is_default else None,
                    met=recall >= RECALL_TARGET if is_default else None,
                    note=f"p50 {lat.p50_ms:.3f} ms, p99 {lat.p99_ms:.2f} ms (flat p50 {flat.p50_ms:.3f} ms); "
                    f"built in {built:.1f} s" + ("; the default" if is_default else ""),
                )
            )
        _set_param(kind, index, default)
        del index


def _default_param(kind: AnnKind, index: faiss.Index) -> int:
    import faiss

    outer: Any = index  # FAISS's stubs type every index as the base class
    if kind == "hnsw":  # the graph sits inside an IDMap
        graph: Any = faiss.downcast_index(outer.index)
        return int(graph.hnsw.efSearch)
    return int(outer.nprobe)


def _set_param(kind: AnnKind, index: faiss.Index, value: int) -> None:
    import faiss

    faiss.ParameterSpace().set_index_parameter(index, "efSearch" if kind == "hnsw" else "nprobe", value)
