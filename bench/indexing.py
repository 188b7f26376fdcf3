"""Figures 1 and 2: indexing throughput against the bare model, and an incremental update."""

from __future__ import annotations

import time
from pathlib import Path

from newsbot.bench.corpus import load_indexed
from newsbot.bench.records import BenchReport, Row
from newsbot.index.builder import IndexBuilder
from newsbot.index.embedder import SentenceTransformerEmbedder


def bench_indexing(
    report: BenchReport, embedder: SentenceTransformerEmbedder, seeds: Path, index_dir: Path, batch_size: int
) -> None:
    builder = IndexBuilder(embedder, batch_size=batch_size)
    full = builder.build(seeds, index_dir, full=True)
    chunks = full.chunks_embedded
    passages = load_indexed(index_dir).passages()
    started = time.perf_counter()
    embedder.model.encode(passages, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
    bare = time.perf_counter() - started
    ours, theirs = chunks / full.seconds, len(passages) / bare
    ratio = ours / theirs
    report.add(
        Row(
            "indexing",
            f"full build, chunks/s ({full.articles} articles, {chunks} chunks)",
            round(ours, 1),
            "chunks/s",
            round(theirs, 1),
            "SentenceTransformer.encode",
            ">= 0.90 x bare encode",
            ratio >= 0.90,
            f"build {full.seconds:.1f} s vs encode {bare:.1f} s",
        )
    )

    changed = sorted((seeds / "articles").glob("*.txt"))[len(list((seeds / "articles").glob("*.txt"))) // 2]
    changed.write_text(changed.read_text() + "\n\nA paragraph added to measure an incremental update.\n")
    update = builder.build(seeds, index_dir)
    share = update.seconds / full.seconds
    report.add(
        Row(
            "indexing",
            f"one changed article, s ({update.updated} updated, {update.chunks_embedded} chunks embedded)",
            round(update.seconds, 2),
            "s",
            round(full.seconds, 2),
            "full build",
            "<= 5 % of full build",
            share <= 0.05,
            f"{share:.1%} of the full build",
        )
    )
