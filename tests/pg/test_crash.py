"""Builds into PostgreSQL killed with SIGKILL mid-transaction, and two builds at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from newsbot.index import backends
from newsbot.index.manifest import IndexLocked
from tests.conftest import ROOT, SEED_QUESTION, write_article
from tests.pg.helpers import pg_build, pg_retriever, pg_settings


def start_child(url: str, seeds: Path, pause: float) -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.pg_build_child", url, str(seeds), "--pause", str(pause)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"NEWSBOT_CONFIG": str(seeds / "absent.toml")},
    )
    assert child.stdout is not None
    line = child.stdout.readline()  # blocks until the child is inside its transaction
    assert line.strip() == "phase writing", line
    return child


def add_articles(seeds: Path, n: int) -> None:
    for i in range(n):
        write_article(seeds, f"more/{i:03d}.txt", f"Update {i}", f"Scholz met Zelensky again, meeting number {i}.")


def test_a_build_killed_mid_transaction_leaves_the_previous_state_serving(pg_url: str, seeds_copy: Path) -> None:
    settings = pg_settings(pg_url, seeds_copy)
    pg_build(settings)
    retriever = pg_retriever(settings)
    try:
        before = (retriever.article_count, retriever.chunk_count, retriever.reader.stored_generation())
        expected = retriever.answer(SEED_QUESTION)
        add_articles(seeds_copy, 5)
        child = start_child(pg_url, seeds_copy, pause=600)
        # While it writes, readers see the previous build only.
        assert (retriever.article_count, retriever.chunk_count, retriever.reader.stored_generation()) == before
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL
        # Nothing of the killed build is visible; the bot answers as before.
        assert (retriever.article_count, retriever.chunk_count, retriever.reader.stored_generation()) == before
        assert retriever.answer(SEED_QUESTION).citations == expected.citations
        # The next build needs no clean-up: the lock died with the connection.
        report = pg_build(settings)
        assert report.added == 5 and report.generation == "generation 2"
        assert retriever.article_count == before[0] + 5
    finally:
        retriever.close()


def test_a_second_build_at_once_is_refused_with_a_clear_message(pg_url: str, seeds_copy: Path) -> None:
    settings = pg_settings(pg_url, seeds_copy)
    pg_build(settings)
    add_articles(seeds_copy, 2)
    child = start_child(pg_url, seeds_copy, pause=600)
    try:
        with pytest.raises(IndexLocked, match="another `newsbot index` is building into postgresql://"):
            pg_build(settings)
    finally:
        child.kill()
        child.wait()
    assert pg_build(settings).added == 2
    assert backends.index_exists(settings)
