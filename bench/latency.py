"""Figures 3 and 4: query latency, FAISS index choice and recall, and serving memory, by size."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from newsbot.bench.corpus import IndexedCorpus, faiss_store, scaled_index, synthetic_vectors
from newsbot.bench.records import BenchReport, LatencyPoint, Row
from newsbot.bench.timing import Percentiles, time_each
from newsbot.index.embedder import SentenceTransformerEmbedder, model_path
from newsbot.index.onnx_embedder import EXPORT_DIR, OnnxEmbedder
from newsbot.index.store import ANN_KINDS, DEFAULT_FLAT_MAX, VECTORS, AnnKind, build_ann, read_flat

if TYPE_CHECKING:
    import faiss

ROOT = Path(__file__).resolve().parent.parent


def size_label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k"


def model_bytes(name: str) -> int:
    path = model_path(name)
    return sum(f.stat().st_size for f in path.glob("*.safetensors")) or sum(
        f.stat().st_size for f in path.glob("pytorch_model.bin")
    )


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
    """Search and answer through newsbot on a replicated index of ``n`` chunks, beside the baselines."""
    import bm25s
    import faiss

    from newsbot.config.settings import load_settings
    from newsbot.retrieval.retriever import Retriever

    label = size_label(n)
    folder = workdir / f"index-{label}"
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    written = scaled_index(corpus, folder, n, model=bare.name)
    shutil.copytree(export, folder / EXPORT_DIR)
    report.notes.append(
        f"{label}: replicated index of {written} chunks written in {time.perf_counter() - started:.0f} s"
    )

    settings = load_settings(index_dir=folder)
    # No question cache: every timed call embeds its question, as a new question would.
    retriever = Retriever.open(folder, embedder=OnnxEmbedder(folder / EXPORT_DIR), settings=settings, question_cache=0)
    search = time_each(lambda q: retriever.search(q), questions)
    answer = time_each(lambda q: retriever.answer(q), questions)
    kind = faiss_store(retriever.reader).kind
    retriever.close()
    _point(report, "newsbot search", written, search)
    _point(report, "newsbot answer", written, answer)

    # Baseline: the bare model and an exact FAISS index over the same vectors, no newsbot code.
    flat = read_flat(_live(folder) / VECTORS)
    vectors = faiss.downcast_index(flat.index).reconstruct_n(0, flat.ntotal)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    del flat, vectors
    model = bare.model

    def st_flat_search(q: str, exact: faiss.Index = exact) -> object:
        return exact.search(model.encode([q], normalize_embeddings=True), 10)

    st_flat = time_each(st_flat_search, questions)
    del st_flat_search  # it holds the index
    _point(report, "sentence-transformers + flat FAISS", written, st_flat)
    del exact

    texts = _replicated_passages(corpus, written)
    bm25 = bm25s.BM25()
    bm25.index(bm25s.tokenize(texts, show_progress=False), show_progress=False)
    del texts

    def bm25_search(q: str, bm25: bm25s.BM25 = bm25) -> object:
        return bm25.retrieve(bm25s.tokenize([q], show_progress=False), k=10, show_progress=False)

    bm25_only = time_each(bm25_search, questions)
    del bm25_search  # it holds the index
    _point(report, "bm25s alone", written, bm25_only)
    del bm25

    mode = settings.search_mode
    for what, p, base, base_name in (
        ("search", search, st_flat, "ST + flat FAISS (encode + search)"),
        ("answer", answer, st_flat, "ST + flat FAISS (encode + search)"),
    ):
        target, met = None, None
        if what == "answer" and 50_000 <= written <= 200_000:
            target, met = "p50 <= 30 ms, p99 <= 100 ms at 100k", p.p50_ms <= 30 and p.p99_ms <= 100
        report.add(
            Row(
                "latency",
                f"{what} p50 at {label} ({mode}, {kind})",
                round(p.p50_ms, 2),
                "ms",
                round(base.p50_ms, 2),
                base_name,
                target,
                met,
                f"p99 {p.p99_ms:.1f} ms (baseline p99 {base.p99_ms:.1f} ms; bm25s alone p50 {bm25_only.p50_ms:.2f} ms)",
            )
        )
        report.add(
            Row(
                "latency",
                f"{what} p99 at {label} ({mode}, {kind})",
                round(p.p99_ms, 2),
                "ms",
                round(base.p99_ms, 2),
                base_name,
                target,
                met,
            )
        )

    probe = serving_memory(folder, questions[:20])
    raw = written * corpus.vectors.shape[1] * 4 + model_bytes(bare.name)
    target = "<= 1.3 x at 100k" if 50_000 <= written <= 200_000 else None
    ratio = probe * 2**20 / raw
    report.add(
        Row(
            "memory",
            f"peak RSS serving {label} ({kind})",
            round(probe, 1),
            "MB",
            round(raw / 2**20, 1),
            "raw vectors + model weights",
            target,
            ratio <= 1.3 if target else None,
            f"{ratio:.2f} x",
        )
    )
    shutil.rmtree(folder, ignore_errors=True)


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
    """FAISS-only: every index kind over ``n`` synthetic vectors, recall@10 against exact search."""
    import faiss

    label = size_label(n)
    vectors = synthetic_vectors(base, n)
    ids = np.arange(n, dtype=np.int64)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    truth = exact.search(queries, 10)[1]
    flat_lat = _search_latency(exact, queries)
    chosen = "flat" if n <= DEFAULT_FLAT_MAX else "ivf-flat"
    report.add(
        Row(
            "faiss",
            f"flat search p50 at {label}",
            round(flat_lat.p50_ms, 3),
            "ms",
            note=f"p99 {flat_lat.p99_ms:.2f} ms; exact; {'chosen by size' if chosen == 'flat' else ''}",
        )
    )
    _point(report, "FAISS flat (vectors only)", n, flat_lat)
    files: dict[str, Path] = {}
    for kind in kinds:
        started = time.perf_counter()
        index = build_ann(kind, vectors, ids)
        built = time.perf_counter() - started
        found = index.search(queries, 10)[1]
        recall = float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]))
        lat = _search_latency(index, queries)
        size = len(faiss.serialize_index(index))
        is_chosen = kind == chosen
        report.add(
            Row(
                "faiss",
                f"{kind} recall@10 vs flat at {label}",
                round(recall, 4),
                "recall",
                target=">= 0.98" if is_chosen else None,
                met=recall >= 0.98 if is_chosen else None,
                note=f"p50 {lat.p50_ms:.3f} ms, p99 {lat.p99_ms:.2f} ms, {size / 2**20:.0f} MB, "
                f"built in {built:.0f} s{'; chosen by size' if is_chosen else ''}",
            )
        )
        _point(report, f"FAISS {kind} (vectors only)", n, lat)
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
            rss = serving_memory(memory_probe, questions[:20], faiss_file=path)
            report.add(
                Row(
                    "memory",
                    f"peak RSS, FAISS-only serving {label} ({name})",
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


def serving_memory(index_dir: Path, questions: list[str], faiss_file: Path | None = None) -> float:
    """Peak RSS (MB) of a fresh process that opens ``index_dir`` and answers ``questions``."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(questions))
    args = [sys.executable, "-m", "newsbot.bench.probe", str(index_dir), fh.name]
    if faiss_file is not None:
        args.append(str(faiss_file))
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, check=False)
    Path(fh.name).unlink(missing_ok=True)
    if done.returncode != 0:
        raise RuntimeError(f"memory probe failed: {done.stderr.strip().splitlines()[-1:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["peak_rss_mb"])
