"""`newsbot index --watch`: an added, changed or deleted article is answered, re-answered, forgotten."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsbot import command
from newsbot.cli import common as cli
from newsbot.cli.index import SeedsFilter, watch_seeds
from newsbot.config.settings import load_settings
from newsbot.index.manifest import IndexProblem
from newsbot.retrieval.retriever import Retriever
from tests.conftest import write_article
from tests.fakes.embedder import FakeEmbedder

BUDGET = 60.0  # seconds a change may take to reach the index; generous for a loaded machine


@pytest.fixture(autouse=True)
def no_config(monkeypatch, tmp_path):
    monkeypatch.setenv("NEWSBOT_CONFIG", str(tmp_path / "absent.toml"))


def paths_for(index: Path, query: str) -> set[str]:
    try:
        retriever = Retriever.open(index, embedder=FakeEmbedder())
    except (IndexProblem, FileNotFoundError, OSError):
        return set()  # a swap in progress: look again
    try:
        return {h.article.path for h in retriever.search(query, k=5, mode="bm25")}
    finally:
        retriever.close()


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + BUDGET
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"not within {BUDGET:.0f} s: {what}")


def test_added_changed_and_deleted_files_reach_the_index(tmp_path):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    write_article(seeds, "harbour.txt", "Harbour bridge", "The harbour bridge opens to traffic in May.")
    settings = load_settings(seeds_dir=seeds, index_dir=index)
    stop = threading.Event()
    watcher = threading.Thread(target=watch_seeds, args=(settings, FakeEmbedder()), kwargs={"stop_event": stop})
    watcher.start()
    try:
        wait_until(lambda: paths_for(index, "harbour bridge") == {"harbour.txt"}, "the first build")
        write_article(seeds, "news/volcano.md", "Volcano", "The zephyrine volcano erupted on Tuesday.")
        wait_until(lambda: "news/volcano.md" in paths_for(index, "zephyrine volcano"), "an added file answered")
        write_article(seeds, "news/volcano.md", "Volcano", "The quillbark volcano went quiet on Friday.")
        wait_until(lambda: "news/volcano.md" in paths_for(index, "quillbark"), "a changed file re-answered")
        assert "news/volcano.md" not in paths_for(index, "zephyrine")
        (seeds / "news" / "volcano.md").unlink()
        # Asked with a word of the other article too, so an index caught mid-swap (no hits) never passes.
        wait_until(lambda: paths_for(index, "quillbark volcano harbour") == {"harbour.txt"}, "a deleted file forgotten")
    finally:
        stop.set()
        watcher.join(30)
    assert not watcher.is_alive()


def test_hidden_temporary_and_ignored_files_do_not_trigger_a_build(tmp_path):
    seeds, index = tmp_path / "seeds", tmp_path / "seeds" / "index"
    keep = SeedsFilter(seeds, index, ["README*", "feeds.toml"])
    from watchfiles import Change

    assert keep(Change.added, str(seeds / "feeds" / "a" / "2024-01-01-x.md"))
    assert keep(Change.deleted, str(seeds / "old.txt"))
    for path in ("feeds/.state.json", "feeds/a/.x.md.abc.tmp", "feeds.toml", "README.md", "a.txt~", "index/CURRENT"):
        assert not keep(Change.added, str(seeds / path)), path


def test_index_watch_builds_then_rebuilds_on_each_change_and_stops_cleanly(tmp_path, monkeypatch):
    seeds = tmp_path / "seeds"
    write_article(seeds, "a.txt", "A", "Alpha text.")
    monkeypatch.setattr(cli, "make_embedder", lambda settings: FakeEmbedder())
    builds = []
    real_build = cli.run_build
    monkeypatch.setattr(cli, "run_build", lambda *a, **kw: builds.append(kw) or real_build(*a, **kw))

    def two_changes_then_ctrl_c(*args, **kwargs):
        yield {(1, str(seeds / "b.txt"))}
        yield {(2, str(seeds / "a.txt"))}
        raise KeyboardInterrupt

    monkeypatch.setattr("watchfiles.watch", two_changes_then_ctrl_c)
    result = CliRunner().invoke(
        command.app, ["index", "--watch", "--seeds", str(seeds), "--index", str(tmp_path / "i")]
    )
    assert result.exit_code == 0, result.output
    assert len(builds) == 3 and "changed: b.txt; updating the index" in result.stderr
    assert "stopped watching" in result.stderr
