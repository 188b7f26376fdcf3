"""One update of every followed feed: fetch, parse, fetch each new item's page, save it as an article.

Indexing is left to the caller (`newsbot feeds update` runs the incremental build; `newsbot serve`
will swap a rebuilt index in): ``PollReport.saved`` says whether there is anything to index.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from newsbot.feeds.articles import ItemArticle, PageText, extract_page, write_article
from newsbot.feeds.feedlist import FEEDS_FOLDER, load_feeds
from newsbot.feeds.fetch import FEED_ACCEPT, PAGE_ACCEPT, Fetcher
from newsbot.feeds.parse import parse_feed
from newsbot.feeds.records import Feed, FeedItem, FeedResult, FeedStatus, Passed, PollReport, Saved
from newsbot.feeds.safety import FetchError
from newsbot.feeds.state import FeedState, item_keys, remove_leftovers, update_lock

if TYPE_CHECKING:
    from newsbot.config.settings import Settings


def update_feeds(settings: Settings, *, fetcher: Fetcher | None = None) -> PollReport:
    """Polls every feed in seeds/feeds.toml once (blocking); see ``poll_feeds``."""
    return asyncio.run(poll_feeds(settings, fetcher=fetcher))


async def poll_feeds(settings: Settings, *, fetcher: Fetcher | None = None) -> PollReport:
    """Polls every feed in seeds/feeds.toml once and saves their new items under seeds/feeds/.

    A feed that fails is reported and the others go on. Raises FeedListError for a bad feed
    list and FeedStateError for a damaged state file or an update already running.
    """
    seeds = Path(settings.seeds_dir)
    feeds = load_feeds(seeds)
    lock = update_lock(seeds)
    try:
        remove_leftovers(seeds)
        state = FeedState.load(seeds)
        results = []
        async with fetcher or Fetcher.from_settings(settings) as client:
            for feed in feeds:
                poller = _FeedPoll(feed, client, state, seeds, settings.feed_max_items)
                results.append(await poller.run())
                state.save()  # after each feed, so a stopped update keeps what it did
        return PollReport(tuple(results))
    finally:
        lock.release()


class _FeedPoll:
    """One feed's share of an update; collects its counts, then builds the FeedResult whole."""

    def __init__(self, feed: Feed, fetcher: Fetcher, state: FeedState, seeds: Path, max_items: int) -> None:
        self.feed, self.fetcher, self.state, self.seeds, self.max_items = feed, fetcher, state, seeds, max_items
        self.saved: list[Saved] = []
        self.duplicates: list[Passed] = []
        self.failures: list[Passed] = []
        self.seen = 0
        self.deferred = 0
        self.pages = 0  # item pages asked for: what feed_max_items bounds

    async def run(self) -> FeedResult:
        validators = self.state.validators(self.feed)
        try:
            answer = await self.fetcher.get(
                self.feed.url, accept=FEED_ACCEPT, etag=validators.etag, last_modified=validators.last_modified
            )
        except FetchError as exc:
            self.state.checked(self.feed, None)
            return self._result("failed", f"{exc} ({self.feed.url})")
        if answer.status == 304:
            self.state.checked(self.feed, answer)
            return FeedResult(self.feed, "not-modified")
        if answer.status != 200:
            self.state.checked(self.feed, None)
            return self._result("failed", f"HTTP {answer.status} from {answer.url}")
        parsed = parse_feed(answer.body, answer.content_type, answer.url)
        for item in parsed.items:
            await self._take(item, parsed.title)
        # Validators are kept only when every item made it: otherwise the next update must not get
        # a 304 but the whole feed again, to retry the items that failed.
        clean = parsed.problem is None and not self.failures and not self.deferred
        self.state.checked(self.feed, answer if clean else None)
        return self._result("failed" if parsed.problem else "ok", parsed.problem)

    def _result(self, status: FeedStatus, reason: str | None) -> FeedResult:
        return FeedResult(
            self.feed,
            status,
            reason,
            saved=tuple(self.saved),
            seen=self.seen,
            duplicates=tuple(self.duplicates),
            failures=tuple(self.failures),
            deferred=self.deferred,
        )

    async def _take(self, item: FeedItem, feed_title: str | None) -> None:
        keys = item_keys(self.feed, item)
        if not keys:
            self.failures.append(Passed(item.label, "the item has no link and no id"))
            return
        if self.state.seen(self.feed, keys):
            self.seen += 1
            return
        if other := self.state.seen_elsewhere(self.feed, keys):
            self.duplicates.append(Passed(item.label, f"same link as an item of feed {other}; saved once"))
            self.state.remember(self.feed, keys)
            return
        if self.pages >= self.max_items:
            self.deferred += 1
            return
        self.pages += 1
        page, why = await self._page(item)
        if page is None and not item.summary:
            self.failures.append(Passed(item.label, f"{why}, and the feed gives no summary"))
            return
        article = _article(item, page, feed_title or (page.site if page else None) or self.feed.name)
        if where := self.state.duplicate_of(article.text_hash):
            self.duplicates.append(Passed(item.label, f"same text as {where}; saved once"))
            self.state.remember(self.feed, keys)
            return
        try:
            path = write_article(self.seeds, f"{FEEDS_FOLDER}/{self.feed.name}", article)
        except OSError as exc:
            self.failures.append(Passed(item.label, f"cannot write the article ({exc.strerror or exc})"))
            return
        self.state.remember(self.feed, keys, article.text_hash, path)
        fallback = None if page is not None else f"{why}; saved the feed's summary instead"
        self.saved.append(Saved(path, article.title, item.url, fallback))

    async def _page(self, item: FeedItem) -> tuple[PageText | None, str | None]:
        """The item's page text, or None and why not."""
        if item.url is None:
            return None, "the item has no link"
        try:
            answer = await self.fetcher.get(item.url, accept=PAGE_ACCEPT)
        except FetchError as exc:
            return None, f"page failed: {exc}"
        if answer.status != 200:
            return None, f"page failed: HTTP {answer.status}"
        try:
            page = await asyncio.to_thread(extract_page, answer.body, answer.url)  # trafilatura takes a while
        except Exception as exc:  # noqa: BLE001 - one odd page must not stop the update of every feed
            return None, f"page could not be read ({type(exc).__name__}: {exc})"
        return (page, None) if page is not None else (None, "no article text found in the page")


def _article(item: FeedItem, page: PageText | None, source: str) -> ItemArticle:
    """The feed's own title and date first (editors set them), the page's when the feed has none."""
    paragraphs = page.paragraphs if page else tuple(item.summary.split("\n\n"))
    title = item.title or (page.title if page else None) or paragraphs[0][:120]
    when = item.published or (page.date if page else None) or datetime.now(UTC).date()
    return ItemArticle(title=title, date=when, source=source, url=item.url, paragraphs=paragraphs)
