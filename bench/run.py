"""One benchmark run: every figure of issues 5 and 12, newsbot and the bare tools side by side."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

import numpy as np

from newsbot.bench.realdata import REAL_SETS
from newsbot.bench.records import BenchReport, describe_machine

if TYPE_CHECKING:
    from newsbot.bench.botrun import BotSpec
    from newsbot.config.settings import Settings
    from newsbot.index.embedder import SentenceTransformerEmbedder

Section = Literal["indexing", "cold-start", "latency", "recall", "faiss", "bot", "postgres"]
SECTIONS: tuple[Section, ...] = get_args(Section)
# What a run measures unless told: postgres needs a server (`--backend postgres` adds it).
DEFAULT_SECTIONS: tuple[Section, ...] = tuple(s for s in SECTIONS if s != "postgres")


@dataclass(frozen=True, slots=True)
class BenchPlan:
    """How much to measure: --quick is a CI smoke run, the default is the full table."""

    quick: bool
    articles: int | None  # news articles to index (None: all of corpora/news)
    sizes: tuple[int, ...]  # replicated newsbot indexes: search, answer, memory
    vector_sizes: tuple[int, ...]  # FAISS-only, synthetic: latency and memory by size
    memory_at: int | None  # FAISS-only serving memory at this size, per index kind
    hnsw_max: int  # HNSW takes minutes to build at 1M on 2 cores; skipped above this
    questions: int
    cold_runs: int
    build_runs: int  # full builds and bare encodes each, alternating
    bot_chats: int
    bot_rounds: int
    recall_limit: int | None  # real eval questions for ANN recall (None: all of them)
    recall_sets: tuple[str, ...]  # whose corpora make the real index (indexing all three takes ~30 min)
    bot_workers: int  # also run the bot the other way: threads, or this many workers (0: not at all)
    pg_sizes: tuple[int, ...]  # real chunks written to both backends (and always all the real chunks there are)
    pg_synthetic: tuple[int, ...]  # larger sizes, perturbed copies of the real chunks (labelled synthetic)
    sections: tuple[Section, ...] = DEFAULT_SECTIONS

    @classmethod
    def make(
        cls, quick: bool, articles: int | None = None, sections: tuple[Section, ...] = DEFAULT_SECTIONS
    ) -> BenchPlan:
        if articles is not None and articles < 1:
            raise ValueError(f"articles must be at least 1, got {articles}")
        unknown = set(sections) - set(SECTIONS)
        if unknown or not sections:
            raise ValueError(f"sections must be some of {', '.join(SECTIONS)}, got {', '.join(sections) or 'none'}")
        if quick:
            return cls(
                quick=True,
                articles=articles or 24,
                sizes=(10_000,),
                vector_sizes=(10_000,),
                memory_at=None,
                hnsw_max=10_000,
                questions=30,
                cold_runs=1,
                build_runs=1,
                bot_chats=20,
                bot_rounds=1,
                recall_limit=200,
                recall_sets=("xquad_en",),
                bot_workers=0,
                pg_sizes=(10_000,),
                pg_synthetic=(),
                sections=sections,
            )
        return cls(
            quick=False,
            articles=articles,
            sizes=(10_000, 100_000),
            vector_sizes=(100_000, 1_000_000),
            memory_at=1_000_000,
            hnsw_max=100_000,
            questions=100,
            cold_runs=3,
            build_runs=3,
            bot_chats=100,
            bot_rounds=3,
            recall_limit=None,
            recall_sets=REAL_SETS,
            bot_workers=2,
            pg_sizes=(10_000,),
            pg_synthetic=(100_000,),
            sections=sections,
        )


@dataclass(frozen=True, slots=True)
class Prepared:
    """What every section shares: the news index, its ONNX export, the model, the questions."""

    seeds: Path  # what index_dir was built from
    index_dir: Path
    articles: Path  # the --articles news files: builds are timed on these
    export: Path
    embedder: SentenceTransformerEmbedder
    questions: list[str]  # news_qa's questions: latency on the (replicated) news index, the bot


def run_bench(plan: BenchPlan, workdir: Path, progress: Callable[[str], None] = lambda _: None) -> BenchReport:
    from newsbot.bench.latency import bench_folder
    from newsbot.config.settings import load_settings
    from newsbot.index.store import single_thread_search

    started = time.perf_counter()
    single_thread_search()  # every FAISS figure searches as serving does: one question, one thread
    workdir.mkdir(parents=True, exist_ok=True)
    report = BenchReport(quick=plan.quick, machine=describe_machine(), checkpoint=workdir / "partial.json")
    settings = load_settings()
    report.notes.append(
        f"search mode {settings.search_mode}, top_k {settings.top_k}, flat_index_max {settings.flat_index_max}, "
        f"ann_index {settings.ann_index}"
    )
    ready = _prepare(plan, workdir, settings, report, progress)
    if "cold-start" in plan.sections:
        from newsbot.bench.coldstart import bench_cold_start

        progress("cold start of newsbot ask")
        bench_cold_start(report, ready.index_dir, ready.seeds, ready.questions[0], runs=plan.cold_runs)
    if "latency" in plan.sections:
        from newsbot.bench.corpus import load_indexed

        corpus = load_indexed(ready.index_dir)
        for n in plan.sizes:
            progress(f"search and answer at {n:,} chunks (replicated index), with baselines")
            bench_folder(report, corpus, n, workdir, ready.export, ready.embedder, ready.questions)
    if "recall" in plan.sections:
        from newsbot.bench.realdata import RealSets, bench_real_recall
        from newsbot.index.onnx_embedder import OnnxEmbedder

        progress("ANN recall@10 on the real chunk vectors of every corpus, with the eval sets' questions")
        bench_real_recall(
            report,
            settings,
            ready.embedder,
            OnnxEmbedder(ready.export),
            limit=plan.recall_limit,
            where=RealSets(sets=plan.recall_sets),
            progress=progress,
        )
    if "faiss" in plan.sections:
        _faiss(plan, workdir, ready, report, progress)
    if "bot" in plan.sections:
        from newsbot.bench.botrun import bench_bot_apart

        bench_bot_apart(report, _bot(plan, ready, progress), workdir)
    if "postgres" in plan.sections:
        from newsbot.bench.pgbench import PgPlan, bench_postgres
        from newsbot.bench.realdata import RealSets
        from newsbot.index.onnx_embedder import OnnxEmbedder

        bench_postgres(
            report,
            settings,
            PgPlan(
                plan.pg_sizes, plan.pg_synthetic, plan.build_runs, plan.recall_limit, RealSets(sets=plan.recall_sets)
            ),
            workdir=workdir,
            seeds=ready.articles,
            embedder=ready.embedder,
            questions_embedder=OnnxEmbedder(ready.export),
            questions=ready.questions,
            progress=progress,
        )
    report.seconds = time.perf_counter() - started
    return report


def _prepare(
    plan: BenchPlan, workdir: Path, settings: Settings, report: BenchReport, progress: Callable[[str], None]
) -> Prepared:
    from newsbot.bench.corpus import copy_news
    from newsbot.bench.indexing import bench_indexing
    from newsbot.bench.realdata import RealSets, cached_index, real_questions
    from newsbot.index.builder import IndexBuilder
    from newsbot.index.embedder import SentenceTransformerEmbedder
    from newsbot.index.onnx_embedder import export_onnx

    articles, index_dir = workdir / "seeds", workdir / "index"
    seeds = articles  # what the served index is built from; a full run serves the whole corpus instead
    shutil.rmtree(articles, ignore_errors=True)
    shutil.rmtree(index_dir, ignore_errors=True)
    copy_news(articles, plan.articles)
    progress("loading the model")
    embedder = SentenceTransformerEmbedder(settings.model_name, settings.batch_size)
    embedder.model  # noqa: B018 - loaded before the clock starts, as both sides share it
    if "indexing" in plan.sections:
        progress(f"indexing: newsbot full build and bare encode, {plan.build_runs} each, alternating")
        bench_indexing(report, embedder, articles, index_dir, settings.batch_size, runs=plan.build_runs)
    elif plan.quick:
        progress("building the news index (untimed)")
        IndexBuilder(embedder, batch_size=settings.batch_size).build(seeds, index_dir, full=True)
    if not plan.quick:
        # news_qa's questions are about the whole news corpus: the other sections serve all of it,
        # however few articles the indexing figures used.
        progress("the whole news corpus's index (news_qa's, in the eval cache; embedded once)")
        whole = cached_index("news_qa", settings, embedder, RealSets(), progress)
        seeds, index_dir = whole.seeds, whole.index
        report.notes.append(
            "cold start, latency, FAISS, bot: the whole news corpus (news_qa's corpus, corpora/news and "
            "the seed article), indexed as `newsbot eval` indexes it"
        )
    progress("exporting the model to ONNX for questions")
    export = export_onnx(embedder, index_dir)
    # news_qa's real questions (and the ones it must decline) are about this corpus.
    asked = real_questions(sets=("news_qa",))
    order = np.random.default_rng(0).permutation(len(asked))
    questions = [asked[order[i % len(asked)]] for i in range(plan.questions)]
    return Prepared(seeds, index_dir, articles, export, embedder, questions)


def _faiss(
    plan: BenchPlan, workdir: Path, ready: Prepared, report: BenchReport, progress: Callable[[str], None]
) -> None:
    from newsbot.bench.corpus import load_indexed
    from newsbot.bench.latency import bench_vectors, model_bytes
    from newsbot.bench.realdata import real_questions
    from newsbot.index.onnx_embedder import OnnxEmbedder
    from newsbot.index.store import AnnKind

    base = load_indexed(ready.index_dir).vectors
    # Synthetic vectors, but the eval sets' real questions as queries.
    questions = real_questions(limit=200 if plan.quick else 1000)
    query_vectors = OnnxEmbedder(ready.export).embed_batch(questions, batch_size=64)
    for n in plan.vector_sizes:
        progress(f"FAISS index kinds at {n:,} synthetic vectors: latency and memory")
        probe = None
        if n == plan.memory_at:
            probe = workdir / "faiss-probe"
            shutil.rmtree(probe, ignore_errors=True)
            probe.mkdir()
            shutil.copytree(ready.export, probe / ready.export.name)
        kinds: tuple[AnnKind, ...] = ("ivf-flat", "ivf-sq8") + (("hnsw",) if n <= plan.hnsw_max else ())
        bench_vectors(
            report,
            base,
            n,
            query_vectors,
            kinds=kinds,
            memory_probe=probe,
            model_weights=model_bytes(ready.export),
            questions=questions,
        )
        if probe is not None:
            shutil.rmtree(probe, ignore_errors=True)


def _bot(plan: BenchPlan, ready: Prepared, progress: Callable[[str], None]) -> BotSpec:
    from newsbot.bench.botrun import BotSpec

    progress(
        f"bot: {plan.bot_chats} chats at once, {plan.bot_rounds} rounds, in a process of its own; "
        "fake Bot API in another"
    )
    questions = _bot_questions(ready.questions, ready.articles)
    return BotSpec(
        ready.index_dir, ready.seeds, ready.export, tuple(questions), plan.bot_chats, plan.bot_rounds, plan.bot_workers
    )


def _bot_questions(first: list[str], seeds: Path) -> list[str]:
    """news_qa's questions, the ones the latency figures used first, then a question about each
    indexed article's title: 100 chats x 3 rounds ask more than news_qa has, and a question asked
    twice would meet warm caches."""
    import json

    from newsbot.bench.realdata import real_questions

    seen = set(first)
    asked = first + [q for q in real_questions(sets=("news_qa",)) if q not in seen]
    lines = (seeds / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    return asked + [f"What happened: {json.loads(line)['title']}?" for line in lines if line.strip()]
