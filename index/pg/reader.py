"""Reading an index from PostgreSQL: the ``IndexSource`` of the postgres backend, over a connection pool.

Every query runs in its own short transaction, so it sees one committed build whole. Chunks,
sentences and articles come from their tables; vector search is pgvector's HNSW (inner product,
as FAISS scores); lexical search is in ``lexical.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

from newsbot.index.entities import from_bytes
from newsbot.index.manifest import DatabaseProblem, IndexNotFound
from newsbot.index.pg import connect as pgc
from newsbot.index.pg.lexical import LexicalScoring, PgLexical
from newsbot.index.pg.schema import check_readable, stored_version
from newsbot.index.reading import Searched, dense_hits, one_after_other
from newsbot.index.records import ArticleInfo, Chunk, ChunkSentences

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

    from newsbot.config.settings import Settings

# Up to this many allowed chunks (a date window), they are scored exactly; above, the HNSW walk
# filters as it goes (pgvector 0.8's iterative scan) and is allowed to visit every row.
EXACT_MAX = 20_000
# Connections a reader's pool holds at least, and at most: one answer uses two at once (its dense
# and lexical searches overlap), and the bot answers from several threads.
POOL_MIN, POOL_MAX = 2, 4
# The nearest chunks to a question, by the HNSW index, and what makes the planner take the index:
# with hnsw.ef_search 400 it costs the walk of a table of up to ~15k chunks above reading them all
# and scans all of them (exact, but ~10 x slower: 57 ms against ~5 ms at 10k chunks, idle);
# ef_search is the recall knob, so the index is always walked.
NEAREST = "SELECT id, -(embedding <#> %(q)s) FROM chunks ORDER BY embedding <#> %(q)s LIMIT %(k)s"
NEAREST_BY_INDEX = "SET LOCAL enable_seqscan = off"
_CHUNK_COLUMNS = 'id, article_id, ordinal, text, start, "end", paragraph, paragraph_end'
_INFO_COLUMNS = "id, title, path, date, source, url"


class PgChunks:
    """The ``ChunkLookup`` of the postgres backend."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self.pool.connection() as conn:
            return conn.execute(sql, params).fetchall()

    def chunks(self, ids: Sequence[int]) -> dict[int, Chunk]:
        if not len(ids):
            return {}
        rows = self._rows(f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE id = ANY(%s)", ([int(i) for i in ids],))
        return {r[0]: Chunk(*r) for r in rows}

    def sentences(self, ids: Sequence[int]) -> dict[int, ChunkSentences]:
        if not len(ids):
            return {}
        rows = self._rows(
            "SELECT chunk_id, spans, vectors, entities FROM sentences WHERE chunk_id = ANY(%s)",
            ([int(i) for i in ids],),
        )
        out = {}
        for chunk_id, spans, vectors, entities in rows:
            pairs = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
            out[chunk_id] = ChunkSentences(
                chunk_id,
                tuple((int(a), int(b)) for a, b in pairs.tolist()),
                np.frombuffer(vectors, dtype="<f2").reshape(len(pairs), -1).astype(np.float32),
                from_bytes(bytes(entities)) if entities is not None else None,
            )
        return out

    def signatures(self, ids: Sequence[int]) -> dict[int, np.ndarray]:
        if not len(ids):
            return {}
        rows = self._rows("SELECT id, minhash FROM chunks WHERE id = ANY(%s)", ([int(i) for i in ids],))
        return {i: np.frombuffer(blob, dtype="<u4").astype(np.uint32) for i, blob in rows}

    def articles(self, ids: Iterable[str]) -> dict[str, ArticleInfo]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = self._rows(f"SELECT {_INFO_COLUMNS} FROM articles WHERE id = ANY(%s)", (wanted,))
        return {r[0]: ArticleInfo(*r) for r in rows}

    def article_text(self, article_id: str) -> str:
        rows = self._rows("SELECT text FROM articles WHERE id = %s", (article_id,))
        if not rows:
            raise KeyError(article_id)
        return rows[0][0]

    def all_articles(self) -> list[ArticleInfo]:
        return [ArticleInfo(*r) for r in self._rows(f"SELECT {_INFO_COLUMNS} FROM articles ORDER BY path")]

    def chunks_of(self, article_ids: Sequence[str]) -> np.ndarray:
        if not article_ids:
            return np.zeros(0, dtype=np.int64)
        rows = self._rows("SELECT id FROM chunks WHERE article_id = ANY(%s)", (list(article_ids),))
        return np.asarray([r[0] for r in rows], dtype=np.int64)

    def newest_date(self) -> date | None:
        return self._rows("SELECT max(date) FROM articles")[0][0]

    def dated_between(self, start: date, end: date) -> np.ndarray:
        rows = self._rows(
            "SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id WHERE a.date BETWEEN %s AND %s",
            (start, end),
        )
        return np.asarray([r[0] for r in rows], dtype=np.int64)


class PgVectors:
    """The ``VectorSearch`` of the postgres backend: HNSW over unit vectors by inner product."""

    def __init__(self, pool: ConnectionPool, ef_search: int) -> None:
        self.pool = pool
        self.ef_search = ef_search

    def __len__(self) -> int:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT chunk_count FROM meta").fetchone()
        return int(row[0]) if row else 0

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        # Pipelined: BEGIN, the settings and the first search go to the server together (one round
        # trip instead of three), the COMMIT in another.
        with self.pool.connection() as conn, conn.pipeline(), conn.transaction():
            # SET LOCAL: the settings end with this transaction, the pooled connection stays clean.
            conn.execute(f"SET LOCAL hnsw.ef_search = {max(int(self.ef_search), k)}")
            for row, query in enumerate(queries):
                found = self._one(conn, query, k, allowed)
                for j, (chunk_id, score) in enumerate(found):
                    ids[row, j], scores[row, j] = chunk_id, score
        return scores, ids

    @staticmethod
    def _one(conn: psycopg.Connection, query: np.ndarray, k: int, allowed: np.ndarray | None) -> list[tuple]:
        if allowed is None:
            conn.execute(NEAREST_BY_INDEX)
            return conn.execute(NEAREST, {"q": query, "k": k}).fetchall()
        wanted = [int(i) for i in allowed]
        if len(wanted) <= EXACT_MAX:
            # "+ 0": an expression the HNSW index cannot serve, so the allowed rows (found by
            # primary key) are scored exactly and none is missed.
            sql = (
                "SELECT id, -(embedding <#> %(q)s) FROM chunks WHERE id = ANY(%(ids)s) "
                "ORDER BY (embedding <#> %(q)s) + 0 LIMIT %(k)s"
            )
        else:
            conn.execute("SET LOCAL hnsw.iterative_scan = strict_order")
            conn.execute("SET LOCAL hnsw.max_scan_tuples = 2147483647")
            sql = (
                "SELECT id, -(embedding <#> %(q)s) FROM chunks WHERE id = ANY(%(ids)s) "
                "ORDER BY embedding <#> %(q)s LIMIT %(k)s"
            )
        return conn.execute(sql, {"q": query, "k": k, "ids": wanted}).fetchall()


class PgReader:
    """The ``IndexSource`` of the postgres backend."""

    def __init__(self, url: str, pool: ConnectionPool, meta: tuple, *, ef_search: int, lexical: LexicalScoring) -> None:
        self.url = url
        self.pool = pool
        self._model, self._dimension, self._generation = meta
        self._chunks = PgChunks(pool)
        self._vectors = PgVectors(pool, ef_search)
        self._lexical = PgLexical(pool, scoring=lexical)
        # Runs a question's lexical search while the asking thread runs its dense one.
        self._beside = ThreadPoolExecutor(max_workers=POOL_MAX, thread_name_prefix="newsbot-pg")

    @classmethod
    def open(cls, settings: Settings, *, model: str | None = None, dimension: int | None = None) -> PgReader:
        """Opens the configured database; DatabaseProblem (or IndexNotFound) says why it cannot be,
        also when its index was built with another ``model`` or ``dimension`` than given."""
        url = pgc.url_of(settings)
        with pgc.connect(url, autocommit=True) as conn:
            check_readable(conn, url)
            pgc.register(conn, url)
            meta = conn.execute("SELECT model, dimension, generation FROM meta").fetchone()
        if meta is None or meta[0] is None:
            raise IndexNotFound(f"no index in database {pgc.redacted(url)} yet; build one with `newsbot index`")
        if (model is not None and meta[0] != model) or (dimension is not None and meta[1] != dimension):
            raise DatabaseProblem(
                f"database {pgc.redacted(url)} holds an index of model {meta[0]!r} (dimension {meta[1]}), "
                f"this newsbot embeds with {model or meta[0]!r} (dimension {dimension or meta[1]}); "
                "set model_name back, or rebuild with `newsbot index --full`"
            )
        return cls(url, _pool(url), meta, ef_search=settings.pg_ef_search, lexical=settings.pg_lexical)

    @property
    def model(self) -> str:
        return str(self._model)

    @property
    def dimension(self) -> int:
        return int(self._dimension)

    @property
    def chunks(self) -> PgChunks:
        return self._chunks

    @property
    def vectors(self) -> PgVectors:
        return self._vectors

    @property
    def lexical(self) -> PgLexical:
        return self._lexical

    @property
    def article_count(self) -> int:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT count(*) FROM articles").fetchone()
        return int(row[0]) if row else 0

    @property
    def chunk_count(self) -> int:
        return len(self._vectors)

    def search(
        self, query_vector: np.ndarray | None, question: str | None, k: int, allowed: np.ndarray | None = None
    ) -> Searched:
        """Both searches at once, each on its own pooled connection: the server runs them on two
        cores and the answer waits for the slower one, not for their sum."""
        if query_vector is None or question is None:
            return one_after_other(self, query_vector, question, k, allowed)
        lexical = self._beside.submit(self._lexical.search, question, k, allowed)
        try:
            dense = dense_hits(self._vectors, query_vector, k, allowed)
        finally:
            wait([lexical])  # never left running on its own when the dense search failed
        return Searched(dense, lexical.result())

    def generation(self) -> str:
        return f"generation {self._generation}"

    def stored_generation(self) -> str:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT generation FROM meta").fetchone()
        return f"generation {row[0] if row else '?'}"

    def close(self) -> None:
        self._beside.shutdown(wait=True)
        self.pool.close()


def _pool(url: str) -> ConnectionPool:
    from pgvector.psycopg import register_vector
    from psycopg_pool import ConnectionPool

    def configure(conn: psycopg.Connection) -> None:
        register_vector(conn)

    # A few connections: the bot answers from a small thread pool; each query holds one briefly.
    pool = ConnectionPool(
        url,
        min_size=POOL_MIN,
        max_size=POOL_MAX,
        kwargs={"autocommit": True},
        configure=configure,
        open=False,
        name="newsbot",
    )
    try:
        pool.open(wait=True, timeout=pgc.CONNECT_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - the pool raises PoolTimeout; its cause is the connect error
        pool.close()
        raise pgc.explain(exc, url) from None
    return pool


def has_index(settings: Settings) -> bool:
    """Whether a build has finished into the configured database (False also before migration)."""
    url = pgc.url_of(settings)
    with pgc.connect(url, autocommit=True) as conn:
        if stored_version(conn) == 0:
            return False
        row = conn.execute("SELECT generation FROM meta").fetchone()
    return bool(row and row[0])
