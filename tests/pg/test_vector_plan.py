"""The postgres backend's vector search walks the HNSW index whatever ef_search makes the planner prefer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

from newsbot.index import backends
from newsbot.index.pg.reader import NEAREST, NEAREST_BY_INDEX, PgVectors
from tests.conftest import SEED_QUESTION
from tests.fakes.embedder import FakeEmbedder
from tests.pg.helpers import pg_build, pg_settings


def _plan(url: str, *settings: str) -> str:
    query = FakeEmbedder().embed_batch([SEED_QUESTION])[0]
    with psycopg.connect(url, autocommit=True) as conn:
        register_vector(conn)
        with conn.transaction():
            conn.execute("SET LOCAL hnsw.ef_search = 400")
            for setting in settings:
                conn.execute(setting)
            rows = conn.execute("EXPLAIN " + NEAREST, {"q": query, "k": 50}).fetchall()
    return "\n".join(r[0] for r in rows)


def test_the_nearest_chunks_come_from_the_hnsw_index(pg_url: str, seeds_copy: Path) -> None:
    pg_build(pg_settings(pg_url, seeds_copy))
    # A table of a few chunks and ef_search 400: left alone, the planner reads them all.
    assert "Seq Scan on chunks" in _plan(pg_url)
    assert "chunks_embedding_hnsw" in _plan(pg_url, NEAREST_BY_INDEX)


def test_vector_search_through_the_index_ranks_as_exact_search(pg_url: str, seeds_copy: Path) -> None:
    settings = pg_settings(pg_url, seeds_copy)
    pg_build(settings)
    reader = backends.open_index(settings, model="fake-hash-64")
    try:
        query = FakeEmbedder().embed_batch([SEED_QUESTION])
        scores, ids = PgVectors(reader.pool, 400).search(query, 50)
        with reader.pool.connection() as conn:
            stored = conn.execute("SELECT id, embedding FROM chunks").fetchall()
        exact = {int(i): float(v.to_numpy() @ query[0]) for i, v in stored}
        found = ids[0][ids[0] >= 0].tolist()
        assert found == sorted(exact, key=lambda i: -exact[i])  # a graph over a few chunks holds them all
        np.testing.assert_allclose(scores[0][: len(found)], [exact[i] for i in found], rtol=1e-5, atol=1e-6)
    finally:
        reader.close()
