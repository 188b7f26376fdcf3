"""Figures 3 and 4: query latency, FAISS index choice and recall, and serving memory, by size."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from newsbot.bench.corpus import IndexedCorpus, faiss_store, scaled_index, synthetic_vectors
from newsbot.bench.records import BenchReport, LatencyPoint, Row
from newsbot.bench.timing import Percentiles, time_each
from newsbot.index.embedder import SentenceTransformerEmbedder
from newsbot.index.onnx_embedder import EXPORT_DIR, ONNX_FILE, WEIGHTS_FILE, OnnxEmbedder
from newsbot.index.store import ANN_KINDS, AnnKind, StoreOptions, build_ann

if TYPE_CHECKING:
    import faiss

ROOT = Path(__file__).resolve().parent.parent
# Questions the memory probe answers: enough that an IVF index probing a quarter of its lists has
# touched nearly all of its mapped vectors (1 - 0.75^50), as a long-running bot will have.
MEMORY_QUESTIONS = 50


def size_label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k"


def model_bytes(export: Path) -> int:
    """Bytes of the question model a serving process loads: the ONNX export's graph and weights
    (int8 since the export is quantized: 23 MB, where the float32 model is 91 MB)."""
    return sum(f.stat().st_size for f in (export / ONNX_FILE, export / WEIGHTS_FILE) if f.is_file())


def _point(report: BenchReport, system: str, n: int, p: Percentiles) -> None:
    report.latency.append(LatencyPoint(system, n, round(p.p50_ms, 2), round(p.p99_ms, 2)))


def bench_folder(
    report: BenchReport,
    corpus: IndexedCorpus,
    n: int,
    workdir: Path,
    export: Path,
    bare: SentenceTransformerEmbedder,
    questions: list[str],
) -> None:
    """Search and answer through newsbot on a replicated index of ``n`` chunks, beside the same work
    done by the bare libraries on the same files (bench/bare.py)."""
    from newsbot.bench.bare import BareSearch
    from newsbot.config.settings import load_settings
    from newsbot.retrieval.retriever import Retriever

    label = size_label(n)
    folder = workdir / f"index-{label}"
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    settings = load_settings(index_dir=folder)
    written = scaled_index(corpus, folder, n, model=bare.name, store=StoreOptions.from_settings(settings))
    shutil.copytree(export, folder / EXPORT_DIR)
    report.notes.append(
        f"{label}: replicated index of {written} chunks written in {time.perf_counter() - started:.0f} s "
        "(the news articles copied under new paths, their vectors perturbed: synthetic scaling)"
    )

    # No question cache: every timed call embeds its question, as a new question would.
    retriever = Retriever.open(folder, embedder=OnnxEmbedder(folder / EXPORT_DIR), settings=settings, question_cache=0)
    mode = settings.search_mode
    search = time_each(lambda q: retriever.search(q), questions)
    dense = time_each(lambda q: retriever.search(q, mode="dense"), questions)
    answer = time_each(lambda q: retriever.answer(q), questions)
    kind = faiss_store(retriever.reader).kind
    retriever.close()
    _point(report, f"newsbot search ({mode})", written, search)
    _point(report, "newsbot answer", written, answer)

    same = BareSearch(folder / EXPORT_DIR, _live(folder), k=settings.top_k)
    bare_dense = time_each(same.search, questions)
    bare_hybrid = time_each(same.hybrid, questions)
    del same
    _point(report, "onnxruntime + FAISS (same files)", written, bare_dense)
    _point(report, "onnxruntime + FAISS + bm25s (same files)", written, bare_hybrid)
    bm25_only = _bm25_alone(corpus, written, questions)
    _point(report, "bm25s alone", written, bm25_only)

    in_range = 50_000 <= written <= 200_000
    for what, p, base, base_name in (
        (f"search ({mode})", search, bare_hybrid, "onnxruntime + FAISS + bm25s, same files"),
        ("search (dense)", dense, bare_dense, "onnxruntime + FAISS, same files"),
        ("answer", answer, bare_hybrid, "onnxruntime + FAISS + bm25s, same files"),
    ):
        target, met = None, None
        if what == "answer" and in_range:
            target, met = "p50 <= 30 ms, p99 <= 100 ms at 100k", p.p50_ms <= 30 and p.p99_ms <= 100
        for stat, value, base_value in (("p50", p.p50_ms, base.p50_ms), ("p99", p.p99_ms, base.p99_ms)):
            report.add(
                Row(
                    "latency",
                    f"{what} {stat} at {label} ({kind})",
                    round(value, 2),
                    "ms",
                    round(base_value, 2),
                    base_name,
                    target,
                    met,
                    f"bm25s alone p50 {bm25_only.p50_ms:.2f} ms" if stat == "p50" else None,
                )
            )
    _memory_row(report, folder, written, corpus.vectors.shape[1], kind, questions, in_range)
    shutil.rmtree(folder, ignore_errors=True)


def _bm25_alone(corpus: IndexedCorpus, n: int, questions: list[str]) -> Percentiles:
    import bm25s

    texts = _replicated_passages(corpus, n)
    bm25 = bm25s.BM25()
    bm25.index(bm25s.tokenize(texts, show_progress=False), show_progress=False)
    del texts
    return time_each(
        lambda q: bm25.retrieve(bm25s.tokenize([q], show_progress=False), k=10, show_progress=False), questions
    )


def _memory_row(
    report: BenchReport,
    folder: Path,
    written: int,
    dimension: int,
    kind: str,
    questions: list[str],
    in_range: bool,
) -> None:
    probe = serving_memory(folder, questions[:MEMORY_QUESTIONS])
    raw = written * dimension * 4 + model_bytes(folder / EXPORT_DIR)
    ratio = probe.peak_mb * 2**20 / raw
    report.add(
        Row(
            "memory",
            f"peak RSS serving {size_label(written)} ({kind})",
            round(probe.peak_mb, 1),
            "MB",
            round(raw / 2**20, 1),
            "raw vectors + model weights",
            "<= 1.3 x at 100k" if in_range else None,
            ratio <= 1.3 if in_range else None,
            f"{ratio:.2f} x; {probe.breakdown()}; {MEMORY_QUESTIONS} questions (mapped files count once touched)",
        )
    )


def bench_vectors(
    report: BenchReport,
    base: np.ndarray,
    n: int,
    queries: np.ndarray,
    *,
    kinds: tuple[AnnKind, ...] = ANN_KINDS,
    memory_probe: Path | None = None,
    model_weights: int = 0,
    questions: list[str] | None = None,
) -> None:
    """FAISS-only latency by index kind over ``n`` synthetic vectors (perturbed copies of real ones),
    queried with real questions. No recall here: noisy copies make recall rise with size, which
    real data does not (recall is measured on real vectors, bench/realdata.py)."""
    import faiss

    label = size_label(n)
    vectors = synthetic_vectors(base, n)
    ids = np.arange(n, dtype=np.int64)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    flat_lat = _search_latency(exact, queries)
    report.add(
        Row(
            "faiss (synthetic)",
            f"flat search p50 at {label} synthetic vectors",
            round(flat_lat.p50_ms, 3),
            "ms",
            note=f"p99 {flat_lat.p99_ms:.2f} ms; exact",
        )
    )
    _point(report, "FAISS flat (synthetic vectors)", n, flat_lat)
    files: dict[str, Path] = {}
    for kind in kinds:
        started = time.perf_counter()
        index = build_ann(kind, vectors, ids)
        built = time.perf_counter() - started
        lat = _search_latency(index, queries)
        size = len(faiss.serialize_index(index))
        report.add(
            Row(
                "faiss (synthetic)",
                f"{kind} search p50 at {label} synthetic vectors (default parameters)",
                round(lat.p50_ms, 3),
                "ms",
                note=f"p99 {lat.p99_ms:.2f} ms, {size / 2**20:.0f} MB, built in {built:.0f} s",
            )
        )
        _point(report, f"FAISS {kind} (synthetic vectors)", n, lat)
        if memory_probe is not None:
            path = memory_probe / f"{kind}.faiss"
            faiss.write_index(index, str(path))
            files[kind] = path
        del index
    if memory_probe is not None and questions:
        path = memory_probe / "flat.faiss"
        faiss.write_index(exact, str(path))
        files = {"flat": path} | files
        raw = n * vectors.shape[1] * 4 + model_weights
        for name, path in files.items():
            rss = serving_memory(memory_probe, questions[:MEMORY_QUESTIONS], faiss_file=path).peak_mb
            report.add(
                Row(
                    "memory",
                    f"peak RSS, FAISS-only serving {label} synthetic vectors ({name})",
                    round(rss, 1),
                    "MB",
                    round(raw / 2**20, 1),
                    "raw vectors + model weights",
                    note=f"{rss * 2**20 / raw:.2f} x; question embedder + index, no chunk store",
                )
            )


def _search_latency(index: faiss.Index, queries: np.ndarray) -> Percentiles:
    rows = [q[None, :] for q in queries]
    return time_each(lambda q: index.search(q, 10), rows)


def _live(folder: Path) -> Path:
    return folder / (folder / "CURRENT").read_text().strip()


def _replicated_passages(corpus: IndexedCorpus, n: int) -> list[str]:
    base = corpus.passages()
    return [base[i % len(base)] for i in range(n)]


@dataclass(frozen=True, slots=True)
class ServingMemory:
    """What the probe process measured: its peak RSS and its resident memory after each stage."""

    peak_mb: float
    stages_mb: dict[str, float]

    def breakdown(self) -> str:
        """Growth per stage: "python 12, model +120, opened +150, answered +40 MB"."""
        parts, before = [], 0.0
        for name, mb in self.stages_mb.items():
            parts.append(f"{name} {'+' if before else ''}{mb - before:.0f}")
            before = mb
        return ", ".join(parts) + " MB"


def serving_memory(index_dir: Path, questions: list[str], faiss_file: Path | None = None) -> ServingMemory:
    """Peak RSS of a fresh process that opens ``index_dir`` and answers ``questions``."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(questions))
    args = [sys.executable, "-m", "newsbot.bench.probe", str(index_dir), fh.name]
    if faiss_file is not None:
        args.append(str(faiss_file))
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, check=False)
    Path(fh.name).unlink(missing_ok=True)
    if done.returncode != 0:
        raise RuntimeError(f"memory probe failed: {done.stderr.strip().splitlines()[-1:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return ServingMemory(float(result["peak_rss_mb"]), result["stages_mb"])
