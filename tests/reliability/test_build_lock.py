"""One build at a time: a second one is refused (or waits), and a dead build's lock is no lock."""

from __future__ import annotations

from pathlib import Path

import pytest
from filelock import FileLock, Timeout

from newsbot.index.builder import IndexBuilder
from newsbot.index.folder import BUILD_PREFIX, LOCK, IndexWriter
from newsbot.index.manifest import IndexLocked
from tests.fakes.embedder import FakeEmbedder
from tests.reliability.helpers import (
    CHUNK_TOKENS,
    Child,
    check_index,
    expected_hashes,
    make_corpus,
    news_files,
    run_cli,
)


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, Path]:
    seeds = make_corpus(tmp_path / "seeds", news_files(every=160))
    index_dir = tmp_path / "index"
    IndexBuilder(FakeEmbedder(), chunk_tokens=CHUNK_TOKENS).build(seeds, index_dir)
    (seeds / "extra.txt").write_text("An extra article\n\nSomething new happened in the test town.\n")
    return seeds, index_dir


def _holding_lock(seeds: Path, index_dir: Path, pause: str = "1.0") -> Child:
    child = Child(seeds, index_dir, "--pause", pause)
    assert child.wait_for("phase writing"), child.seen  # the lock is held from here to the swap
    return child


@pytest.mark.slow
def test_second_build_is_refused_with_a_clear_message(corpus, monkeypatch) -> None:
    seeds, index_dir = corpus
    first = _holding_lock(seeds, index_dir)
    result = run_cli(monkeypatch, "index", "--seeds", str(seeds), "--index", str(index_dir))
    second = Child(seeds, index_dir)
    assert second.finish() == 3 and any("another `newsbot index` is building" in s for s in second.seen)
    assert first.finish() == 0, first.stderr

    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert "another `newsbot index` is building" in lines[-1] and "wait for it to finish" in lines[-1]
    assert "Traceback" not in result.output
    assert check_index(index_dir)[0] == expected_hashes(seeds)


@pytest.mark.slow
def test_second_build_with_wait_runs_after_the_first(corpus, monkeypatch) -> None:
    seeds, index_dir = corpus
    first = _holding_lock(seeds, index_dir, pause="0.5")
    (seeds / "later.txt").write_text("A later article\n\nIt arrived while the first build was writing.\n")
    result = run_cli(monkeypatch, "index", "--seeds", str(seeds), "--index", str(index_dir), "--wait", "60")
    assert first.finish() == 0, first.stderr
    assert result.exit_code == 0, result.output
    assert "added 1" in result.stderr  # the first build had taken extra.txt; this one adds later.txt
    assert check_index(index_dir)[0] == expected_hashes(seeds)


@pytest.mark.slow
def test_lock_of_a_killed_build_dies_with_it(corpus) -> None:
    seeds, index_dir = corpus
    child = _holding_lock(seeds, index_dir)
    with pytest.raises(Timeout):  # held by the other process: an OS lock, not a file's existence
        FileLock(index_dir / LOCK, timeout=0).acquire()
    with pytest.raises(IndexLocked, match="another `newsbot index`"):
        IndexWriter(index_dir).__enter__()
    assert child.kill()
    assert (index_dir / LOCK).exists() and list(index_dir.glob(BUILD_PREFIX + "*"))

    with IndexWriter(index_dir, lock_timeout=0) as writer:  # no wait, no manual clean-up
        assert writer.previous is not None
        assert not list(index_dir.glob(BUILD_PREFIX + "*")), "the killed build's temp folder is cleared"
    report = IndexBuilder(FakeEmbedder(), chunk_tokens=CHUNK_TOKENS).build(seeds, index_dir)
    assert report.added == 1
    assert check_index(index_dir)[0] == expected_hashes(seeds)
