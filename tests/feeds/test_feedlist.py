"""feeds.toml: added, named, listed and removed; bad names and addresses refused with the reason."""

from __future__ import annotations

import tomllib

import pytest

from newsbot.feeds.feedlist import FeedListError, add_feed, feeds_file, load_feeds, remove_feed
from newsbot.feeds.records import Feed


def test_feeds_are_kept_in_order_in_the_seeds_folder(tmp_path):
    first = add_feed(tmp_path, "https://www.example.org/rss.xml")
    second = add_feed(tmp_path, "https://example.org/world/atom.xml")
    third = add_feed(tmp_path, "http://other.test/feed", name="mine")
    assert [first.name, second.name, third.name] == ["example-org", "example-org-world-atom", "mine"]
    assert load_feeds(tmp_path) == [first, second, third]
    assert remove_feed(tmp_path, "example-org") == first
    assert load_feeds(tmp_path) == [second, third]


def test_the_file_is_valid_toml_whatever_the_address_holds(tmp_path):
    url = 'https://example.org/feed?q="quoted"\\back&x=ü'
    add_feed(tmp_path, url, name="odd")
    data = tomllib.loads(feeds_file(tmp_path).read_text(encoding="utf-8"))
    assert data["feed"] == [{"name": "odd", "url": url}]
    assert not list(tmp_path.glob(".*"))  # the temporary file was renamed, not left behind


@pytest.mark.parametrize(
    "url, name, message",
    [
        ("ftp://example.org/feed", None, "not an http:// or https:// URL"),
        ("https:///feed", None, "not an http:// or https:// URL"),
        ("https://example.org/a b", None, "spaces or control characters"),
        ("https://example.org:port/", None, "not a valid URL"),
        ("https://example.org/", "Has Spaces", "e.g. 'has-spaces'"),
        ("https://example.org/", ".hidden", "not allowed"),
        ("https://example.org/", "../up", "not allowed"),
    ],
)
def test_bad_addresses_and_names_are_refused(tmp_path, url, name, message):
    with pytest.raises(FeedListError, match=message):
        add_feed(tmp_path, url, name)
    assert load_feeds(tmp_path) == []


def test_the_same_address_or_name_twice_is_refused(tmp_path):
    add_feed(tmp_path, "https://example.org/feed", name="ex")
    with pytest.raises(FeedListError, match="already followed, as 'ex'"):
        add_feed(tmp_path, "https://example.org/feed", name="other")
    with pytest.raises(FeedListError, match="a feed named 'ex' already exists"):
        add_feed(tmp_path, "https://example.org/other", name="ex")
    with pytest.raises(FeedListError, match="no feed named 'nope'; followed feeds: ex"):
        remove_feed(tmp_path, "nope")


def test_a_hand_edited_file_is_checked(tmp_path):
    feeds_file(tmp_path).write_text(
        '[[feed]]\nname = "a"\nurl = "https://a.test/"\n[[feed]]\nname = "a"\nurl = "https://b.test/"\n'
    )
    with pytest.raises(FeedListError, match="a feed name appears twice"):
        load_feeds(tmp_path)
    feeds_file(tmp_path).write_text("[[feed]\n")
    with pytest.raises(FeedListError, match="is not valid TOML"):
        load_feeds(tmp_path)
    feeds_file(tmp_path).write_text('[[feed]]\nname = "ok"\nurl = "gopher://x/"\n')
    with pytest.raises(FeedListError, match="feed 1: feed address 'gopher://x/'"):
        load_feeds(tmp_path)
    feeds_file(tmp_path).write_text('[[feed]]\nname = "ok"\nurl = "https://x.test/"\n')
    assert load_feeds(tmp_path) == [Feed("ok", "https://x.test/")]


def test_the_feeds_room_depends_on_index_and_config_only():
    import ast

    from tests.conftest import ROOT

    allowed = ("newsbot.feeds", "newsbot.index", "newsbot.config")
    for source in (ROOT / "feeds").glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.startswith(("newsbot", "telegram")):
                    assert name.startswith(allowed), f"{source.name} imports {name}"
