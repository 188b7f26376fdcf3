"""One build into PostgreSQL: every edit in one transaction, so readers see the old state or the new.

A build killed at any moment (even SIGKILL) ends its connection; the server rolls the transaction
back and drops its advisory lock, so the previous state keeps serving and the next build starts
clean. Two builds at once are refused by that lock (``pg_try_advisory_lock``).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Self

import numpy as np

from newsbot.index.bm25 import stems
from newsbot.index.entities import to_bytes
from newsbot.index.manifest import ArticleEntry, DatabaseProblem, IndexLocked, Manifest
from newsbot.index.minhash import signature
from newsbot.index.pg import connect as pgc
from newsbot.index.pg.schema import BUILD_LOCK, HNSW_INDEX, migrate
from newsbot.index.records import Article, Chunk, ChunkSentences

if TYPE_CHECKING:
    import psycopg

    from newsbot.config.settings import Settings

# HNSW graph settings: pgvector's defaults, measured in `newsbot bench --backend postgres`.
HNSW_M, HNSW_EF_CONSTRUCTION = 16, 64
HNSW_OPTIONS = f"m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION}"
# Chunks buffered before their rows go to the server, one COPY per table: with an article or two
# per COPY, round trips to the server took most of a build's write time.
WRITE_BATCH = 2_000
# Document frequencies (table ``terms``), kept in step with the postings in the build's transaction.
_COUNT = (
    "INSERT INTO terms (term, df) SELECT * FROM unnest(%s::text[], %s::int[]) "
    "ON CONFLICT (term) DO UPDATE SET df = terms.df + excluded.df"
)
_UNCOUNT = (
    "UPDATE terms t SET df = t.df - gone.n FROM (SELECT p.term, count(*) AS n FROM postings p "
    "JOIN chunks c ON c.id = p.chunk_id WHERE c.article_id = %s GROUP BY p.term) gone WHERE t.term = gone.term"
)
_CHUNK_TYPES = ["int8", "text", "int4", "int4", "int4", "int4", "int4", "text", "vector", "bytea", "text", "int4"]


@dataclass
class _Rows:
    """Rows of added articles not yet sent to the server, table by table."""

    articles: list[tuple] = field(default_factory=list)
    chunks: list[tuple[str, Chunk, np.ndarray]] = field(default_factory=list)  # with the article's title
    sentences: list[tuple] = field(default_factory=list)


class PgWriter:
    """The ``IndexWriting`` of the postgres backend; ``full`` allows replacing another model's index."""

    def __init__(self, url: str, *, model: str, full: bool = False, lock_timeout: float = 0.0) -> None:
        if lock_timeout < 0:
            raise ValueError(f"lock_timeout must be 0 or more seconds, got {lock_timeout}")
        self.url = url
        self.model = model
        self.full = full
        self.lock_timeout = lock_timeout
        self.previous: Manifest | None = None
        self.manifest: Manifest | None = None
        self._conn: psycopg.Connection | None = None
        self._index_after = False
        # Statements of begin() and remove_article(), run just before the first write: the build
        # embeds between those calls and the writes, and its transaction (with any lock the
        # schema change takes) should not stay open while it does.
        self._pending: list[tuple[str, tuple]] = []
        self._rows = _Rows()

    @classmethod
    def from_settings(cls, settings: Settings, *, full: bool = False, lock_timeout: float = 0.0) -> PgWriter:
        return cls(pgc.url_of(settings), model=settings.model_name, full=full, lock_timeout=lock_timeout)

    def __enter__(self) -> Self:
        conn = pgc.connect(self.url, autocommit=True)
        self._conn = conn
        try:
            migrate(conn, self.url)
            self._lock(conn)
            pgc.register(conn, self.url)
            self.previous = self._read_previous(conn)
        except BaseException:
            conn.close()
            self._conn = None
            raise
        conn.autocommit = False
        return self

    def _lock(self, conn: psycopg.Connection) -> None:
        deadline = time.monotonic() + self.lock_timeout
        while conn.execute("SELECT pg_try_advisory_lock(%s)", (BUILD_LOCK,)).fetchone() != (True,):
            if time.monotonic() >= deadline:
                raise IndexLocked(
                    f"another `newsbot index` is building into {pgc.redacted(self.url)} right now; "
                    "wait for it to finish and run again"
                )
            time.sleep(0.2)

    def __exit__(self, *exc: object) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        # Closing without commit rolls back; the session's advisory lock goes with the connection.
        conn.close()

    @staticmethod
    def _read_previous(conn: psycopg.Connection) -> Manifest | None:
        row = conn.execute("SELECT model, dimension, chunking, next_chunk_id FROM meta").fetchone()
        if row is None or row[0] is None:
            return None
        articles = conn.execute(
            "SELECT a.path, a.id, a.hash, a.title, count(c.id) FROM articles a "
            "LEFT JOIN chunks c ON c.article_id = a.id GROUP BY a.id"
        ).fetchall()
        return Manifest.model_validate(
            {
                "model": row[0],
                "dimension": row[1],
                "store": "postgres",
                "chunking": row[2],
                "next_chunk_id": row[3],
                "articles": {p: {"id": i, "hash": h, "title": t, "chunks": n} for p, i, h, t, n in articles},
            }
        )

    def _begun(self) -> tuple[psycopg.Connection, Manifest]:
        if self._conn is None or self.manifest is None:
            raise RuntimeError("PgWriter: call begin() inside `with` first (and edit nothing after commit())")
        return self._conn, self.manifest

    def begin(self, model: str, dimension: int, chunking: dict[str, int | str], *, incremental: bool) -> Manifest:
        if self._conn is None:
            raise RuntimeError("PgWriter: use it as a context manager")
        before = self.previous
        if before is not None and (before.model, before.dimension) != (model, dimension) and not self.full:
            raise DatabaseProblem(
                f"database {pgc.redacted(self.url)} holds an index of model {before.model!r} "
                f"(dimension {before.dimension}), settings ask for {model!r} (dimension {dimension}); "
                "set model_name back, or replace it with `newsbot index --full`"
            )
        if incremental and before is not None:
            self.manifest = before.model_copy(deep=True)
            return self.manifest
        self._pending.append(("DELETE FROM articles", ()))  # cascades to chunks, sentences and postings
        self._pending.append(("DELETE FROM terms", ()))
        if before is None or before.dimension != dimension:
            # The column takes the model's dimension; the graph is built once the rows are in.
            self._pending.append((f"DROP INDEX IF EXISTS {HNSW_INDEX}", ()))
            self._pending.append((f"ALTER TABLE chunks ALTER COLUMN embedding TYPE vector({int(dimension)})", ()))
            self._index_after = True
        next_id = before.next_chunk_id if before is not None else 0  # ids never reused across builds
        self.manifest = Manifest(
            model=model, dimension=dimension, store="postgres", chunking=chunking, next_chunk_id=next_id
        )
        return self.manifest

    def remove_article(self, path: str) -> None:
        conn, manifest = self._begun()
        entry = manifest.articles.pop(path)
        if self._rows.chunks or self._rows.articles:
            self._write(conn)  # an article added before its removal goes in first, then goes
        # Its words' document frequencies go down by the postings the cascade is about to delete.
        self._pending.append((_UNCOUNT, (entry.id,)))
        self._pending.append(("DELETE FROM articles WHERE id = %s", (entry.id,)))

    def _flush(self, conn: psycopg.Connection) -> None:
        for sql, params in self._pending:
            conn.execute(sql, params)
        self._pending.clear()

    def add_article(
        self, article: Article, chunks: list[Chunk], vectors: np.ndarray, sentences: Sequence[ChunkSentences] = ()
    ) -> None:
        conn, manifest = self._begun()
        if len(vectors) != len(chunks):
            raise ValueError(f"{len(vectors)} vectors for {len(chunks)} chunks")
        rows = self._rows
        rows.articles.append(
            (
                article.id,
                article.path,
                article.title,
                article.date,
                article.source,
                article.url,
                article.hash,
                article.text,
            )
        )
        rows.chunks += [
            (article.title, c, v) for c, v in zip(chunks, np.asarray(vectors, dtype=np.float32), strict=True)
        ]
        rows.sentences += [
            (
                s.chunk_id,
                [int(x) for pair in s.spans for x in pair],
                s.vectors.astype("<f2").tobytes(),
                to_bytes(s.entities) if s.entities is not None else None,
            )
            for s in sentences
        ]
        manifest.articles[article.path] = ArticleEntry(
            id=article.id, hash=article.hash, chunks=len(chunks), title=article.title
        )
        if chunks:
            manifest.next_chunk_id = max(manifest.next_chunk_id, chunks[-1].id + 1)
        if len(rows.chunks) >= WRITE_BATCH:
            self._write(conn)

    def _write(self, conn: psycopg.Connection) -> None:
        """The statements waiting to run, then the buffered rows, one COPY per table."""
        self._flush(conn)
        rows, self._rows = self._rows, _Rows()
        # The words BM25 counts, stemmed in one call for the whole batch (it has a cost per call).
        words = stems([f"{title}\n{c.text}" for title, c, _ in rows.chunks])
        chunk_rows = [
            (
                c.id,
                c.article_id,
                c.ordinal,
                c.start,
                c.end,
                c.paragraph,
                c.paragraph_end,
                c.text,
                v,
                signature(c.text).astype("<u4").tobytes(),
                " ".join(w),
                len(w),
            )
            for (_, c, v), w in zip(rows.chunks, words, strict=True)
        ]
        postings = [
            (term, c.id, tf, len(w))
            for (_, c, _), w in zip(rows.chunks, words, strict=True)
            for term, tf in Counter(w).items()
        ]
        df = Counter(term for term, *_ in postings)
        with conn.cursor() as cur:
            for sql, batch, types in (
                ("COPY articles (id, path, title, date, source, url, hash, text) FROM STDIN", rows.articles, None),
                # Binary: a vector written as text costs ~2 ms (384 floats printed), as bytes nothing.
                (
                    'COPY chunks (id, article_id, ordinal, start, "end", paragraph, paragraph_end, text, embedding, '
                    "minhash, lexemes, lexical_length) FROM STDIN (FORMAT BINARY)",
                    chunk_rows,
                    _CHUNK_TYPES,
                ),
                ("COPY postings (term, chunk_id, tf, length) FROM STDIN", postings, None),
                ("COPY sentences (chunk_id, spans, vectors, entities) FROM STDIN", rows.sentences, None),
            ):
                if batch:
                    with cur.copy(sql) as copy:
                        if types is not None:
                            copy.set_types(types)
                        for row in batch:
                            copy.write_row(row)
            if df:
                cur.execute(_COUNT, (list(df), list(df.values())))

    def write_bm25(self) -> None:
        """Nothing to do: each article's postings and its words' document frequencies were written
        with it, and the statistics BM25 needs (chunk count, total length) are updated by ``commit``."""

    def commit(self) -> str:
        conn, manifest = self._begun()
        self._write(conn)
        conn.execute("DELETE FROM terms WHERE df = 0")  # words whose last chunk went
        if self._index_after:
            conn.execute(
                f"CREATE INDEX {HNSW_INDEX} ON chunks USING hnsw (embedding vector_ip_ops) WITH ({HNSW_OPTIONS})"
            )
        row = conn.execute(
            "UPDATE meta SET model = %s, dimension = %s, chunking = %s, next_chunk_id = %s, "
            "generation = generation + 1, updated = now(), "
            "chunk_count = (SELECT count(*) FROM chunks), "
            "lexical_length = (SELECT coalesce(sum(lexical_length), 0) FROM chunks) RETURNING generation",
            (manifest.model, manifest.dimension, json.dumps(manifest.chunking), manifest.next_chunk_id),
        ).fetchone()
        conn.commit()
        self.manifest = None
        # Index-only scans of the postings skip the table only on pages the visibility map marks
        # all-visible; until a vacuum passes, every new posting is also a table read (at 100k
        # chunks, ~33,000 table pages for one question's postings). Autovacuum would get there,
        # at a time of its choosing; the build does it now, after its commit: readers never wait
        # on it, and a build killed here has already published its state.
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) postings, terms")
        return f"generation {row[0] if row else '?'}"
