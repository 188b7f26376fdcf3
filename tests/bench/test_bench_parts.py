"""The benchmark's parts run, at tiny sizes with the fake embedder. Nothing here is about speed:
the figures are checked for shape and for what must hold whatever the machine (recall of an
exhaustive probe, queueing subtracted), never against a time."""

from __future__ import annotations

import ast
import os
import tomllib
from pathlib import Path

import numpy as np
import pytest

from newsbot.bench.bot_driver import DriverPlan, Timed
from newsbot.bench.realdata import bench_real_recall, real_questions, recall_at
from newsbot.bench.records import BenchReport
from newsbot.bench.throughput import Burst, Queued, SendClock, bench_bot
from newsbot.config.settings import load_settings
from tests.bench.helpers import tiny_set
from tests.bot.conftest import ARTICLES, fake_factory, write_corpus
from tests.bot.test_workers import child_commands
from tests.conftest import ROOT
from tests.fakes.embedder import FakeEmbedder, open_with_fake_embedder


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_shipped_code_imports_nothing_from_tests() -> None:
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {ROOT / folder for folder in setup["package-dir"].values()}
    assert ROOT / "testing" in folders and ROOT / "bench" in folders
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for folder in folders
        for path in folder.glob("*.py")
        for name in _imports(path)
        if name == "tests" or name.startswith("tests.")
    }
    assert not offenders


def test_recall_is_the_share_of_the_true_top_k_found() -> None:
    truth = np.array([[1, 2, 3, 4], [5, 6, -1, -1]])
    found = np.array([[4, 3, 9, 9], [5, 6, -1, -1]])
    assert recall_at(found, truth) == pytest.approx((2 / 4 + 1) / 2)


def test_real_recall_indexes_once_and_an_exhaustive_probe_finds_everything(tmp_path: Path) -> None:
    where = tiny_set(tmp_path / "eval")
    embedder = FakeEmbedder()
    report = BenchReport(quick=True)
    bench_real_recall(report, load_settings(), embedder, embedder, where=where, kinds=("ivf-flat", "hnsw"))
    assert real_questions(sets=where.sets, root=where.root) == [
        "When does Scholz visit Kyiv?",
        "Did the central bank change rates?",
    ]
    recall = {r.metric: r for r in report.rows if r.unit == "recall"}
    assert recall and all(0 <= r.value <= 1 for r in recall.values())
    # A handful of chunks make one inverted list: probing it is exact search.
    assert all(r.value == 1.0 for m, r in recall.items() if m.startswith("ivf-flat"))
    assert all(r.load is not None for r in report.rows)  # every figure says how busy the machine was
    calls = embedder.calls
    bench_real_recall(BenchReport(quick=True), load_settings(), embedder, embedder, where=where, kinds=())
    assert embedder.calls == calls + 1  # the rerun embeds the questions only: the chunks are cached


def test_queueing_for_the_send_budget_is_subtracted_per_answer() -> None:
    clock = SendClock(
        [
            Queued(chat=1, entered=10.2, released=10.9),  # the answer to chat 1 waited 0.7 s
            Queued(chat=1, entered=11.0, released=11.0),  # its second piece, after the first was sent
            Queued(chat=2, entered=10.1, released=10.1),
        ]
    )
    timed = [Timed(1, 0, 10.0, 10.95, False), Timed(2, 0, 10.0, 10.15, False), Timed(3, -1, 9.0, 9.5, False)]
    burst = Burst(timed, clock)
    assert clock.queueing(timed[0]) == pytest.approx(0.7)
    assert clock.queueing(timed[2]) == 0.0  # never queued
    assert burst.latency().p50_ms == pytest.approx(550)
    assert burst.latency(without_queueing=True).p50_ms == pytest.approx(200)
    assert burst.latency(alone=True).count == 1
    assert burst.answers_per_second == pytest.approx(2 / 0.95)


