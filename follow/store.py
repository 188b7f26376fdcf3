"""Followed topics and sent alerts, kept durably: the FollowStore protocol and its SQLite file.

The protocol is what the bot and the matching use. The store lives where the index lives: an
SQLite file beside the index folder (backend faiss), or tables in the index's PostgreSQL database
(backend postgres, follow/pg_store.py), which every replica shares. Every method is one
transaction, so limits are checked and alerts claimed atomically, also across processes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from newsbot.config.settings import Settings

HOUR = timedelta(hours=1)
SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id INTEGER NOT NULL,
    words TEXT NOT NULL,
    key TEXT NOT NULL,
    created TEXT NOT NULL,
    UNIQUE (chat_id, key)
);
CREATE TABLE IF NOT EXISTS alerts (
    chat_id INTEGER NOT NULL,
    topic_key TEXT NOT NULL,
    article_id TEXT NOT NULL,
    sent TEXT NOT NULL,
    PRIMARY KEY (chat_id, topic_key, article_id)
);
CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts (chat_id, sent);
CREATE TABLE IF NOT EXISTS known_articles (article_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def topic_key(words: str) -> str:
    """What makes two topics the same: case and spacing do not matter."""
    return " ".join(words.lower().split())


@dataclass(frozen=True, slots=True)
class Topic:
    """One chat's followed topic; ``key`` is its words folded (the same topic twice is one)."""

    id: int
    chat_id: int
    words: str
    key: str
    created: datetime


class Followed(Enum):
    ADDED = "added"
    ALREADY = "already"  # the chat follows these words already
    FULL = "full"  # the chat follows max_follows topics


@dataclass(frozen=True, slots=True)
class FollowResult:
    outcome: Followed
    topics: tuple[Topic, ...]  # the chat's topics afterwards, oldest first (what /following numbers)


class Claim(Enum):
    CLAIMED = "claimed"  # recorded: send it now
    SENT_BEFORE = "sent-before"  # this article was alerted for this topic already
    OVER_LIMIT = "over-limit"  # the chat had max_alerts_per_hour alerts in the last hour


class FollowStore(Protocol):
    """Subscriptions, sent alerts and the articles already looked at, for every chat."""

    def follow(self, chat_id: int, words: str, limit: int, now: datetime) -> FollowResult: ...

    def topics(self, chat_id: int) -> tuple[Topic, ...]: ...

    def all_topics(self) -> tuple[Topic, ...]: ...

    def unfollow(self, chat_id: int, topic_id: int) -> bool: ...

    def claim_alert(self, topic: Topic, article_id: str, limit: int, now: datetime) -> Claim:
        """Records an alert before it is sent: never twice for one topic and article, also after a
        restart (a send that then fails is lost, not repeated)."""
        ...

    def known_articles(self) -> frozenset[str] | None:
        """Articles already looked at for alerts; None before the first look (a new store)."""
        ...

    def add_known(self, article_ids: Iterable[str]) -> None: ...

    def close(self) -> None: ...


