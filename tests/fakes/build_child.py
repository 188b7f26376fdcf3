"""A build in its own process, for crash tests: the real IndexBuilder with the FakeEmbedder.

    python -m tests.fakes.build_child SEEDS INDEX [--full] [--embed-delay S] [--read-delay S]
                                                  [--pause S]

It prints one line per phase it enters (``phase reading``, ``phase embedding``, ``phase writing``,
``phase swap``), flushed, so a test can SIGKILL it inside the phase it wants. The delays only slow
this process down to widen those windows; they wrap product functions from the outside, so the
product has no test-only code path. Exit codes: 0 built, 3 the index was locked by another build.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import newsbot.index.folder as folder
import newsbot.index.readers as readers
from newsbot.index.builder import IndexBuilder
from newsbot.index.manifest import IndexLocked
from tests.fakes.embedder import FakeEmbedder

_seen: set[str] = set()


def phase(name: str) -> None:
    if name not in _seen:
        _seen.add(name)
        print(f"phase {name}", flush=True)


class PhasedEmbedder(FakeEmbedder):
    def embed_batch(self, texts, *, batch_size=None, show_progress_bar=False):
        phase("embedding")
        return super().embed_batch(texts, batch_size=batch_size, show_progress_bar=show_progress_bar)


def slow_down(read_delay: float, pause: float) -> None:
    load = readers.FolderReader._load

    def slow_load(self, path, root):
        phase("reading")
        time.sleep(read_delay)
        return load(self, path, root)

    commit = folder.IndexWriter.commit

    def slow_commit(self):
        phase("writing")
        time.sleep(pause)
        return commit(self)

    fsync = folder._fsync

    def slow_fsync(path):
        time.sleep(pause / 20)
        fsync(path)

    def swap(real):
        def moved(src, dst):
            phase("swap")
            time.sleep(pause)
            real(src, dst)
            time.sleep(pause)

        return moved

    readers.FolderReader._load = slow_load
    folder.IndexWriter.commit = slow_commit
    folder._fsync = slow_fsync
    # Only index.folder sees the slowed rename and replace; the rest of the process uses the real os.
    folder.os = SimpleNamespace(**{k: getattr(os, k) for k in dir(os) if not k.startswith("__")})
    folder.os.rename = swap(os.rename)
    folder.os.replace = swap(os.replace)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("seeds", type=Path)
    parser.add_argument("index", type=Path)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--embed-delay", type=float, default=0.0, help="seconds per text embedded")
    parser.add_argument("--read-delay", type=float, default=0.0, help="seconds per file read")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds around each write step")
    args = parser.parse_args(argv)
    slow_down(args.read_delay, args.pause)
    builder = IndexBuilder(PhasedEmbedder(delay=args.embed_delay), chunk_tokens=64)
    try:
        report = builder.build(args.seeds, args.index, full=args.full)
    except IndexLocked as exc:
        print(f"locked {exc}", flush=True)
        return 3
    for failure in report.failures:
        print(f"failed {failure}", flush=True)
    print(f"done {report.generation} {report.summary()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
