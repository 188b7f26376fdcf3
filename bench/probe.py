"""A serving process to measure from outside: ``python -m newsbot.bench.probe INDEX QUESTIONS [FAISS_FILE]``.

Opens the index the way `newsbot ask` does (ONNX question embedder when exported), answers every
question in the QUESTIONS file (one per line), and prints its peak RSS as JSON, with its resident
memory after each stage (interpreter, model loaded, index opened, questions answered). With FAISS_FILE it
loads only that vector index and the question embedder (the FAISS-only figure at 1M).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: ru_maxrss survives exec, so a probe started
    from a big parent would report the parent's peak."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def rss_mb() -> float:
    """This process's resident memory now (VmRSS), MB."""
    with open("/proc/self/status") as fh:
        return next((int(line.split()[1]) / 1024 for line in fh if line.startswith("VmRSS:")), 0.0)


def main(argv: list[str]) -> None:
    index_dir, questions = Path(argv[0]), Path(argv[1]).read_text().splitlines()
    stages = {"python": rss_mb()}
    from newsbot.config.settings import load_settings
    from newsbot.index.embedder import Embedder
    from newsbot.index.onnx_embedder import query_embedder

    settings = load_settings(index_dir=index_dir)
    started = time.perf_counter()
    embedder: Embedder | None = query_embedder(index_dir, settings.model_name)
    if embedder is None:
        from newsbot.index.embedder import SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder(settings.model_name)
    embedder.embed_batch(["the model loads on first use"])
    stages["model"] = rss_mb()
    if len(argv) > 2:
        import faiss

        index = faiss.read_index(argv[2])
        stages["opened"] = rss_mb()
        for q in questions:
            index.search(embedder.embed_batch([q]), 10)
    else:
        from newsbot.retrieval.retriever import Retriever

        retriever = Retriever.open(index_dir, embedder=embedder, settings=settings)
        stages["opened"] = rss_mb()
        for q in questions:
            retriever.answer(q)
    stages["answered"] = rss_mb()
    print(
        json.dumps(
            {
                "peak_rss_mb": round(peak_rss_mb(), 1),
                "seconds": round(time.perf_counter() - started, 2),
                "stages_mb": {k: round(v, 1) for k, v in stages.items()},
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
