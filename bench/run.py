"""One benchmark run: every figure of issue 5, newsbot and the bare tools side by side."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from newsbot.bench.coldstart import bench_cold_start
from newsbot.bench.corpus import copy_news, load_indexed
from newsbot.bench.indexing import bench_indexing
from newsbot.bench.latency import bench_folder, bench_vectors, model_bytes
from newsbot.bench.records import BenchReport, describe_machine
from newsbot.bench.throughput import bench_bot

if TYPE_CHECKING:
    from newsbot.config.settings import Settings
    from newsbot.index.store import AnnKind


@dataclass(frozen=True, slots=True)
class BenchPlan:
    """How much to measure: --quick is a CI smoke run, the default is the full table."""

    quick: bool
    articles: int | None  # news articles to index (None: all of corpora/news)
    sizes: tuple[int, ...]  # replicated newsbot indexes: search, answer, memory
    vector_sizes: tuple[int, ...]  # FAISS-only: index kinds, recall, latency
    memory_at: int | None  # FAISS-only serving memory at this size, per index kind
    hnsw_max: int  # HNSW takes minutes to build at 1M on 2 cores; skipped above this
    questions: int
    cold_runs: int
    bot_chats: int
    bot_rounds: int

    @classmethod
    def make(cls, quick: bool, articles: int | None = None) -> BenchPlan:
        if articles is not None and articles < 1:
            raise ValueError(f"articles must be at least 1, got {articles}")
        if quick:
            return cls(True, articles or 24, (10_000,), (10_000,), None, 10_000, 30, 1, 100, 1)
        return cls(False, articles, (10_000, 100_000), (10_000, 100_000, 1_000_000), 1_000_000, 100_000, 100, 3, 100, 3)


def run_bench(plan: BenchPlan, workdir: Path, progress: Callable[[str], None] = lambda _: None) -> BenchReport:
    from newsbot.config.settings import load_settings
    from newsbot.index.embedder import SentenceTransformerEmbedder
    from newsbot.index.onnx_embedder import OnnxEmbedder, export_onnx

    started = time.perf_counter()
    workdir.mkdir(parents=True, exist_ok=True)
    report = BenchReport(quick=plan.quick, machine=describe_machine(), checkpoint=workdir / "partial.json")
    settings = load_settings()
    report.notes.append(
        f"search mode {settings.search_mode}, top_k {settings.top_k}, flat_index_max {settings.flat_index_max}"
    )
    seeds, index_dir = workdir / "seeds", workdir / "index"
    shutil.rmtree(seeds, ignore_errors=True)
    shutil.rmtree(index_dir, ignore_errors=True)
    copy_news(seeds, plan.articles)

    progress("loading the model")
    embedder = SentenceTransformerEmbedder(settings.model_name, settings.batch_size)
    embedder.model  # noqa: B018 - loaded before the clock starts, as both sides share it
    progress("indexing: newsbot full build, bare encode, one changed article")
    bench_indexing(report, embedder, seeds, index_dir, settings.batch_size)

    progress("exporting the model to ONNX for questions")
    export = export_onnx(embedder, index_dir)
    corpus = load_indexed(index_dir)
    rng = np.random.default_rng(0)
    titles = [corpus.titles[i] for i in rng.permutation(len(corpus.titles))]
    questions = [titles[i % len(titles)] for i in range(plan.questions)]

    progress("cold start of newsbot ask")
    bench_cold_start(report, index_dir, seeds, questions[0], runs=plan.cold_runs, with_torch=not plan.quick)

    for n in plan.sizes:
        progress(f"search and answer at {n:,} chunks (replicated index), with baselines")
        bench_folder(report, corpus, n, workdir, export, embedder, questions)

    query_vectors = OnnxEmbedder(export).embed_batch(questions)
    for n in plan.vector_sizes:
        progress(f"FAISS index kinds at {n:,} vectors (synthetic), recall@10 against flat")
        probe = None
        if n == plan.memory_at:
            probe = workdir / "faiss-probe"
            shutil.rmtree(probe, ignore_errors=True)
            probe.mkdir()
            shutil.copytree(export, probe / export.name)
        kinds: tuple[AnnKind, ...] = ("ivf-flat", "ivf-sq8") + (("hnsw",) if n <= plan.hnsw_max else ())
        bench_vectors(
            report,
            corpus.vectors,
            n,
            query_vectors,
            kinds=kinds,
            memory_probe=probe,
            model_weights=model_bytes(embedder.name),
            questions=questions,
        )
        if probe is not None:
            shutil.rmtree(probe, ignore_errors=True)

    progress(f"bot: {plan.bot_chats} concurrent chats through the fake Bot API")
    from newsbot.retrieval.retriever import Retriever

    def factory(s: Settings) -> Retriever:
        return Retriever.open(index_dir, embedder=OnnxEmbedder(export), settings=s, question_cache=0)

    bench_bot(
        report,
        load_settings(index_dir=index_dir, seeds_dir=seeds),
        factory,
        titles,
        chats=plan.bot_chats,
        rounds=plan.bot_rounds,
    )
    report.notes.append(
        "scaling: sizes above the news corpus replicate its articles (same text, new paths) with "
        "perturbed copies of their real vectors (cosine ~0.9); FAISS-only rows use the same kind of "
        "synthetic vectors; questions are article titles"
    )
    report.seconds = time.perf_counter() - started
    return report
