"""The database layout, as explicit numbered migrations recorded in ``schema_version``.

A database written by a newer newsbot (a higher version than ``LATEST``) is refused, never
altered. The chunk vector column gets its dimension at the first build (the model decides it).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from newsbot.index.manifest import DatabaseProblem, IndexNotFound
from newsbot.index.pg.connect import PGVECTOR_HINT, redacted

if TYPE_CHECKING:
    import psycopg

# Advisory lock keys (any fixed 64-bit numbers): one for migrations, one held by the build.
MIGRATE_LOCK = 0x6E657773_00000001
BUILD_LOCK = 0x6E657773_00000002
HNSW_INDEX = "chunks_embedding_hnsw"

# Each entry runs once, in order, inside one transaction with its version row.
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
CREATE TABLE meta (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    model text, dimension integer, chunking jsonb NOT NULL DEFAULT '{}',
    next_chunk_id bigint NOT NULL DEFAULT 0,
    generation bigint NOT NULL DEFAULT 0,
    created timestamptz NOT NULL DEFAULT now(), updated timestamptz,
    chunk_count bigint NOT NULL DEFAULT 0,
    lexical_length bigint NOT NULL DEFAULT 0
);
INSERT INTO meta DEFAULT VALUES;
CREATE TABLE articles (
    id text PRIMARY KEY, path text NOT NULL UNIQUE, title text NOT NULL, date date, source text,
    url text, hash text NOT NULL, text text NOT NULL
);
CREATE INDEX articles_by_date ON articles (date);
CREATE TABLE chunks (
    id bigint PRIMARY KEY,
    article_id text NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    ordinal integer NOT NULL, start integer NOT NULL, "end" integer NOT NULL,
    paragraph integer NOT NULL, paragraph_end integer NOT NULL, text text NOT NULL,
    embedding vector NOT NULL,
    minhash bytea NOT NULL,
    lexemes text NOT NULL,
    lexical_length integer NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', lexemes)) STORED
);
CREATE INDEX chunks_by_article ON chunks (article_id);
CREATE INDEX chunks_tsv ON chunks USING gin (tsv);
CREATE TABLE sentences (
    chunk_id bigint PRIMARY KEY REFERENCES chunks (id) ON DELETE CASCADE,
    spans integer[] NOT NULL, vectors bytea NOT NULL, entities bytea
);
CREATE TABLE postings (
    term text NOT NULL, chunk_id bigint NOT NULL REFERENCES chunks (id) ON DELETE CASCADE,
    tf integer NOT NULL, length integer NOT NULL,
    PRIMARY KEY (term, chunk_id)
);
CREATE INDEX postings_by_chunk ON postings (chunk_id);
""",
    ),
    (
        2,
        # The bot's followed topics and sent alerts (follow/pg_store.py): kept in the index's database
        # so that every replica reads one list and claims each alert once. Not tied to `articles`
        # by a foreign key: an alert stays recorded after its article leaves the index.
        """
CREATE TABLE follow_topics (
    id bigserial PRIMARY KEY, chat_id bigint NOT NULL, words text NOT NULL, key text NOT NULL,
    created timestamptz NOT NULL, UNIQUE (chat_id, key)
);
CREATE TABLE follow_alerts (
    chat_id bigint NOT NULL, topic_key text NOT NULL, article_id text NOT NULL, sent timestamptz NOT NULL,
    PRIMARY KEY (chat_id, topic_key, article_id)
);
CREATE INDEX follow_alerts_by_time ON follow_alerts (chat_id, sent);
CREATE TABLE follow_known (article_id text PRIMARY KEY);
CREATE TABLE follow_looked (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), at timestamptz NOT NULL
);
""",
    ),
    (
        3,
        # BM25 without counting: each word's document frequency kept by the build (writer.py) in
        # the transaction that writes its postings, instead of count(*) over its postings on every
        # question; and the postings' key carries tf and length, so a word's postings are read
        # from the index alone (an index-only scan over adjacent pages), not row by row from the
        # table, where each posting of a common word sat on a page of its own.
        """
CREATE TABLE terms (term text PRIMARY KEY, df integer NOT NULL CHECK (df >= 0));
INSERT INTO terms SELECT term, count(*) FROM postings GROUP BY term;
ALTER TABLE postings DROP CONSTRAINT postings_pkey,
    ADD CONSTRAINT postings_pkey PRIMARY KEY (term, chunk_id) INCLUDE (tf, length);
""",
    ),
)
LATEST = MIGRATIONS[-1][0]
# Every table the migrations create, newest first, and the version table: what drop_schema drops
# (read off the migrations, so a table a new migration adds is never left behind).
TABLES = (
    *reversed([name for _, sql in MIGRATIONS for name in re.findall(r"CREATE TABLE (\w+)", sql)]),
    "schema_version",
)


def stored_version(conn: psycopg.Connection) -> int:
    """The schema version of the database, 0 for one newsbot has never written to."""
    if conn.execute("SELECT to_regclass('schema_version')").fetchone() == (None,):
        return 0
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def drop_schema(conn: psycopg.Connection) -> None:
    """Drops every newsbot table (the vector extension stays): the database is as before the first build."""
    conn.execute(f"DROP TABLE IF EXISTS {', '.join(TABLES)} CASCADE")


def check_readable(conn: psycopg.Connection, url: str) -> None:
    """Refuses a database this newsbot cannot read as it is (never changes it)."""
    version = stored_version(conn)
    if version > LATEST:
        raise DatabaseProblem(newer_message(version, url))
    if version == 0:
        raise IndexNotFound(f"no index in database {redacted(url)}; build one with `newsbot index`")
    if version < LATEST:
        raise DatabaseProblem(
            f"database {redacted(url)} has schema version {version}, this newsbot reads {LATEST}; "
            "run `newsbot index` to migrate it"
        )


def newer_message(version: int, url: str) -> str:
    return (
        f"database {redacted(url)} has schema version {version}, newer than this newsbot supports ({LATEST}); "
        "upgrade newsbot, or point database_url at another database"
    )


def migrate(conn: psycopg.Connection, url: str) -> int:
    """Brings the schema to ``LATEST`` (creating the vector extension when it can); returns it."""
    import psycopg

    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
        try:
            with conn.transaction():
                conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except psycopg.Error as exc:
            raise DatabaseProblem(
                f"database {redacted(url)} has no `vector` extension and newsbot cannot create it "
                f"({' '.join(str(exc).split())}); {PGVECTOR_HINT}"
            ) from None
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied timestamptz)")
        version = stored_version(conn)
        if version > LATEST:
            raise DatabaseProblem(newer_message(version, url))
        for number, sql in MIGRATIONS:
            if number > version:
                conn.execute(sql)
                conn.execute("INSERT INTO schema_version VALUES (%s, now())", (number,))
    return LATEST