def test_a_driver_plan_needs_questions_and_chats() -> None:
    with pytest.raises(ValueError, match="at least one question"):
        DriverPlan([], 1, 1, 0)
    with pytest.raises(ValueError, match="got 0, 1 and 0"):
        DriverPlan(["q"], 0, 1, 0)


@pytest.mark.timeout(300)
def test_the_bot_bench_drives_the_real_bot_from_a_separate_process(tmp_path: Path) -> None:
    settings = load_settings(
        seeds_dir=write_corpus(tmp_path / "seeds", ARTICLES),
        index_dir=tmp_path / "index",
        min_confidence=0.05,
        typing_after=0.0,
    )
    report = BenchReport(quick=True)
    questions = ["When does Scholz visit Kyiv?", "Will it rain in the north?", "Did the bank hold rates?"]
    bench_bot(report, settings, fake_factory(), questions, chats=3, rounds=2, sequential=2)
    rows = {r.metric: r for r in report.rows}
    for rate in ("1000", f"{settings.send_rate:g}"):
        answers = rows[f"3 chats at once, send_rate {rate}/s: answers/s (2 rounds)"]
        assert answers.value > 0 and answers.note.startswith("6 answers, 0 error replies")
        assert rows[f"3 chats at once, send_rate {rate}/s: p99 question to answer"].value > 0
        assert rows[f"one chat, one question at a time, send_rate {rate}/s: p50"].note.endswith("over 2 questions")
    limited = rows[f"3 chats at once, send_rate {settings.send_rate:g}/s: p99 less the wait for the send budget"]
    raw = rows[f"3 chats at once, send_rate {settings.send_rate:g}/s: p99 question to answer"]
    assert 0 < limited.value <= raw.value
    assert rows["3 chats at once, send_rate 1000/s: answers/s (2 rounds)"].target == ">= 50 answers/s at send_rate 1000"


@pytest.mark.timeout(300)
def test_the_bot_bench_measures_answering_in_worker_processes(tmp_path: Path) -> None:
    settings = load_settings(
        seeds_dir=write_corpus(tmp_path / "seeds", ARTICLES), index_dir=tmp_path / "index", min_confidence=0.05
    )
    fake_factory()(settings).close()  # builds the index the workers open
    report = BenchReport(quick=True)
    questions = ["When does Scholz visit Kyiv?", "Will it rain in the north?"]
    in_workers = settings.model_copy(update={"answer_processes": 1})
    variant = "answers in 1 worker process"
    bench_bot(
        report,
        in_workers,
        fake_factory(),
        questions,
        chats=2,
        rounds=1,
        sequential=1,
        variant=variant,
        opener=open_with_fake_embedder,
    )
    rows = {r.metric: r for r in report.rows}
    answers = rows[f"2 chats at once, send_rate 1000/s, {variant}: answers/s (1 rounds)"]
    assert answers.value > 0 and answers.note.startswith("2 answers, 0 error replies") and answers.target is None
    # The bench stops the bot as run_polling would: no answer worker outlives it.
    assert not [c for c in child_commands(os.getpid()) if "spawn_main" in c]


def test_a_bot_spec_survives_its_file_and_refuses_too_few_questions(tmp_path: Path) -> None:
    from newsbot.bench.botrun import BotSpec

    spec = BotSpec(tmp_path / "index", tmp_path / "seeds", tmp_path / "export", ("a?", "b?", "c?", "d?"), 2, 2, 0)
    assert BotSpec.load(spec.save(tmp_path / "spec.json")) == spec
    with pytest.raises(ValueError, match="3 questions for 2 chats x 2 rounds"):
        BotSpec(tmp_path, tmp_path, tmp_path, ("a?", "b?", "c?"), 2, 2, 0)
    with pytest.raises(ValueError, match="chats and rounds"):
        BotSpec(tmp_path, tmp_path, tmp_path, ("a?",), 0, 1, 0)
