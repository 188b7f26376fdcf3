"""The chunk store: articles and their chunks in one SQLite file (readable by anyone, no pickle)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path

import numpy as np

from newsbot.index.entities import from_bytes, to_bytes
from newsbot.index.minhash import signature
from newsbot.index.records import Article, ArticleInfo, Chunk, ChunkSentences

CHUNKS = "chunks.sqlite"
CACHE_KIB = 512

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, path TEXT NOT NULL, title TEXT NOT NULL, date TEXT, source TEXT,
    url TEXT, hash TEXT NOT NULL, text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL REFERENCES articles(id), ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, paragraph INTEGER NOT NULL,
    paragraph_end INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_article ON chunks(article_id);
CREATE TABLE IF NOT EXISTS sentences (
    chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id), spans BLOB NOT NULL, vectors BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS entities (chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id), spans BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS signatures (chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id), minhash BLOB NOT NULL);
"""

_CHUNK_COLUMNS = 'id, article_id, ordinal, text, start, "end", paragraph, paragraph_end'
_INFO_COLUMNS = "id, title, path, date, source, url"


def _info(row: Sequence) -> ArticleInfo:
    return ArticleInfo(
        id=row[0],
        title=row[1],
        path=row[2],
        date=date.fromisoformat(row[3]) if row[3] else None,
        source=row[4],
        url=row[5],
    )


