"""Lexical search in PostgreSQL: BM25 computed in SQL from postings, or full-text ``ts_rank_cd``.

Both read the same words bm25s counts (its tokenizer: English stop words out, Snowball stems),
written per chunk at build time. ``bm25`` (the default) scores them with BM25 exactly as bm25s
does (Lucene's variant, k1 1.5, b 0.75), from a postings table (term, chunk, tf, chunk length)
with document frequencies kept per word in ``terms`` and the chunk count and total length in
``meta``. ``ts_rank_cd`` ranks the chunks whose
generated ``tsvector`` (GIN-indexed) matches any query word by cover density, normalised by
length; it knows no document frequency, so rare words weigh no more than common ones (see the
README's measurements for what that costs).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Literal

import numpy as np

from newsbot.index.bm25 import SparseHits, stems

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

LexicalScoring = Literal["bm25", "ts_rank_cd"]
K1, B = 1.5, 0.75  # bm25s's defaults

# Document frequencies come from ``terms`` (kept by the build), the collection statistics from
# ``meta`` as scalar subqueries: a join with ``meta`` is estimated at hundreds of rows by the
# planner (the one-row table has no statistics), which once made it read all the postings in
# chunk order instead of each query word's own. Each word's postings are an index-only scan of
# the postings key (term, chunk_id) INCLUDE (tf, length). float8 throughout: numeric arithmetic
# cost more than the rest of the sum. MATERIALIZED: each word's weight is worked out once, not
# inlined into the sum and recomputed for every posting (-14 % of the query at 100k chunks).
_BM25 = """
WITH w AS MATERIALIZED (
    SELECT q.term, q.qtf * ln(1 + ((SELECT chunk_count FROM meta) - t.df + 0.5::float8) / (t.df + 0.5::float8)) AS weight
    FROM unnest(%(terms)s::text[], %(counts)s::int[]) AS q(term, qtf) JOIN terms t ON t.term = q.term
    WHERE t.df > 0
)
SELECT p.chunk_id, sum(w.weight * p.tf / (p.tf + %(k1)s * (1 - %(b)s + %(b)s * p.length / (
    SELECT lexical_length::float8 / greatest(chunk_count, 1) FROM meta)))) AS score
FROM w JOIN postings p ON p.term = w.term
{where}
GROUP BY p.chunk_id ORDER BY score DESC, p.chunk_id LIMIT %(k)s
"""

_TS_RANK_CD = """
SELECT id, ts_rank_cd(tsv, query, 1) AS score
FROM chunks, to_tsquery('simple', %(query)s) AS query
WHERE tsv @@ query {where}
ORDER BY score DESC, id LIMIT %(k)s
"""


class PgLexical:
    """The ``LexicalSearch`` of the postgres backend."""

    def __init__(self, pool: ConnectionPool, *, scoring: LexicalScoring = "bm25") -> None:
        if scoring not in ("bm25", "ts_rank_cd"):
            raise ValueError(f"lexical scoring must be bm25 or ts_rank_cd, got {scoring!r}")
        self.pool = pool
        self.scoring = scoring

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> SparseHits:
        words = stems([query])[0]
        if not words or k < 1:
            return SparseHits(np.zeros(0, np.int64), np.zeros(0, np.float32))
        params: dict[str, object] = {"k": k}
        if allowed is not None:
            params["ids"] = [int(i) for i in allowed]
        if self.scoring == "bm25":
            counts = Counter(words)  # a word asked twice counts twice, as in bm25s
            params |= {"terms": list(counts), "counts": list(counts.values()), "k1": K1, "b": B}
            sql = _BM25.format(where="WHERE p.chunk_id = ANY(%(ids)s)" if allowed is not None else "")
        else:
            # Quoted lexemes: a stem is matched as it is, never parsed as tsquery syntax.
            params["query"] = " | ".join("'" + w.replace("'", "''") + "'" for w in dict.fromkeys(words))
            sql = _TS_RANK_CD.format(where="AND id = ANY(%(ids)s)" if allowed is not None else "")
        with self.pool.connection() as conn:
            # Never a prepared statement: psycopg prepares a query run 5 times on a connection, and
            # PostgreSQL then settles on a generic plan, where the allowed ids are a parameter it
            # cannot hash, so each posting was compared with the whole list (10,000 allowed ids:
            # 122 ms against 24 ms planned each time).
            rows = conn.execute(sql, params, prepare=False).fetchall()
        return SparseHits(
            np.asarray([r[0] for r in rows], dtype=np.int64), np.asarray([r[1] for r in rows], dtype=np.float32)
        )

    def idf(self, words: list[str]) -> np.ndarray:
        """BM25's idf of each stemmed word, as bm25s computes it; 0 for a word no chunk has."""
        if not words:
            return np.zeros(0, dtype=np.float32)
        # One round trip: the chunk count rides on each row (no row: no word has a weight anyway).
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT term, df, (SELECT chunk_count FROM meta) FROM terms WHERE term = ANY(%s)", (list(set(words)),)
            ).fetchall()
        n = max(int(rows[0][2] or 0), 1) if rows else 1
        df: dict[str, int] = {term: int(count) for term, count, _ in rows}
        return np.asarray(
            [np.log(1 + (n - df[w] + 0.5) / (df[w] + 0.5)) if df.get(w) else 0.0 for w in words], dtype=np.float32
        )
