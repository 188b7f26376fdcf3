"""Feed updates: new items become article files the index reads; bad feeds are named, the rest go on."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from newsbot.config.settings import load_settings
from newsbot.feeds import update_feeds
from newsbot.feeds.feedlist import add_feed
from newsbot.feeds.files import atomic_write
from newsbot.feeds.state import FeedStateError, update_lock
from newsbot.index.readers import FolderReader
from tests.fakes.feed_server import FeedServer, Item, Page, article_page, atom, rss

BRIDGE = "The new harbour bridge opened to traffic on Monday after four years of construction work."
MAYOR = "The mayor said the bridge would cut commuting times by twenty minutes for the north shore."
VOLCANO = "The volcano near the village erupted on Tuesday night and ash covered the valley roads."


@pytest.fixture
def server():
    with FeedServer() as s:
        yield s


@pytest.fixture
def seeds(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("NEWSBOT_CONFIG", str(tmp_path / "absent.toml"))
    return tmp_path / "seeds"


def settings(seeds: Path, **kw):
    options = {"feed_allow_private": True, "feed_host_delay_seconds": 0, "feed_timeout_seconds": 5, **kw}
    return load_settings(seeds_dir=seeds, index_dir=seeds.parent / "index", **options)


def articles(seeds: Path):
    report = FolderReader(seeds, ignore=settings(seeds).ignore).read()
    assert report.failures == []
    return {a.path: a for a in report.articles}


def all_files(seeds: Path) -> list[str]:
    return sorted(p.relative_to(seeds).as_posix() for p in seeds.rglob("*") if p.is_file())


def test_rss_and_atom_items_become_articles_with_title_date_source_and_url(server, seeds):
    when = datetime(2024, 3, 5, 9, tzinfo=UTC)
    server.routes["/rss.xml"] = rss("Harbour News", [Item("Bridge opens", server.url("/bridge"), "b-1", when)])
    server.routes["/atom.xml"] = atom("Valley Post", [Item("Volcano erupts", server.url("/volcano"))])
    server.routes["/bridge"] = article_page("Bridge opens", BRIDGE, MAYOR)
    server.routes["/volcano"] = article_page("Volcano erupts", VOLCANO, when="2024-02-01")
    add_feed(seeds, server.url("/rss.xml"), "harbour")
    add_feed(seeds, server.url("/atom.xml"), "valley")
    report = update_feeds(settings(seeds))
    assert [r.summary() for r in report.results] == [
        "feed harbour: 1 new, 0 already saved",
        "feed valley: 1 new, 0 already saved",
    ]
    found = articles(seeds)
    bridge = found["feeds/harbour/2024-03-05-bridge-opens.md"]
    assert (bridge.title, bridge.date, bridge.source, bridge.url) == (
        "Bridge opens",
        date(2024, 3, 5),
        "Harbour News",
        server.url("/bridge"),
    )
    assert bridge.text == f"{BRIDGE}\n\n{MAYOR}"  # no navigation, footer or script
    volcano = found["feeds/valley/2024-01-01-volcano-erupts.md"]  # the feed's date wins over the page's
    assert volcano.source == "Valley Post" and volcano.text == VOLCANO
    assert all_files(seeds) == [
        "feeds.toml",
        "feeds/.lock",
        "feeds/.state.json",
        "feeds/harbour/2024-03-05-bridge-opens.md",
        "feeds/valley/2024-01-01-volcano-erupts.md",
    ]


def test_a_feed_that_gains_an_item_saves_only_the_new_one_and_304_means_nothing_new(server, seeds):
    first = Item("Bridge opens", server.url("/bridge"), "b-1", datetime(2024, 3, 5, tzinfo=UTC))
    server.routes["/feed.xml"] = rss("Harbour News", [first])
    server.routes["/bridge"] = article_page("Bridge opens", BRIDGE)
    server.routes["/volcano"] = article_page("Volcano erupts", VOLCANO)
    add_feed(seeds, server.url("/feed.xml"), "harbour")
    assert update_feeds(settings(seeds)).saved == 1

    second = Item("Volcano erupts", server.url("/volcano"), "v-1", datetime(2024, 3, 6, tzinfo=UTC))
    server.routes["/feed.xml"] = Page(rss("Harbour News", [second, first]).body, "application/rss+xml", etag='"v2"')
    [result] = update_feeds(settings(seeds)).results
    assert result.summary() == "feed harbour: 1 new, 1 already saved"
    assert [s.path for s in result.saved] == ["feeds/harbour/2024-03-06-volcano-erupts.md"]
    assert len(server.hits("/bridge")) == 1  # a page already saved is never fetched again

    [result] = update_feeds(settings(seeds)).results
    assert result.status == "not-modified" and result.summary().endswith("(HTTP 304)")
    assert server.hits("/feed.xml")[-1]["if-none-match"] == '"v2"'
    assert len(articles(seeds)) == 2


def test_an_item_in_two_feeds_is_saved_once_by_link_or_by_text(server, seeds):
    shared = Item("Bridge opens", server.url("/bridge"), "b-1")
    copied = Item("Bridge opens (wire copy)", server.url("/wire/bridge"), "w-1")
    server.routes["/a.xml"] = rss("Harbour News", [shared])
    server.routes["/b.xml"] = atom("Wire", [shared, copied])
    server.routes["/bridge"] = article_page("Bridge opens", BRIDGE, MAYOR)
    server.routes["/wire/bridge"] = article_page("Bridge opens", BRIDGE.upper(), MAYOR)  # same text, other case
    add_feed(seeds, server.url("/a.xml"), "a")
    add_feed(seeds, server.url("/b.xml"), "b")
    report = update_feeds(settings(seeds))
    a, b = report.results
    assert len(a.saved) == 1 and b.saved == ()
    assert [d.reason for d in b.duplicates] == [
        "same link as an item of feed a; saved once",
        f"same text as {a.saved[0].path}; saved once",
    ]
    assert len(articles(seeds)) == 1
    again = update_feeds(settings(seeds))
    assert [r.summary() for r in again.results] == ["feed a: 0 new, 1 already saved", "feed b: 0 new, 2 already saved"]


def test_every_bad_feed_gets_one_line_and_every_good_item_is_still_saved(server, seeds):
    good = [
        Item("Bridge opens", server.url("/bridge"), "b-1"),
        Item("Lost page", server.url("/gone"), "g-1", summary="<p>The ferry strike ended at noon.</p>"),
        Item("Broken page", server.url("/broken"), "x-1"),
    ]
    server.routes["/good.xml"] = rss("Harbour News", good)
    server.routes["/bridge"] = article_page("Bridge opens", BRIDGE)
    server.routes["/broken"] = Page(status=500)
    server.routes["/500.xml"] = Page(b"oops", status=500)
    server.routes["/slow.xml"] = Page(b"<rss/>", stall=60)
    server.routes["/html.xml"] = article_page("Home", "Welcome to our site.")
    server.routes["/bad.xml"] = Page(b"<rss version='2.0'><channel><title>T</title><item><title>x</item>", "text/xml")
    server.routes["/huge.xml"] = Page(stream_bytes=50_000_000, declare_length=False)
    server.routes["/loop.xml"] = Page(status=302, location="/loop.xml")
    names = ["missing", "error", "slow", "html", "malformed", "huge", "loop"]
    paths = ["/404.xml", "/500.xml", "/slow.xml", "/html.xml", "/bad.xml", "/huge.xml", "/loop.xml"]
    for name, path in zip(names, paths, strict=True):
        add_feed(seeds, server.url(path), name)
    add_feed(seeds, server.url("/good.xml"), "good")
    report = update_feeds(settings(seeds, feed_timeout_seconds=1, feed_max_bytes=1_000_000))

    lines = {r.feed.name: r.summary() for r in report.results}
    assert lines["missing"].startswith("feed missing: failed: HTTP 404")
    assert lines["error"].startswith("feed error: failed: HTTP 500")
    assert lines["slow"].startswith("feed slow: failed: timed out after 1 s")
    assert "got an HTML page (text/html; charset=utf-8), not an RSS or Atom feed" in lines["html"]
    assert lines["malformed"].startswith("feed malformed: failed: malformed XML: mismatched tag")
    assert "over the 1,000,000-byte limit (feed_max_bytes)" in lines["huge"]
    assert "redirect loop" in lines["loop"]
    assert lines["good"] == "feed good: 2 new, 1 of them from the feed's summary, 0 already saved, 1 failed"
    assert report.failed == 7 and report.saved == 2

    good_result = report.results[-1]
    assert [s.fallback for s in good_result.saved] == [None, "page failed: HTTP 404; saved the feed's summary instead"]
    [failure] = good_result.failures
    assert (failure.item, failure.reason) == (
        server.url("/broken"),
        "page failed: HTTP 500, and the feed gives no summary",
    )
    assert sorted(articles(seeds)) == [s.path for s in good_result.saved]
    assert articles(seeds)[good_result.saved[1].path].text == "The ferry strike ended at noon."
    assert not [f for f in all_files(seeds) if f.endswith(".tmp")]  # nothing half-written


def test_a_failed_item_is_retried_next_time_instead_of_a_304(server, seeds):
    server.routes["/feed.xml"] = Page(
        rss("N", [Item("Broken page", server.url("/page"), "p-1")]).body, "application/rss+xml", etag='"1"'
    )
    server.routes["/page"] = Page(status=503)
    add_feed(seeds, server.url("/feed.xml"), "n")
    assert update_feeds(settings(seeds)).results[0].failures
    server.routes["/page"] = article_page("Broken page", BRIDGE)
    [result] = update_feeds(settings(seeds)).results
    assert len(result.saved) == 1 and "if-none-match" not in server.hits("/feed.xml")[-1]


def test_a_private_address_is_refused_without_feed_allow_private(server, seeds):
    server.routes["/feed.xml"] = rss("N", [Item("Bridge opens", server.url("/bridge"))])
    add_feed(seeds, server.url("/feed.xml"), "local")
    [result] = update_feeds(settings(seeds, feed_allow_private=False)).results
    assert result.failed and "refused 127.0.0.1: a loopback address" in result.summary()
    assert "NEWSBOT_FEED_ALLOW_PRIVATE" in result.summary()
    assert server.requests == []


def test_feed_max_items_leaves_the_rest_for_the_next_update(server, seeds):
    items = [Item(f"Story {n}", server.url(f"/s{n}"), f"s-{n}", summary=f"Story number {n} text.") for n in range(5)]
    server.routes["/feed.xml"] = rss("N", items)
    add_feed(seeds, server.url("/feed.xml"), "n")
    [first] = update_feeds(settings(seeds, feed_max_items=3)).results
    assert (len(first.saved), first.deferred) == (3, 2) and "2 left for the next update" in first.summary()
    [second] = update_feeds(settings(seeds, feed_max_items=3)).results
    assert (len(second.saved), second.seen, second.deferred) == (2, 3, 0)


def test_one_update_at_a_time_and_a_damaged_state_file_is_named(server, seeds):
    server.routes["/feed.xml"] = rss("N", [])
    add_feed(seeds, server.url("/feed.xml"), "n")
    lock = update_lock(seeds)
    try:
        with pytest.raises(FeedStateError, match="another feed update is running"):
            update_feeds(settings(seeds))
    finally:
        lock.release()
    (seeds / "feeds" / ".state.json").write_text("{not json")
    with pytest.raises(FeedStateError, match=r"\.state\.json is damaged.*delete it to start over"):
        update_feeds(settings(seeds))


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary_one(tmp_path, monkeypatch):
    target = tmp_path / "state.json"
    atomic_write(target, json.dumps({"old": 1}).encode())

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", crash)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, b"new")
    assert json.loads(target.read_text()) == {"old": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_relative_item_links_resolve_against_the_feed_and_leftover_temporary_files_go(server, seeds):
    server.routes["/news/feed.xml"] = rss("N", [Item("Bridge opens", "bridge", "b-1")])
    server.routes["/news/bridge"] = article_page("Bridge opens", BRIDGE)
    add_feed(seeds, server.url("/news/feed.xml"), "n")
    leftover = seeds / "feeds" / "n" / ".2024-01-01-x.md.k3j.tmp"  # what a killed update leaves
    leftover.parent.mkdir(parents=True)
    leftover.write_text("half")
    [result] = update_feeds(settings(seeds)).results
    assert [s.url for s in result.saved] == [server.url("/news/bridge")] and result.saved[0].fallback is None
    assert not leftover.exists()