class ChunkStoreWriter:
    """Edits a private copy of the store inside a build's temporary folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path)
        self.db.executescript(SCHEMA)

    def add(self, article: Article, chunks: Iterable[Chunk], sentences: Iterable[ChunkSentences] = ()) -> None:
        self.db.execute(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                article.id,
                article.path,
                article.title,
                article.date.isoformat() if article.date else None,
                article.source,
                article.url,
                article.hash,
                article.text,
            ),
        )
        self.db.executemany(
            f"INSERT INTO chunks ({_CHUNK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(c.id, c.article_id, c.ordinal, c.text, c.start, c.end, c.paragraph, c.paragraph_end) for c in chunks],
        )
        self.db.executemany(
            "INSERT INTO signatures VALUES (?, ?)", [(c.id, signature(c.text).astype("<u4").tobytes()) for c in chunks]
        )
        # Half precision: sentence vectors only rank a passage's few sentences against each other.
        self.db.executemany(
            "INSERT INTO sentences VALUES (?, ?, ?)",
            [
                (s.chunk_id, np.asarray(s.spans, dtype="<i4").tobytes(), s.vectors.astype("<f2").tobytes())
                for s in sentences
            ],
        )
        self.db.executemany(
            "INSERT INTO entities VALUES (?, ?)",
            [(s.chunk_id, to_bytes(s.entities)) for s in sentences if s.entities is not None],
        )

    def remove(self, article_id: str) -> list[int]:
        """Drops an article and its chunks; returns the chunk ids, to remove their vectors too."""
        ids = [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE article_id = ?", (article_id,))]
        self.db.executemany("DELETE FROM sentences WHERE chunk_id = ?", [(i,) for i in ids])
        self.db.executemany("DELETE FROM entities WHERE chunk_id = ?", [(i,) for i in ids])
        self.db.executemany("DELETE FROM signatures WHERE chunk_id = ?", [(i,) for i in ids])
        self.db.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
        self.db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        return ids

    def close(self) -> None:
        self.db.commit()
        self.db.execute("VACUUM")
        self.db.close()


class ChunkStore:
    """Read-only access, safe to share between threads (the bot answers from a thread pool)."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing")
        self.path = path
        self._lock = threading.RLock()  # _dated() opens a connection while holding it
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._closed = False
        self.db = self._local.db = self._connect()
        self.db.execute("SELECT count(*) FROM chunks").fetchone()  # fails early on a damaged file
        self._tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        self._days: tuple[np.ndarray, np.ndarray] | None = None

    def _connect(self) -> sqlite3.Connection:
        # Each thread's connection keeps a small page cache of its own; the file's pages are shared
        # in the OS page cache. (Memory-mapping the file instead counted every page a question
        # touched in the serving process's RSS: 1.27x -> 1.82x at 100k chunks.)
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        with self._lock:
            self._connections.append(db)
        return db

    def _db(self) -> sqlite3.Connection:
        """This thread's connection: threads answering at once read in parallel (sqlite3 lets go
        of the GIL while it reads), where one shared connection would take them one at a time."""
        db = getattr(self._local, "db", None)
        if db is None:
            if self._closed:
                raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
            db = self._local.db = self._connect()
        return db

    def chunks(self, ids: Sequence[int]) -> dict[int, Chunk]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = (
            self._db()
            .execute(f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE id IN ({marks})", [int(i) for i in ids])
            .fetchall()
        )
        return {r[0]: Chunk(*r) for r in rows}

    def sentences(self, ids: Sequence[int]) -> dict[int, ChunkSentences]:
        """The stored excerpt candidates of these chunks (none for an index written before them)."""
        entities = dict(self._by_chunk("entities", "spans", ids))
        out = {}
        for chunk_id, spans, vectors in self._by_chunk("sentences", "spans, vectors", ids):
            pairs = np.frombuffer(spans, dtype="<i4").reshape(-1, 2)
            out[chunk_id] = ChunkSentences(
                chunk_id,
                tuple(map(tuple, pairs.tolist())),
                np.frombuffer(vectors, dtype="<f2").reshape(len(pairs), -1).astype(np.float32),
                from_bytes(entities[chunk_id]) if chunk_id in entities else None,
            )
        return out

    def signatures(self, ids: Sequence[int]) -> dict[int, np.ndarray]:
        """The stored MinHash signatures of these chunks (none for an index written before them)."""
        return {
            chunk_id: np.frombuffer(blob, dtype="<u4").astype(np.uint32)
            for chunk_id, blob in self._by_chunk("signatures", "minhash", ids)
        }

    def _by_chunk(self, table: str, columns: str, ids: Sequence[int]) -> list[tuple]:
        """Rows of a per-chunk table for these chunk ids; none when the index predates the table."""
        if not ids or table not in self._tables:
            return []
        marks = ",".join("?" * len(ids))
        return (
            self._db()
            .execute(f"SELECT chunk_id, {columns} FROM {table} WHERE chunk_id IN ({marks})", [int(i) for i in ids])
            .fetchall()
        )

    def articles(self, ids: Iterable[str]) -> dict[str, ArticleInfo]:
        ids = list(set(ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db().execute(f"SELECT {_INFO_COLUMNS} FROM articles WHERE id IN ({marks})", ids).fetchall()
        return {r[0]: _info(r) for r in rows}

    def article_text(self, article_id: str) -> str:
        row = self._db().execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            raise KeyError(article_id)
        return row[0]

    def iter_chunks(self) -> Iterator[Chunk]:
        """Every chunk in id order (for BM25 and benchmarks)."""
        rows = self._db().execute(f"SELECT {_CHUNK_COLUMNS} FROM chunks ORDER BY id").fetchall()
        for r in rows:
            yield Chunk(*r)

    def all_articles(self) -> list[ArticleInfo]:
        rows = self._db().execute(f"SELECT {_INFO_COLUMNS} FROM articles ORDER BY path").fetchall()
        return [_info(r) for r in rows]

    def chunks_of(self, article_ids: Sequence[str]) -> np.ndarray:
        if not article_ids:
            return np.zeros(0, dtype=np.int64)
        marks = ",".join("?" * len(article_ids))
        rows = self._db().execute(f"SELECT id FROM chunks WHERE article_id IN ({marks})", list(article_ids)).fetchall()
        return np.asarray([r[0] for r in rows], dtype=np.int64)

    def newest_date(self) -> date | None:
        days = self._dated()[1]
        dated = days[~np.isnat(days)]
        return dated.max().astype(date) if len(dated) else None

    def dated_between(self, start: date, end: date) -> np.ndarray:
        ids, days = self._dated()
        return ids[(days >= np.datetime64(start)) & (days <= np.datetime64(end))]

    def _dated(self) -> tuple[np.ndarray, np.ndarray]:
        """Every chunk id and its article's day, read once: a date window is then two array
        comparisons (an undated chunk is NaT and never inside one)."""
        with self._lock:
            if self._days is None:
                rows = self._db().execute("SELECT c.id, a.date FROM chunks c JOIN articles a ON a.id = c.article_id")
                pairs = rows.fetchall()
                self._days = (
                    np.asarray([r[0] for r in pairs], dtype=np.int64),
                    np.asarray([r[1] or "NaT" for r in pairs], dtype="datetime64[D]"),
                )
            return self._days

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for db in connections:
            db.close()
