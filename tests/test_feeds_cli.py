"""`newsbot feeds` as an operator meets it: add, list, update (fetch, save, index), remove."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from newsbot import command
from newsbot.cli import common as cli
from tests.fakes.embedder import FakeEmbedder
from tests.fakes.feed_server import FeedServer, Item, Page, article_page, rss

runner = CliRunner()
LIGHTHOUSE = (
    "The old lighthouse on Gull Island will reopen to visitors on 12 June after a two-year restoration.",
    "Volunteers repainted the tower and repaired the lamp room, the island trust said.",
)


@pytest.fixture(autouse=True)
def fake_model(monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "make_embedder", lambda settings: FakeEmbedder())
    monkeypatch.setenv("NEWSBOT_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("NEWSBOT_FEED_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("NEWSBOT_FEED_HOST_DELAY_SECONDS", "0")


@pytest.fixture
def server():
    with FeedServer() as s:
        s.routes["/feed.xml"] = rss(
            "Island Times",
            [Item("Lighthouse to reopen", s.url("/lighthouse"), "l-1", datetime(2024, 5, 2, tzinfo=UTC))],
        )
        s.routes["/lighthouse"] = article_page("Lighthouse to reopen", *LIGHTHOUSE)
        yield s


def invoke(*args: str):
    return runner.invoke(command.app, list(args))


def test_add_update_then_ask_answers_from_the_feed(server, tmp_path):
    where = ["--seeds", str(tmp_path / "seeds")]
    added = invoke("feeds", "add", server.url("/feed.xml"), *where)
    assert added.exit_code == 0, added.output
    assert "following 127-0-0-1" in added.stdout
    updated = invoke("feeds", "update", *where, "--index", str(tmp_path / "index"))
    assert updated.exit_code == 0, updated.output
    assert "feed 127-0-0-1: 1 new, 0 already saved" in updated.stdout
    assert "added 1" in updated.stderr  # indexed incrementally
    answer = invoke(
        "ask", "when will the lighthouse on Gull Island reopen?", *where, "--index", str(tmp_path / "index")
    )
    assert answer.exit_code == 0, answer.output
    assert "12 June" in answer.stdout and "Lighthouse to reopen" in answer.stdout and "Island Times" in answer.stdout
    assert server.url("/lighthouse") in answer.stdout  # the item's own link, from its front matter


def test_a_failing_feed_exits_1_and_the_good_one_is_still_indexed(server, tmp_path):
    where = ["--seeds", str(tmp_path / "seeds"), "--index", str(tmp_path / "index")]
    server.routes["/down.xml"] = Page(b"", status=503)
    items = [
        Item("Lighthouse to reopen", server.url("/lighthouse"), "l-1"),
        Item("Ferry strike ends", server.url("/ferry"), "f-1", summary="The ferry strike ended at noon."),
    ]
    server.routes["/feed.xml"] = rss("Island Times", items)
    assert invoke("feeds", "add", server.url("/down.xml"), "--name", "down", *where[:2]).exit_code == 0
    assert invoke("feeds", "add", server.url("/feed.xml"), "--name", "island", *where[:2]).exit_code == 0
    result = invoke("feeds", "update", *where)
    assert result.exit_code == 1
    assert "feed down: failed: HTTP 503" in result.stderr
    assert "feed island: 2 new, 1 of them from the feed's summary" in result.stdout and "added 2" in result.stderr
    assert (
        f"feed island: summary only: {server.url('/ferry')}: page failed: HTTP 404; saved the feed's summary instead"
        in result.stderr
    )
    again = invoke("feeds", "update", *where)
    assert "feed island: 0 new, 2 already saved" in again.stdout and "added" not in again.stderr


def test_list_and_remove_with_purge(server, tmp_path):
    seeds = tmp_path / "seeds"
    where = ["--seeds", str(seeds)]
    invoke("feeds", "add", server.url("/feed.xml"), "--name", "island", *where)
    assert "island  http://127.0.0.1" in invoke("feeds", "list", *where).stdout
    invoke("feeds", "update", *where, "--index", str(tmp_path / "index"))
    listed = invoke("feeds", "list", *where).stdout
    assert "1 articles saved" in listed and "last update: never" not in listed
    removed = invoke("feeds", "remove", "island", "--purge", *where)
    assert removed.exit_code == 0, removed.output
    assert not (seeds / "feeds" / "island").exists()
    assert "no feeds in" in invoke("feeds", "list", *where).stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["feeds", "add", "ftp://example.org/feed"], "not an http:// or https:// URL"),
        (["feeds", "add", "https://example.org/feed", "--name", "Bad Name"], "e.g. 'bad-name'"),
        (["feeds", "remove", "nothing"], "no feed named 'nothing'"),
        (["feeds", "update"], "no feeds in"),
        (["feeds", "add"], "Missing argument 'URL'"),
        (["feeds", "remove"], "Missing argument 'NAME'"),
        (["feeds", "update", "--bogus"], "No such option"),
    ],
)
def test_bad_usage_exits_2_with_one_line(tmp_path, args, message):
    result = invoke(*args, "--seeds", str(tmp_path / "seeds"))
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_bad_feed_settings_exit_2_naming_the_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSBOT_FEED_TIMEOUT_SECONDS", "-1")
    result = invoke("feeds", "list", "--seeds", str(tmp_path))
    assert result.exit_code == 2 and "feed_timeout_seconds" in result.output


def test_help_names_every_command_and_the_exit_codes():
    assert all(c in invoke("feeds", "--help").stdout for c in ("add", "list", "remove", "update"))
    text = " ".join(invoke("feeds", "update", "--help").stdout.split())
    assert "0 when every feed was fine, 1 when any feed failed" in text
