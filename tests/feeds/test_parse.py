"""Feed bodies: RSS and Atom read into items; HTML and broken XML named for what they are."""

from __future__ import annotations

from datetime import UTC, date, datetime

from newsbot.feeds.parse import parse_feed, summary_text
from tests.fakes.feed_server import Item, atom, rss

ITEMS = [
    Item(
        "Bridge opens", "http://example.org/a", "g-1", datetime(2024, 3, 5, 23, 30, tzinfo=UTC), "<p>One</p><p>Two</p>"
    ),
    Item("No date", "http://example.org/b"),
]


def test_rss_and_atom_give_the_same_items():
    for page in (rss("Gazette", ITEMS), atom("Gazette", ITEMS)):
        parsed = parse_feed(page.body, page.content_type)
        assert parsed.problem is None and parsed.title == "Gazette"
        first, second = parsed.items
        assert (first.title, first.url, first.guid, first.published) == (
            "Bridge opens",
            "http://example.org/a",
            "g-1",
            date(2024, 3, 5),
        )
        assert first.summary == "One\n\nTwo"
        assert second.url == "http://example.org/b" and second.summary == ""


def test_an_html_page_is_not_a_feed():
    parsed = parse_feed(b"<!doctype html><html><body><p>Welcome</p></body></html>", "text/html")
    assert parsed.items == () and "got an HTML page (text/html), not an RSS or Atom feed" in parsed.problem


def test_malformed_xml_is_reported_with_where_and_what_could_be_read_is_kept():
    body = rss("Gazette", ITEMS).body.replace(b"</channel></rss>", b"<item><title>Cut")
    parsed = parse_feed(body, "application/rss+xml")
    assert parsed.problem.startswith("malformed XML:") and "line 1" in parsed.problem
    assert [i.title for i in parsed.items][:2] == ["Bridge opens", "No date"]


def test_garbage_is_not_a_feed():
    parsed = parse_feed(b"\x00\x01 certainly not xml", "application/octet-stream")
    assert parsed.items == () and parsed.problem.startswith("not an RSS or Atom feed")


def test_summaries_lose_markup_scripts_and_keep_paragraphs():
    html = "<p>First <b>bold</b> line<br>same para</p><script>alert(1)</script><ul><li>a</li><li>b</li></ul>"
    assert summary_text(html) == "First bold line\n\nsame para\n\na\n\nb"
    assert summary_text("plain words only") == "plain words only"
    assert summary_text("") == ""
