"""What feed updates remember between runs: validators per feed, items seen, texts saved.

The state is one JSON file, seeds/feeds/.state.json, replaced atomically; its name starts with a
dot, so the index reader never takes it for an article. One update at a time (an OS file lock,
seeds/feeds/.lock, that dies with its process).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urldefrag

from newsbot.feeds.feedlist import FEEDS_FOLDER
from newsbot.feeds.files import atomic_write
from newsbot.feeds.records import Feed, FeedItem, Fetched

if TYPE_CHECKING:
    from filelock import BaseFileLock

STATE_FILE = ".state.json"
LOCK_FILE = ".lock"
VERSION = 1


class FeedStateError(Exception):
    """The state file cannot be read, or another update holds the lock."""


@dataclass(frozen=True, slots=True)
class Validators:
    """What a conditional GET sends back to the server (If-None-Match, If-Modified-Since)."""

    etag: str | None = None
    last_modified: str | None = None


def feeds_folder(seeds: Path) -> Path:
    return Path(seeds) / FEEDS_FOLDER


def update_lock(seeds: Path, timeout: float = 0.0) -> BaseFileLock:
    """The lock every writer of seeds/feeds/ holds; raises FeedStateError when it is taken."""
    from filelock import FileLock, Timeout

    folder = feeds_folder(seeds)
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / LOCK_FILE), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise FeedStateError("another feed update is running on this seeds folder; wait for it and run again") from None
    return lock


def remove_leftovers(seeds: Path) -> None:
    """Deletes temporary files a killed update left in seeds/feeds/ (hidden, so never indexed)."""
    for leftover in feeds_folder(seeds).rglob(".*.tmp"):
        leftover.unlink(missing_ok=True)


def item_keys(feed: Feed, item: FeedItem) -> list[str]:
    """How an item is recognised again: its GUID within its feed, its link across all feeds."""
    keys = []
    if item.guid:
        keys.append(f"guid:{feed.name}:{item.guid}")
    if item.url:
        keys.append(f"url:{urldefrag(item.url)[0]}")
    return keys


class FeedState:
    """The remembered state; changed in memory by one update, then saved whole."""

    def __init__(self, path: Path, data: dict) -> None:
        self.path = path
        self._feeds: dict[str, dict] = data.get("feeds", {})
        self._hashes: dict[str, str] = data.get("hashes", {})
        self._url_owner = self._owners()

    @classmethod
    def load(cls, seeds: Path) -> FeedState:
        path = feeds_folder(seeds) / STATE_FILE
        if not path.is_file():
            return cls(path, {})
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("version") != VERSION:
                raise ValueError(f"expected a version {VERSION} state object")
            return cls(path, data)
        except (ValueError, UnicodeDecodeError, AttributeError) as exc:
            raise FeedStateError(
                f"feed state {path} is damaged ({exc}); delete it to start over "
                "(saved articles stay; the next update fetches their pages again)"
            ) from None

    def validators(self, feed: Feed) -> Validators:
        memory = self._feeds.get(feed.name, {})
        if memory.get("url") != feed.url:  # validators belong to the address they came from
            return Validators()
        return Validators(memory.get("etag"), memory.get("last_modified"))

    def seen(self, feed: Feed, keys: list[str]) -> bool:
        """Whether this feed brought the item before."""
        own = self._feeds.get(feed.name, {}).get("seen", [])
        return any(k in own for k in keys)

    def seen_elsewhere(self, feed: Feed, keys: list[str]) -> str | None:
        """The other feed that brought an item with the same link, if one did."""
        owners = (self._url_owner.get(k) for k in keys if k.startswith("url:"))
        return next((o for o in owners if o is not None and o != feed.name), None)

    def duplicate_of(self, text_hash: str) -> str | None:
        return self._hashes.get(text_hash)

    def remember(self, feed: Feed, keys: list[str], text_hash: str | None = None, path: str | None = None) -> None:
        """Marks an item seen (and its text saved at ``path``), so no later update saves it again."""
        memory = self._memory(feed)
        memory["seen"].extend(k for k in keys if k not in memory["seen"])
        for key in keys:
            if key.startswith("url:"):
                self._url_owner.setdefault(key, feed.name)
        if text_hash and path:
            self._hashes[text_hash] = path

    def checked(self, feed: Feed, answer: Fetched | None) -> None:
        """Records an update of ``feed``; validators of ``answer`` are kept for the next conditional GET."""
        memory = self._memory(feed)
        memory["checked"] = datetime.now(UTC).isoformat(timespec="seconds")
        if answer is None:
            memory.pop("etag", None)
            memory.pop("last_modified", None)
        elif answer.status == 200:
            memory["etag"], memory["last_modified"] = answer.etag, answer.last_modified

    def last_checked(self, name: str) -> str | None:
        return self._feeds.get(name, {}).get("checked")

    def saved_count(self, name: str) -> int:
        prefix = f"{FEEDS_FOLDER}/{name}/"
        return sum(1 for p in self._hashes.values() if p.startswith(prefix))

    def forget(self, name: str) -> None:
        """Drops a feed's memory and its saved texts' hashes (its articles were deleted)."""
        self._feeds.pop(name, None)
        prefix = f"{FEEDS_FOLDER}/{name}/"
        self._hashes = {h: p for h, p in self._hashes.items() if not p.startswith(prefix)}
        self._url_owner = self._owners()

    def save(self) -> None:
        data = {"version": VERSION, "feeds": self._feeds, "hashes": self._hashes}
        atomic_write(self.path, json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8"))

    def _owners(self) -> dict[str, str]:
        owners: dict[str, str] = {}
        for name, memory in self._feeds.items():
            for key in memory.get("seen", []):
                if key.startswith("url:"):
                    owners.setdefault(key, name)
        return owners

    def _memory(self, feed: Feed) -> dict:
        memory = self._feeds.get(feed.name)
        if memory is None or memory.get("url") != feed.url:
            memory = {"url": feed.url, "seen": (memory or {}).get("seen", [])}
            self._feeds[feed.name] = memory
        return memory
