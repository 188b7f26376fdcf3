"""`newsbot eval` and `newsbot chat` end to end with the fake embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsbot import command
from newsbot.cli import common as cli
from tests.eval.test_metrics import write_set
from tests.fakes.embedder import FakeEmbedder
from tests.retrieval.conftest import write_news

runner = CliRunner()

DOCS = [
    {"id": "gas", "title": "Gas prices", "text": "Gas prices in Europe rose by 30 percent in January."},
    {"id": "troops", "title": "Troops", "text": "Russia has mustered some 100,000 troops near Ukraine."},
    {"id": "talks", "title": "Talks", "text": "Macron will travel to Kyiv on Tuesday for talks."},
]
QUERIES = [
    {"id": "1", "question": "How much did gas prices in Europe rise?", "answers": ["30 percent"], "doc_ids": ["gas"]},
    {"id": "2", "question": "How many troops has Russia mustered?", "answers": ["100,000"], "doc_ids": ["troops"]},
    {"id": "3", "question": "When will Macron travel to Kyiv?", "answers": ["Tuesday"], "doc_ids": ["talks"]},
]
OTHER = [
    {"id": "9", "question": "What is the boiling point of liquid nitrogen?", "answers": ["77 K"], "doc_ids": ["n2"]}
]


@pytest.fixture(autouse=True)
def fake_model(monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "make_embedder", lambda settings: FakeEmbedder())
    monkeypatch.setenv("NEWSBOT_CONFIG", str(tmp_path / "absent.toml"))


def test_eval_compare_json_scores_every_mode_and_reuses_its_cache(tmp_path: Path) -> None:
    dataset = write_set(tmp_path / "tiny", DOCS, QUERIES)
    other = write_set(tmp_path / "other", [{"id": "n2", "text": "Nitrogen boils at 77 K."}], OTHER)
    args = [
        "eval",
        str(dataset),
        "--compare",
        "--json",
        "--cache",
        str(tmp_path / "cache"),
        "--unanswerable",
        str(other),
        "--split",
        "all",
    ]
    result = runner.invoke(command.app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data["modes"]) == {"bm25", "dense", "hybrid"}
    for scores in data["modes"].values():
        assert scores["R@1"] == 1.0
        assert 0 <= scores["hit@1"] <= scores["hit@3"] <= 1
    [cross] = data["unanswerable"]
    assert cross["set"] == "other" and cross["queries"] == 1 and cross["tradeoff"]
    assert data["split"] == "all" and data["fusion"] == "score"
    for key in ("short", "coverage", "wrong_bold"):
        assert 0 <= data["modes"]["hybrid"][key] <= 1
    generations = list((tmp_path / "cache").glob("tiny-*/index/gen-*"))
    again = runner.invoke(command.app, args)
    assert again.exit_code == 0
    assert list((tmp_path / "cache").glob("tiny-*/index/gen-*")) == generations


def test_eval_scores_the_test_split_by_default_and_the_sets_own_unanswerables(tmp_path: Path) -> None:
    from newsbot.retrieval.evaluate import split_of

    dataset = write_set(tmp_path / "tiny", DOCS, QUERIES)
    unanswerable = [{"id": f"u{i}", "question": f"who won the chess olympiad number {i}?"} for i in range(6)]
    (dataset / "unanswerable.jsonl").write_text("".join(json.dumps(u) + "\n" for u in unanswerable))
    runs = {}
    for split in ("dev", "test", "all"):
        args = ["eval", str(dataset), "--mode", "bm25", "--json", "--cache", str(tmp_path / "c"), "--split", split]
        result = runner.invoke(command.app, args)
        assert result.exit_code == 0, result.output
        runs[split] = json.loads(result.stdout)
    assert runs["test"] == runs["test"] | {"split": "test"}
    for split in ("dev", "test"):
        expected = [q for q in QUERIES if split_of(q["id"]) == split]
        assert runs[split]["queries"] == len(expected)
        [own] = runs[split]["unanswerable"]
        assert own["set"] == "in-domain"
        assert own["queries"] == sum(split_of(u["id"]) == split for u in unanswerable)
    assert runs["dev"]["queries"] + runs["test"]["queries"] == runs["all"]["queries"] == 3


def test_eval_prints_a_table(tmp_path: Path) -> None:
    dataset = write_set(tmp_path / "tiny", DOCS, QUERIES)
    args = ["eval", str(dataset), "--mode", "bm25", "--cache", str(tmp_path / "c"), "--split", "all"]
    result = runner.invoke(command.app, args)
    assert result.exit_code == 0, result.output
    assert "R@5" in result.stdout and "bm25" in result.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["eval", "nowhere"], "not a folder"),
        (["eval", ".", "--mode", "hybrid", "--compare"], "either --mode or --compare"),
        (["eval", ".", "--split", "train"], "--split must be one of dev, test, all"),
        (["eval", ".", "--fusion", "sum"], "fusion"),
    ],
)
def test_eval_bad_usage_is_one_line_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(command.app, args)
    assert result.exit_code == 2 and message in result.stderr
    assert "Traceback" not in result.output


def test_chat_resolves_a_follow_up(tmp_path: Path) -> None:
    seeds = write_news(tmp_path / "seeds")
    talk = "when does Scholz visit Kyiv?\nand when does he go to Moscow?\n/quit\n"
    result = runner.invoke(command.app, ["chat", "--seeds", str(seeds), "--index", str(tmp_path / "index")], input=talk)
    assert result.exit_code == 0, result.output
    assert "understood as: when does Scholz go to Moscow?" in result.stdout
    assert "Scholz to visit Kyiv and Moscow" in result.stdout


def test_eval_against_an_earlier_run_prints_both_and_refuses_another_split(tmp_path: Path) -> None:
    dataset = write_set(tmp_path / "tiny", DOCS, QUERIES)
    base = ["eval", str(dataset), "--mode", "bm25", "--cache", str(tmp_path / "c"), "--split", "all"]
    saved = runner.invoke(command.app, [*base, "--json"])
    assert saved.exit_code == 0, saved.output
    earlier = tmp_path / "main-before.json"
    earlier.write_text(saved.stdout)
    result = runner.invoke(command.app, [*base, "--against", str(earlier)])
    assert result.exit_code == 0, result.output
    assert "bm25 (main-before)" in result.stdout
    other_split = runner.invoke(command.app, [*base[:-1], "test", "--against", str(earlier)])
    assert other_split.exit_code == 2 and "scored the 'all' split" in other_split.stderr
    (tmp_path / "junk.json").write_text("[1, 2]")
    junk = runner.invoke(command.app, [*base, "--against", str(tmp_path / "junk.json")])
    assert junk.exit_code == 2 and "not a newsbot eval --json result" in junk.stderr
