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


DROP_CACHES = Path("/proc/sys/vm/drop_caches")


def drop_page_cache() -> str | None:
    """Empties the kernel's page cache (every file, every process: the machine's, not just ours);
    returns why not when this machine does not allow it."""
    try:
        os.sync()
        DROP_CACHES.write_text("1\n")
    except OSError as exc:
        return f"{DROP_CACHES} is not writable here ({exc.strerror or exc})"
    return None


def ask_seconds(index_dir: Path, seeds: Path, question: str, runs: int, *, cold: bool = False) -> float:
    """Median wall time of ``runs`` launches of `newsbot ask`; ``cold`` empties the page cache first."""
    args = [sys.executable, "-c", NEWSBOT, "ask", question, "--json", "--index", str(index_dir), "--seeds", str(seeds)]
    times = []
    for _ in range(runs):
        if cold:
            why = drop_page_cache()
            if why is not None:
                raise OSError(why)
        times.append(_run(args))
    return statistics.median(times)


def bench_cold_start(report: BenchReport, index_dir: Path, seeds: Path, question: str, *, runs: int) -> None:
    _run([sys.executable, "-c", NEWSBOT, "--help"])  # the warm figure is warm: files read once
    onnx = ask_seconds(index_dir, seeds, question, runs)
    bare = _run([sys.executable, "-c", "import sentence_transformers"])
    report.add(
        Row(
            "cold start",
            "newsbot ask, launch to answer, warm page cache (ONNX question embedder)",
            round(onnx, 2),
            "s",
            round(bare, 2),
            "python -c 'import sentence_transformers'",
            "<= 3 s",
            onnx <= 3,
            f"median of {runs} runs; the import baseline is one run",
        )
    )
    why = drop_page_cache()
    if why is None:
        cold = ask_seconds(index_dir, seeds, question, runs, cold=True)
        report.add(
            Row(
                "cold start",
                "newsbot ask, launch to answer, cold page cache",
                round(cold, 2),
                "s",
                target="<= 3 s",
                met=cold <= 3,
                note=f"median of {runs} runs, each after emptying the page cache ({DROP_CACHES})",
            )
        )
    else:
        report.add(Row("cold start", "newsbot ask, cold page cache", None, "s", note=f"not measured: {why}"))
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
            "newsbot ask without the ONNX export (sentence-transformers), warm",
            round(torch_path, 2),
            "s",
            note="what ask costs when the index has no export",
        )
    )
