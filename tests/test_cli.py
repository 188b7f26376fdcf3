"""The `newsbot` command as a user meets it (fake embedder; the real model is in integration)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from newsbot import command
from newsbot.cli import common as cli
from tests.conftest import SEED_QUESTION, write_article
from tests.fakes.embedder import FakeEmbedder

runner = CliRunner()


@pytest.fixture(autouse=True)
def fake_model(monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "make_embedder", lambda settings: FakeEmbedder())
    monkeypatch.setenv("NEWSBOT_CONFIG", str(tmp_path / "absent.toml"))


def invoke(*args: str, stdin: str | None = None):
    return runner.invoke(command.app, list(args), input=stdin)


def test_ask_builds_the_index_on_first_use_and_cites_the_seed(seeds_copy, tmp_path):
    index = tmp_path / "index"
    result = invoke("ask", SEED_QUESTION, "--seeds", str(seeds_copy), "--index", str(index))
    assert result.exit_code == 0, result.output
    assert "added 1" in result.stderr
    assert "February 14-15" in result.stdout and "Al Jazeera" in result.stdout
    assert (index / "CURRENT").is_file()


def test_ask_json_prints_one_object_per_stdin_line_in_the_documented_shape(seeds_copy, tmp_path):
    args = ["ask", "--json", "--seeds", str(seeds_copy), "--index", str(tmp_path / "i")]
    result = invoke(*args, stdin=f"{SEED_QUESTION}\n\nwho met Biden?\n")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in lines] == [SEED_QUESTION, "who met Biden?"]
    first = lines[0]
    assert {"question", "answer", "confident", "citations"} <= set(first)
    citation = first["citations"][0]
    assert {"n", "title", "source", "date", "url", "path", "paragraph", "excerpt", "score"} <= set(citation)
    assert citation["n"] == 1 and citation["date"] == "2022-02-06" and isinstance(citation["paragraph"], int)


def test_the_terminal_names_each_other_article_of_a_citation_with_where_to_find_it():
    from datetime import date

    from newsbot.cli.terminal import render_answer
    from newsbot.retrieval.records import AlsoIn, Answer, Citation

    others = (
        AlsoIn(title="Wire copy", source="Wire", date=date(2022, 2, 12), url="https://example.org/w", path="w.txt"),
        AlsoIn(title="Plain", source=None, date=None, url=None, path="p.txt"),
    )
    cited = Citation(
        n=1,
        title="T",
        source="S",
        date=None,
        url=None,
        path="t.txt",
        paragraph=1,
        excerpt="E.",
        score=0.5,
        start=0,
        end=2,
        article_id="a",
        chunk_id=1,
        also_in=others,
    )
    shown = render_answer(Answer(question="q", answer="E.", confident=True, citations=[cited])).plain
    assert "also in: Wire copy (Wire, 2022-02-12), https://example.org/w\n" in shown
    assert "also in: Plain, p.txt\n" in shown


@pytest.mark.parametrize(
    "args, message",
    [
        (["ask", ""], "question is empty"),
        (["ask", "x", "--seeds", "/no/such/folder", "--index", "/tmp/newsbot-none"], "does not exist"),
        (["index", "--seeds", "/no/such/folder"], "does not exist"),
        (["ask", "x", "--k", "0"], "Invalid value"),
        (["ask", "--bogus"], "No such option"),
    ],
)
def test_bad_usage_exits_2_with_one_clear_message(args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_ask_without_question_and_without_stdin_is_a_usage_error():
    result = invoke("ask", stdin="")
    assert result.exit_code == 2 and "one question per line" in result.output


def test_index_names_bad_files_counts_them_and_exits_non_zero(tmp_path):
    seeds = tmp_path / "s"
    write_article(seeds, "good.txt", "Good", "A fine article.")
    (seeds / "bad.txt").write_bytes(b"\x00\x01")
    result = invoke("index", "--seeds", str(seeds), "--index", str(tmp_path / "i"))
    assert result.exit_code == 1
    assert "failed: bad.txt: binary file" in result.stderr
    assert "added 1" in result.stderr and "failed 1" in result.stderr


def test_empty_seeds_folder_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    result = invoke("index", "--seeds", str(tmp_path / "empty"), "--index", str(tmp_path / "i"))
    assert result.exit_code == 2 and "no readable articles" in result.stderr


def test_corrupt_index_is_reported_with_how_to_rebuild(seeds_copy, tmp_path):
    index = tmp_path / "index"
    assert invoke("index", "--seeds", str(seeds_copy), "--index", str(index)).exit_code == 0
    (index / (index / "CURRENT").read_text().strip() / "vectors.faiss").write_bytes(b"torn")
    result = invoke("ask", SEED_QUESTION, "--seeds", str(seeds_copy), "--index", str(index))
    assert result.exit_code == 1 and "newsbot index --full" in result.stderr


def test_every_option_has_help_text():
    import click
    import typer.main

    group = typer.main.get_command(command.app)
    assert {"ask", "chat", "index", "serve", "eval", "bench"} <= set(group.commands)
    for name, cmd in group.commands.items():
        for param in cmd.params:
            if isinstance(param, click.Option):
                assert param.help, f"newsbot {name} {param.opts[0]} has no help text"
