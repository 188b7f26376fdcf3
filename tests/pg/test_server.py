"""The PostgreSQL test server itself: it runs, has pgvector, and checks passwords."""

from __future__ import annotations

import psycopg
import pytest

from newsbot.testing.postgres import PgServer


def test_server_has_pgvector_and_checks_passwords(pg_server: PgServer, pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        version = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
        assert version is not None and tuple(map(int, version[0].split("."))) >= (0, 8, 0)
        assert conn.execute("SELECT '[1,0]'::vector <#> '[1,0]'::vector").fetchone() == (-1.0,)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pg_server.url(password="wrong"))
