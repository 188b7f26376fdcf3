"""The FollowStore in the index's PostgreSQL database (backend postgres), shared by every replica.

Tables ``follow_topics``, ``follow_alerts``, ``follow_known`` and ``follow_looked`` come with the
index schema (migration 2 in index/pg/schema.py). Each method is one transaction; the ones that
check a chat's limits first take a transaction-scoped advisory lock on the chat, so two replicas
following or alerting for one chat at once take turns, and the count they check stays true.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from newsbot.follow.store import SqlFollowStore, utc
from newsbot.index.manifest import DatabaseProblem
from newsbot.index.pg import connect as pgc
from newsbot.index.pg.schema import LATEST, stored_version

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

    from newsbot.config.settings import Settings

# The chat's id hashed under a name of its own: the index's build and migration locks are fixed
# numbers, which a hash may equal only by chance, and sharing one would only make two waits one.
_CHAT_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('newsbot follow ' || %s::text, 0))"
_TABLES = re.compile(r"\b(FROM|INTO) (topics|alerts)\b")


class PgFollowStore(SqlFollowStore):
    """Followed topics, claimed alerts and looked-at articles in PostgreSQL."""

    def __init__(self, url: str, pool: ConnectionPool) -> None:
        self.url = url
        self.pool = pool

    @classmethod
    def from_settings(cls, settings: Settings) -> PgFollowStore:
        """Opens the configured database; DatabaseProblem when it is unreachable or not migrated."""
        from psycopg_pool import ConnectionPool

        url = pgc.url_of(settings)
        with pgc.connect(url, autocommit=True) as conn:
            version = stored_version(conn)
        if version < LATEST:
            raise DatabaseProblem(
                f"database {pgc.redacted(url)} has schema version {version}, followed topics need {LATEST}; "
                "run `newsbot index` to migrate it"
            )
        # Small: /follow and the alert look are rare next to questions, which use the reader's pool.
        pool = ConnectionPool(url, min_size=1, max_size=2, open=False, name="newsbot-follows")
        try:
            pool.open(wait=True, timeout=pgc.CONNECT_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - the pool raises PoolTimeout; its cause is the connect error
            pool.close()
            raise pgc.explain(exc, url) from None
        return cls(url, pool)

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection]:
        with self.pool.connection() as conn, conn.transaction():
            yield conn

    def _sql(self, sql: str) -> str:
        return _TABLES.sub(r"\1 follow_\2", sql).replace("?", "%s")

    def _time(self, when: datetime) -> object:
        return utc(when)

    def _created(self, stored: datetime) -> datetime:
        return stored.astimezone(UTC)

    def _lock_chat(self, db: psycopg.Connection, chat_id: int) -> None:
        db.execute(_CHAT_LOCK, (chat_id,))

    def known_articles(self) -> frozenset[str] | None:
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM follow_looked").fetchone() is None:
                return None
            return frozenset(r[0] for r in db.execute("SELECT article_id FROM follow_known"))

    def add_known(self, article_ids: Iterable[str]) -> None:
        with self._transaction() as db, db.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO follow_known VALUES (%s) ON CONFLICT DO NOTHING", [(a,) for a in article_ids]
            )
            cursor.execute(
                "INSERT INTO follow_looked (at) VALUES (now()) ON CONFLICT (singleton) DO UPDATE SET at = now()"
            )

    def close(self) -> None:
        self.pool.close()
