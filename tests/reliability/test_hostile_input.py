"""A hostile seeds folder: every good article indexed, every bad file named with its reason,
nothing read outside the folder, no crash."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from newsbot.index.builder import IndexBuilder
from newsbot.index.folder import IndexReader
from tests.conftest import ROOT
from tests.fakes.embedder import FakeEmbedder
from tests.fakes.hostile import SECRET, SIZE_LIMIT, HostileCorpus, make_hostile_corpus
from tests.reliability.helpers import run_cli

_watching: list[list[str]] = []


def _audit(event: str, args: tuple) -> None:
    if (
        _watching
        and event in ("open", "os.listdir", "os.scandir")
        and args
        and isinstance(args[0], (str, bytes, os.PathLike))
    ):
        _watching[-1].append(os.fsdecode(args[0]))


sys.addaudithook(_audit)  # audit hooks cannot be removed; this one records only inside `opened`


@contextmanager
def opened():
    """Every path opened or listed in this process while the block runs."""
    paths: list[str] = []
    _watching.append(paths)
    try:
        yield paths
    finally:
        _watching.remove(paths)


@pytest.fixture
def hostile(tmp_path: Path) -> HostileCorpus:
    return make_hostile_corpus(tmp_path)


def _texts(index_dir: Path) -> dict[str, str]:
    reader = IndexReader.open(index_dir, verify=True)
    try:
        paths = {a.id: a.path for a in reader.chunks.all_articles()}
        return {path: reader.chunks.article_text(ident) for ident, path in paths.items()}
    finally:
        reader.close()


def test_hostile_corpus_indexes_the_good_and_names_the_bad(hostile: HostileCorpus, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    with opened() as paths:
        report = IndexBuilder(FakeEmbedder(), max_file_bytes=SIZE_LIMIT).build(hostile.seeds, index_dir)

    texts = _texts(index_dir)
    assert set(texts) == set(hostile.good)
    for path, phrase in hostile.good.items():
        assert phrase in texts[path], path
    assert "Zürich café" in IndexReader.open(index_dir).manifest.articles["utf16.txt"].title

    failures = {f.path: f.reason for f in report.failures}
    assert set(failures) == set(hostile.bad), set(failures) ^ set(hostile.bad)
    for path, phrase in hostile.bad.items():
        assert phrase in failures[path], (path, failures[path])
    skipped = {f.path: f.reason for f in report.skipped}
    for path, phrase in hostile.skipped.items():
        assert phrase in skipped[path], (path, skipped.get(path))
    assert all("\n" not in f.reason for f in report.failures + report.skipped + report.warnings)

    everything = "\n".join(texts.values())
    for payload in (*hostile.never_in_text, SECRET, "oversizeword", "badnameword"):
        assert payload not in everything, payload
    outside = str(hostile.outside.resolve())
    assert paths and not [p for p in paths if os.path.realpath(p).startswith(outside)]
    print(
        f"\nhostile corpus: {len(hostile.good)} good articles indexed, "
        f"{len(hostile.bad)} bad files or lines named as failed, {len(hostile.skipped)} named as skipped"
    )


@pytest.fixture
def unconfigured_logging():
    """Logging as a fresh `newsbot index` process has it, whatever earlier tests configured
    (a `newsbot serve` test leaves a DEBUG handler on the root logger, where library debug
    tracebacks would land)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers.clear()
    root.setLevel(logging.WARNING)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("unconfigured_logging")
def test_newsbot_index_names_every_bad_file_on_stderr(hostile: HostileCorpus, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("NEWSBOT_MAX_FILE_BYTES", str(SIZE_LIMIT))
    result = run_cli(monkeypatch, "index", "--seeds", str(hostile.seeds), "--index", str(tmp_path / "index"))
    assert result.exit_code == 1, result.output  # built, but says some files failed
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    for path, phrase in hostile.bad.items():
        assert any(line.startswith(f"failed: {path}: ") and phrase in line for line in lines), path
    for path, phrase in hostile.skipped.items():
        assert any(line.startswith(f"skipped: {path}: ") and phrase in line for line in lines), path
    assert f"failed {len(hostile.bad)}," in result.stderr and f"added {len(hostile.good)}," in result.stderr


def _without_root_read_override() -> list[str] | None:
    """A command prefix under which chmod 000 blocks reads, or None when there is none."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]


def test_unreadable_file_is_named(tmp_path: Path) -> None:
    # Root reads a chmod-000 file anyway (CAP_DAC_OVERRIDE); the build runs in a child process
    # with those capabilities dropped, so the file is as unreadable as it is for a normal user.
    prefix = _without_root_read_override()
    if prefix is None:
        pytest.skip("running as root without setpriv: chmod 000 cannot stop root from reading")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "fine.txt").write_text("Fine article\n\nA readable line about the town fair.\n")
    locked = seeds / "locked.txt"
    locked.write_text("Locked article\n\nNobody may read this.\n")
    locked.chmod(0)
    try:
        done = subprocess.run(
            [*prefix, sys.executable, "-m", "tests.fakes.build_child", str(seeds), str(tmp_path / "index")],
            cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        locked.chmod(0o644)
    assert done.returncode == 0, done.stderr
    assert "failed locked.txt: permission denied" in done.stdout, done.stdout
    assert "added 1," in done.stdout


@pytest.mark.slow
def test_fifty_megabyte_file_is_refused_by_the_default_limit(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "fine.txt").write_text("Fine article\n\nA readable line about the town fair.\n")
    with (seeds / "huge.txt").open("w") as fh:
        fh.write("Huge article\n\n")
        line = "A long line of filler that repeats to make a very large file.\n"
        fh.write(line * (50_000_000 // len(line) + 1))
    assert (seeds / "huge.txt").stat().st_size > 50_000_000
    report = IndexBuilder(FakeEmbedder()).build(seeds, tmp_path / "index")  # default max_file_bytes
    assert [(f.path, "byte limit" in f.reason) for f in report.failures] == [("huge.txt", True)]
    assert report.added == 1


@pytest.mark.slow
def test_ten_thousand_tiny_files(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    for n in range(10_000):
        folder = seeds / f"batch-{n // 1000:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"note-{n:05d}.txt").write_text(f"Note {n}\n\nTiny note number {n} about item{n}.\n")
    started = time.perf_counter()
    report = IndexBuilder(FakeEmbedder()).build(seeds, tmp_path / "index")
    seconds = time.perf_counter() - started
    assert (report.added, report.failed, len(report.duplicates)) == (10_000, 0, 0)
    reader = IndexReader.open(tmp_path / "index", verify=True)
    assert len(reader.manifest.articles) == 10_000 and len(reader.vectors) == report.chunks
    reader.close()
    started = time.perf_counter()
    again = IndexBuilder(FakeEmbedder()).build(seeds, tmp_path / "index")
    print(
        f"\n10,000 tiny files: full build {seconds:.1f} s, unchanged rebuild "
        f"{time.perf_counter() - started:.1f} s (FakeEmbedder, 2 cores)"
    )
    assert (again.unchanged, again.chunks_embedded) == (10_000, 0)
