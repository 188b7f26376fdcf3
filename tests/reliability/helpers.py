"""Shared by the reliability tests: a small news corpus, a build in a child process, checks."""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from newsbot.index.folder import IndexReader
from newsbot.index.readers import FolderReader
from newsbot.retrieval.retriever import Retriever
from tests.conftest import ROOT, SEEDS
from tests.fakes.embedder import FakeEmbedder

NEWS = ROOT / "corpora" / "news" / "articles"
# The FakeEmbedder cannot rank the seed question's wording, so crash tests ask the seed article
# the same thing in its own words; the first citation must still hold the seed's "February 14-15".
KNOWN_QUESTION = "When will Scholz travel to Kyiv and Moscow?"
KNOWN_ANSWER = "February 14-15"
CHUNK_TOKENS = 64  # the child builds with this too, so incremental builds stay incremental


def news_files(every: int = 40, offset: int = 0) -> list[Path]:
    """A spread of the news corpus: every ``every``-th article, starting at ``offset``."""
    return sorted(NEWS.iterdir())[offset::every]


def make_corpus(folder: Path, news: list[Path]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in SEEDS.iterdir():
        shutil.copy(path, folder / path.name)
    for path in news:
        shutil.copy(path, folder / path.name)
    return folder


def expected_hashes(seeds: Path) -> dict[str, str]:
    """What a finished build of ``seeds`` must hold: article path -> content hash."""
    return {a.path: a.hash for a in FolderReader(seeds).read().articles}


def live_hashes(index_dir: Path) -> dict[str, str]:
    reader = IndexReader.open(index_dir, verify=True)
    try:
        return {path: entry.hash for path, entry in reader.manifest.articles.items()}
    finally:
        reader.close()


def check_index(index_dir: Path) -> tuple[dict[str, str], str]:
    """Opens the live index, checks every file and count, answers the known question.

    Returns the live article hashes and the first citation's excerpt.
    """
    reader = IndexReader.open(index_dir, verify=True)
    try:
        stored = list(reader.chunks.iter_chunks())
        assert len(stored) == len(reader.vectors) == reader.manifest.chunk_count
        assert {a.path for a in reader.chunks.all_articles()} == set(reader.manifest.articles)
        hashes = {path: entry.hash for path, entry in reader.manifest.articles.items()}
    finally:
        reader.close()
    retriever = Retriever.open(index_dir, embedder=FakeEmbedder())
    try:
        answer = retriever.answer(KNOWN_QUESTION)
    finally:
        retriever.close()
    assert answer.answer is not None and answer.citations, answer
    assert KNOWN_ANSWER in answer.citations[0].excerpt, answer
    return hashes, answer.citations[0].excerpt


class Child:
    """``tests.fakes.build_child`` in its own process, its phase lines read as they come."""

    def __init__(self, seeds: Path, index_dir: Path, *args: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.build_child", str(seeds), str(index_dir), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def wait_for(self, prefix: str, timeout: float = 60.0) -> bool:
        """True once a line starting with ``prefix`` arrives; False if the child ended first."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                return False
            self.seen.append(line)
            if line.startswith(prefix):
                return True
        raise TimeoutError(f"child printed no {prefix!r} in {timeout} s; saw {self.seen}")

    def drain(self) -> None:
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                return
            if line is not None:
                self.seen.append(line)

    def kill(self) -> bool:
        """SIGKILL; True if the child was still running (the kill landed mid-build)."""
        running = self.proc.poll() is None
        self.proc.kill()
        self.proc.wait(timeout=30)
        self.drain()
        return running

    def finish(self, timeout: float = 120.0) -> int:
        code = self.proc.wait(timeout=timeout)
        time.sleep(0.05)
        self.drain()
        return code

    @property
    def stderr(self) -> str:
        return self.proc.stderr.read() if self.proc.stderr else ""

    @property
    def last_phase(self) -> str:
        phases = [line.split()[1] for line in self.seen if line.startswith("phase ")]
        return phases[-1] if phases else "startup"


def run_cli(monkeypatch, *args: str, embedder: FakeEmbedder | None = None):
    """``newsbot ARGS`` in this process with the fake model; returns click's Result."""
    from typer.testing import CliRunner

    import newsbot.cli.common
    from newsbot.command import app

    monkeypatch.setattr(newsbot.cli.common, "make_embedder", lambda settings: embedder or FakeEmbedder())
    monkeypatch.setenv("NEWSBOT_CHUNK_TOKENS", str(CHUNK_TOKENS))  # as the child and fixtures build
    return CliRunner().invoke(app, list(args))
