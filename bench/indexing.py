"""Figures 1 and 2: indexing throughput against the bare model, and an incremental update.

Full builds and bare encodes run ``runs`` times each, alternating which goes first (build,
encode; encode, build; build, encode ...), so neither side always gets the warmer cache or the quieter minute;
the medians are compared.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from newsbot.bench.corpus import load_indexed
from newsbot.bench.records import BenchReport, Row
from newsbot.index.builder import BuildReport, IndexBuilder
from newsbot.index.embedder import SentenceTransformerEmbedder


def bench_indexing(
    report: BenchReport,
    embedder: SentenceTransformerEmbedder,
    seeds: Path,
    index_dir: Path,
    batch_size: int,
    *,
    runs: int = 3,
) -> None:
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    builder = IndexBuilder(embedder, batch_size=batch_size)
    builds: list[BuildReport] = []
    encodes: list[float] = []
    passages: list[str] = []

    def build() -> None:
        nonlocal passages
        builds.append(builder.build(seeds, index_dir, full=True))
        passages = passages or load_indexed(index_dir).passages()

    def encode() -> None:
        started = time.perf_counter()
        embedder.model.encode(passages, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
        encodes.append(time.perf_counter() - started)

    # build, encode; encode, build; build, encode: the first build makes the passages to encode.
    for n in range(runs):
        for step in (build, encode) if n % 2 == 0 else (encode, build):
            step()
    full = builds[-1]
    chunks = full.chunks_embedded
    build_s = statistics.median(b.seconds for b in builds)
    encode_s = statistics.median(encodes)
    ours, theirs = chunks / build_s, len(passages) / encode_s
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
            f"medians of {len(builds)} builds ({_list(b.seconds for b in builds)} s) and {len(encodes)} "
            f"encodes ({_list(encodes)} s), alternating",
        )
    )
    _incremental(report, builder, seeds, index_dir, build_s)


def _list(values: object) -> str:
    return ", ".join(f"{v:.1f}" for v in values)  # type: ignore[attr-defined]


def _incremental(report: BenchReport, builder: IndexBuilder, seeds: Path, index_dir: Path, full_s: float) -> None:
    files = sorted((seeds / "articles").glob("*.txt"))
    changed = files[len(files) // 2]
    changed.write_text(changed.read_text() + "\n\nA paragraph added to measure an incremental update.\n")
    update = builder.build(seeds, index_dir)
    share = update.seconds / full_s
    report.add(
        Row(
            "indexing",
            f"one changed article, s ({update.updated} updated, {update.chunks_embedded} chunks embedded)",
            round(update.seconds, 2),
            "s",
            round(full_s, 2),
            "full build (median)",
            "<= 5 % of full build",
            share <= 0.05,
            f"{share:.1%} of the full build",
        )
    )
