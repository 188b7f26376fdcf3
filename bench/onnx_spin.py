"""onnxruntime's spinning threads: CPU and wall time per question embedding, spinning on and off.

    python -m newsbot.bench.onnx_spin INDEX_DIR [--questions N] [--runs R]

INDEX_DIR is an index with its ONNX export (`newsbot index` writes one in query-model/). Each run
embeds news_qa's real questions one at a time, as a bot answering one question does; runs
alternate between the two settings and the medians are printed. By default onnxruntime's
worker threads busy-wait after every call; newsbot turns that off (index/onnx_embedder.py).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

from newsbot.bench.realdata import real_questions
from newsbot.index.onnx_embedder import EXPORT_DIR, ONNX_FILE, OnnxEmbedder


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def _per_question(embedder: OnnxEmbedder, questions: list[str]) -> tuple[float, float]:
    embedder.embed_batch(["warm up"])
    cpu, wall = _cpu(), time.perf_counter()
    for q in questions:
        embedder.embed_batch([q], batch_size=1)
    return (_cpu() - cpu) / len(questions) * 1000, (time.perf_counter() - wall) / len(questions) * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("index_dir", type=Path, help="an index folder with its ONNX export (query-model/)")
    parser.add_argument("--questions", type=int, default=200, help="questions embedded per run")
    parser.add_argument("--runs", type=int, default=3, help="runs of each setting, alternating")
    args = parser.parse_args(argv)
    folder = args.index_dir / EXPORT_DIR
    if not (folder / ONNX_FILE).is_file():
        parser.error(f"{folder} holds no ONNX export; run `newsbot index` to write one")
    if args.questions < 1 or args.runs < 1:
        parser.error("--questions and --runs must be at least 1")
    questions = real_questions(sets=("news_qa",))[: args.questions]
    figures: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    for run in range(args.runs):
        for spinning in (True, False) if run % 2 == 0 else (False, True):
            figures[spinning].append(_per_question(OnnxEmbedder(folder, spinning=spinning), questions))
    with open("/proc/loadavg") as load:
        print(f"{len(questions)} questions one at a time, {args.runs} runs each; load {load.read().split()[0]}")
    for spinning, runs in figures.items():
        cpu = statistics.median(c for c, _ in runs)
        wall = statistics.median(w for _, w in runs)
        print(
            f"spinning {'on (onnxruntime default)' if spinning else 'off (newsbot)'}: CPU {cpu:.2f} ms, wall {wall:.2f} ms per question (medians)"
        )


if __name__ == "__main__":
    main()
