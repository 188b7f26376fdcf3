"""Feed bodies (RSS 2.0, Atom and the other formats feedparser knows) into FeedItems."""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urljoin

from newsbot.feeds.records import FeedItem, ParsedFeed

_BLOCKS = {"p", "div", "br", "li", "ul", "ol", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "pre"}
_SPACE = re.compile(r"[ \t\r\f\v\u00a0]+")


def parse_feed(body: bytes, content_type: str = "", base_url: str = "") -> ParsedFeed:
    """What a feed body holds; ``problem`` is set when it is no feed, or XML that is not well formed.

    Relative item links are resolved against ``base_url``, the address the feed came from.

    feedparser still reads what it can from malformed XML: those items are kept, and the problem
    is reported so the operator hears about the feed.
    """
    import feedparser  # imported here: only feed updates need it

    # Bytes, never a string: given a string that looks like an address, feedparser fetches it.
    parsed = feedparser.parse(bytes(body), response_headers={"content-type": content_type or "application/xml"})
    items = tuple(_item(e, base_url) for e in parsed.entries)
    title = (parsed.feed.get("title") or "").strip() or None
    if not parsed.get("version") and not items:
        if _looks_like_html(body, content_type):
            problem = f"got an HTML page ({content_type or 'no content type'}), not an RSS or Atom feed; is this the feed's own address?"
        elif parsed.get("bozo"):
            problem = f"not an RSS or Atom feed: {_xml_error(parsed.get('bozo_exception'))}"
        else:
            problem = "not an RSS or Atom feed (no channel, feed or items found)"
        return ParsedFeed(title, (), problem)
    error = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if error is not None and not isinstance(error, feedparser.CharacterEncodingOverride):
        kept = f"; kept {len(items)} item{'s' if len(items) != 1 else ''} it could still read" if items else ""
        return ParsedFeed(title, items, f"malformed XML: {_xml_error(error)}{kept}")
    return ParsedFeed(title, items)


def summary_text(html: str) -> str:
    """An entry's summary (HTML as feeds carry it) as plain paragraphs separated by blank lines."""
    if not html.strip():
        return ""
    import lxml.html

    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except Exception:  # noqa: BLE001 - lxml raises several kinds for fragments it cannot read
        return _paragraphs(html)
    for bad in root.xpath("//script|//style"):
        bad.drop_tree()
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCKS:
            element.tail = "\n\n" + (element.tail or "")
            if element.tag.lower() != "br":
                element.text = "\n\n" + (element.text or "")
    return _paragraphs(root.text_content())


def _paragraphs(text: str) -> str:
    blocks = [_SPACE.sub(" ", b).strip() for b in re.split(r"\n\s*\n", text)]
    lines = [" ".join(line.strip() for line in b.split("\n") if line.strip()) for b in blocks]
    return "\n\n".join(p for p in lines if p)


def _item(entry: Mapping[str, Any], base_url: str) -> FeedItem:
    raw = (entry.get("link") or "").strip()
    link = urljoin(base_url, raw) if raw else None
    guid = (entry.get("id") or "").strip() or None
    summary = entry.get("summary") or ""
    if not summary and entry.get("content"):
        summary = entry["content"][0].get("value") or ""
    return FeedItem(
        guid=guid,
        url=link if link and link.startswith(("http://", "https://")) else None,
        title=" ".join((entry.get("title") or "").split()),
        published=_date(entry.get("published_parsed") or entry.get("updated_parsed")),
        summary=summary_text(summary),
    )


def _date(parsed: time.struct_time | None) -> date | None:
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC).date()
    except (OverflowError, ValueError, OSError):
        return None


def _looks_like_html(body: bytes, content_type: str) -> bool:
    head = body[:512].lstrip().lower()
    return "html" in content_type.lower() or head.startswith((b"<!doctype html", b"<html"))


def _xml_error(exc: object) -> str:
    if exc is None:
        return "unreadable"
    line = getattr(exc, "getLineNumber", None)
    where = f" at line {line()}" if callable(line) else ""
    message = getattr(exc, "getMessage", None)
    text = message() if callable(message) else str(exc)
    return " ".join(f"{text}{where}".split())
