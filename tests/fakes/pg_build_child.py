"""A postgres build in its own process, for crash and lock tests (the FakeEmbedder, the real builder).

    python -m tests.fakes.pg_build_child URL SEEDS [--pause S]

Prints ``phase writing`` (flushed) when the build writes its first article inside its
transaction, then pauses there for S seconds, so a test can SIGKILL it mid-build or try a second
build while it holds the lock. The pause wraps PgWriter from the outside; the product has no
test-only path. Exit codes: 0 built, 3 refused because another build holds the lock.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from newsbot.index.manifest import IndexLocked
from newsbot.index.pg.writer import PgWriter
from tests.fakes.embedder import FakeEmbedder
from tests.pg.helpers import pg_build, pg_settings


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("seeds", type=Path)
    parser.add_argument("--pause", type=float, default=0.0)
    args = parser.parse_args()
    add = PgWriter.add_article
    paused = False

    def add_then_pause(self, *a, **kw):
        nonlocal paused
        add(self, *a, **kw)
        if not paused:
            paused = True
            print("phase writing", flush=True)
            time.sleep(args.pause)

    PgWriter.add_article = add_then_pause  # type: ignore[method-assign]
    try:
        report = pg_build(pg_settings(args.url, args.seeds), FakeEmbedder())
    except IndexLocked as exc:
        print(f"locked: {exc}", flush=True)
        return 3
    print(f"built {report.generation}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