class SqlFollowStore:
    """The FollowStore's rules, written once over a DB-API connection (``?`` placeholders, tables
    ``topics`` and ``alerts``); a subclass opens the transactions and says how its database
    spells placeholders and tables, stores times and keeps one chat's checks from interleaving."""

    def _transaction(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        return sql

    def _time(self, when: datetime) -> object:
        return _stamp(when)

    def _created(self, stored: Any) -> datetime:
        return datetime.fromisoformat(stored)

    def _lock_chat(self, db: Any, chat_id: int) -> None:
        """Keeps other writers off this chat's rows until the transaction ends (SQLite: the
        whole file is locked already)."""

    def _rows(self, db: Any, where: str = "", params: tuple = ()) -> tuple[Topic, ...]:
        rows = db.execute(self._sql(f"SELECT {_TOPIC} FROM topics {where} ORDER BY id"), params)
        return tuple(Topic(i, chat, words, key, self._created(created)) for i, chat, words, key, created in rows)

    def follow(self, chat_id: int, words: str, limit: int, now: datetime) -> FollowResult:
        words, key = " ".join(words.split()), topic_key(words)
        with self._transaction() as db:
            self._lock_chat(db, chat_id)
            topics = self._rows(db, "WHERE chat_id = ?", (chat_id,))
            if any(t.key == key for t in topics):
                return FollowResult(Followed.ALREADY, topics)
            if len(topics) >= limit:
                return FollowResult(Followed.FULL, topics)
            db.execute(
                self._sql("INSERT INTO topics (chat_id, words, key, created) VALUES (?, ?, ?, ?)"),
                (chat_id, words, key, self._time(now)),
            )
            return FollowResult(Followed.ADDED, self._rows(db, "WHERE chat_id = ?", (chat_id,)))

    def topics(self, chat_id: int) -> tuple[Topic, ...]:
        with self._transaction() as db:
            return self._rows(db, "WHERE chat_id = ?", (chat_id,))

    def all_topics(self) -> tuple[Topic, ...]:
        with self._transaction() as db:
            return self._rows(db)

    def unfollow(self, chat_id: int, topic_id: int) -> bool:
        with self._transaction() as db:
            done = db.execute(self._sql("DELETE FROM topics WHERE chat_id = ? AND id = ?"), (chat_id, topic_id))
            return bool(done.rowcount > 0)

    def claim_alert(self, topic: Topic, article_id: str, limit: int, now: datetime) -> Claim:
        with self._transaction() as db:
            self._lock_chat(db, topic.chat_id)
            sent = db.execute(
                self._sql("SELECT 1 FROM alerts WHERE chat_id = ? AND topic_key = ? AND article_id = ?"),
                (topic.chat_id, topic.key, article_id),
            ).fetchone()
            if sent is not None:
                return Claim.SENT_BEFORE
            (recent,) = db.execute(
                self._sql("SELECT count(*) FROM alerts WHERE chat_id = ? AND sent > ?"),
                (topic.chat_id, self._time(now - HOUR)),
            ).fetchone()
            if recent >= limit:
                return Claim.OVER_LIMIT
            db.execute(
                self._sql("INSERT INTO alerts (chat_id, topic_key, article_id, sent) VALUES (?, ?, ?, ?)"),
                (topic.chat_id, topic.key, article_id, self._time(now)),
            )
            return Claim.CLAIMED


class SqliteFollowStore(SqlFollowStore):
    """The FollowStore in one SQLite file (WAL, so a reader never waits for the writer)."""

    def __init__(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # One connection shared by the event loop and the matching thread, behind a lock.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._db.in_transaction:
                raise RuntimeError("follow store: nested transaction")
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def known_articles(self) -> frozenset[str] | None:
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM meta WHERE name = 'looked'").fetchone() is None:
                return None
            return frozenset(r[0] for r in db.execute("SELECT article_id FROM known_articles"))

    def add_known(self, article_ids: Iterable[str]) -> None:
        with self._transaction() as db:
            db.executemany("INSERT OR IGNORE INTO known_articles VALUES (?)", ((a,) for a in article_ids))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('looked', ?)", (_stamp(datetime.now(UTC)),))

    def close(self) -> None:
        with self._lock:
            self._db.close()


_TOPIC = "id, chat_id, words, key, created"


def _stamp(when: datetime) -> str:
    """UTC, one format: stamps compare correctly as text."""
    return utc(when).isoformat(timespec="microseconds")


def utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError(f"follow store times must be timezone-aware, got {when!r}")
    return when.astimezone(UTC)


def open_store(settings: Settings) -> FollowStore:
    """The configured store: the index's database (backend postgres), else the SQLite file."""
    if settings.backend == "postgres":
        from newsbot.follow.pg_store import PgFollowStore

        return PgFollowStore.from_settings(settings)
    return SqliteFollowStore(store_path(settings))


def store_path(settings: Settings) -> Path:
    """The configured follows file, else follows.sqlite beside the index folder."""
    return settings.follows_file or Path(settings.index_dir).resolve().parent / "follows.sqlite"
