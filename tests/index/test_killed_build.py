"""A build killed mid-write leaves the previous index whole, and the next build just works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from newsbot.index.folder import BUILD_PREFIX, IndexReader
from newsbot.retrieval.retriever import Retriever
from tests.conftest import ROOT, write_article
from tests.fakes.embedder import FakeEmbedder

BUILD = """
import sys
from pathlib import Path
from newsbot.index.builder import IndexBuilder
from tests.fakes.embedder import FakeEmbedder
IndexBuilder(FakeEmbedder(delay=float(sys.argv[3])), chunk_tokens=64).build(
    Path(sys.argv[1]), Path(sys.argv[2]), full=True)
print("done", flush=True)
"""


def run_build(seeds: Path, index: Path, delay: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", BUILD, str(seeds), str(index), str(delay)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigkill_during_a_rebuild_keeps_the_previous_index(tmp_path):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    write_article(seeds, "seed.txt", "Scholz travels", "Scholz will travel to Kyiv and Moscow on February 14-15.")
    for i in range(40):
        write_article(seeds, f"filler-{i:02}.txt", f"Filler {i}", f"Unrelated filler story number {i} about farming.")
    assert run_build(seeds, index, 0.0).wait(60) == 0
    before = IndexReader.open(index).folder.name

    proc = run_build(seeds, index, 0.05)  # ~2 s of embedding: the kill lands mid-build
    deadline = time.monotonic() + 30
    while not list(index.glob(BUILD_PREFIX + "*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL

    reader = IndexReader.open(index, verify=True)
    assert reader.folder.name == before
    hits = Retriever.open(index, embedder=FakeEmbedder()).search("when does Scholz visit Kyiv", k=1)
    assert "February 14-15" in hits[0].chunk.text

    assert run_build(seeds, index, 0.0).wait(60) == 0  # the dead build's lock and temp folder do not block
    assert not list(index.glob(BUILD_PREFIX + "*"))
    assert IndexReader.open(index, verify=True).folder.name != before
