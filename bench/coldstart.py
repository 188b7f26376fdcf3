"""Figure 5: wall time from launching `newsbot ask "..."` to its answer, on an existing index."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from newsbot.bench.records import BenchReport, Row
from newsbot.index.onnx_embedder import EXPORT_DIR

ROOT = Path(__file__).resolve().parent.parent
NEWSBOT = "from newsbot.command import main; main()"  # what the `newsbot` console script runs


def _run(args: list[str]) -> float:
    env = os.environ | {"PYTHONDONTWRITEBYTECODE": "1"}
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])} failed: {done.stderr.strip().splitlines()[-1:]}")
    return seconds


def ask_seconds(index_dir: Path, seeds: Path, question: str, runs: int) -> float:
    args = [sys.executable, "-c", NEWSBOT, "ask", question, "--json", "--index", str(index_dir), "--seeds", str(seeds)]
    return statistics.median(_run(args) for _ in range(runs))


def bench_cold_start(
    report: BenchReport, index_dir: Path, seeds: Path, question: str, *, runs: int, with_torch: bool
) -> None:
    onnx = ask_seconds(index_dir, seeds, question, runs)
    bare = _run([sys.executable, "-c", "import sentence_transformers"])
    report.add(
        Row(
            "cold start",
            "newsbot ask, launch to answer (ONNX question embedder)",
            round(onnx, 2),
            "s",
            round(bare, 2),
            "python -c 'import sentence_transformers'",
            "<= 3 s",
            onnx <= 3,
            f"median of {runs} runs; the import baseline is one run",
        )
    )
    if with_torch:
        export = index_dir / EXPORT_DIR
        aside = index_dir.parent / f"{index_dir.name}-{EXPORT_DIR}"
        export.rename(aside)
        try:
            torch_path = ask_seconds(index_dir, seeds, question, 1)
        finally:
            aside.rename(export)
        report.add(
            Row(
                "cold start",
                "newsbot ask without the ONNX export (sentence-transformers)",
                round(torch_path, 2),
                "s",
                note="what ask costs when the index has no export",
            )
        )
