from __future__ import annotations

import sys

import pytest

from newsbot.index import heap


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_freed_heap_pages_go_back_to_the_system() -> None:
    def rss_kb() -> int:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))

    assert heap._malloc_trim() is not None  # glibc here: the release must not silently do nothing
    # Many small objects freed at once, one kept at the end so the heap's top cannot shrink by itself.
    junk = [bytes(2_000) for _ in range(30_000)]  # past pymalloc: glibc's heap
    keep = bytes(2_000)
    del junk
    before = rss_kb()
    heap.release_free_heap()
    assert rss_kb() < before - 20_000, "at least 20 MB of the 60 MB freed should have gone back"
    assert keep
