"""Typed records the feeds room hands around: a followed feed, its items, and what an update did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

FeedStatus = Literal["ok", "not-modified", "failed"]


@dataclass(frozen=True, slots=True)
class Feed:
    """One feed the operator added: its name is also its folder, seeds/feeds/<name>/."""

    name: str
    url: str


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry as the feed gives it; the summary is plain text ('' when the feed has none)."""

    guid: str | None
    url: str | None
    title: str
    published: date | None
    summary: str

    @property
    def label(self) -> str:
        """How the item is named in a report line."""
        return self.url or self.guid or self.title or "(an item without link, id or title)"


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed body read by feedparser; ``problem`` says why it is not (wholly) a good feed."""

    title: str | None
    items: tuple[FeedItem, ...]
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Fetched:
    """One HTTP answer: only a 200 carries a body; a redirect carries its Location."""

    url: str
    status: int
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    location: str | None = None


@dataclass(frozen=True, slots=True)
class Saved:
    """An item written as an article file; ``fallback`` says why the feed's summary stands in for the page."""

    path: str
    title: str
    url: str | None
    fallback: str | None = None


@dataclass(frozen=True, slots=True)
class Passed:
    """An item not saved, and why: a duplicate of an article already saved, or a failure."""

    item: str
    reason: str


@dataclass(frozen=True, slots=True)
class FeedResult:
    """What one update did with one feed."""

    feed: Feed
    status: FeedStatus
    reason: str | None = None
    saved: tuple[Saved, ...] = ()
    seen: int = 0
    duplicates: tuple[Passed, ...] = ()
    failures: tuple[Passed, ...] = ()
    deferred: int = 0

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def summary(self) -> str:
        """One line naming the feed: the counts, or the reason it failed."""
        head = f"feed {self.feed.name}:"
        if self.status == "not-modified":
            return f"{head} not modified since the last update (HTTP 304)"
        counts = [f"{len(self.saved)} new"]
        if fallbacks := sum(1 for s in self.saved if s.fallback):
            counts.append(f"{fallbacks} of them from the feed's summary")
        counts.append(f"{self.seen} already saved")
        if self.duplicates:
            counts.append(f"{len(self.duplicates)} duplicate")
        if self.failures:
            counts.append(f"{len(self.failures)} failed")
        if self.deferred:
            counts.append(f"{self.deferred} left for the next update (feed_max_items)")
        if self.status == "failed":
            return f"{head} failed: {self.reason}" + (f" ({', '.join(counts)})" if self.saved else "")
        return f"{head} {', '.join(counts)}"


@dataclass(frozen=True, slots=True)
class PollReport:
    """One update of every feed; ``saved`` > 0 means the index has something new to pick up."""

    results: tuple[FeedResult, ...]

    @property
    def failed(self) -> int:
        return sum(1 for r in self.results if r.failed)

    @property
    def saved(self) -> int:
        return sum(len(r.saved) for r in self.results)
