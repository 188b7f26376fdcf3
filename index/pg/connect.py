"""Connecting to the configured PostgreSQL: one clear line for every way it can fail, no password shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from newsbot.index.manifest import DatabaseProblem

if TYPE_CHECKING:
    import psycopg

    from newsbot.config.settings import Settings

PGVECTOR_HINT = (
    "install pgvector on the server (Debian/Ubuntu: apt install postgresql-<version>-pgvector; "
    "or the pgvector/pgvector image; see https://github.com/pgvector/pgvector) and run "
    "`CREATE EXTENSION vector;` in the database as its owner or a superuser"
)
CONNECT_TIMEOUT = 10


def url_of(settings: Settings) -> str:
    if settings.database_url is None:
        raise DatabaseProblem("backend postgres needs database_url (or NEWSBOT_DATABASE_URL)")
    return settings.database_url.get_secret_value()


def redacted(url: str) -> str:
    """The URL as messages may show it: user, host, port and database, never the password."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(url)
    except Exception:  # noqa: BLE001 - psycopg raises ProgrammingError for a malformed URL
        return "(malformed database_url)"
    host = parts.get("host") or "localhost"
    port = parts.get("port") or "5432"
    user = parts.get("user") or "(default user)"
    return f"postgresql://{user}@{host}:{port}/{parts.get('dbname') or user}"


def redacted_url(settings: Settings) -> str:
    return redacted(url_of(settings))


def explain(exc: Exception, url: str) -> DatabaseProblem:
    """A psycopg error at connect time as one line naming the server (its password withheld)."""
    where = redacted(url)
    text = " ".join(str(exc).split())
    if "password authentication failed" in text or "no password supplied" in text:
        return DatabaseProblem(f"PostgreSQL at {where} refused the password; fix the password in database_url")
    if "does not exist" in text and "database" in text:
        return DatabaseProblem(f"PostgreSQL at {where}: the database does not exist; create it (createdb) first")
    if "invalid" in text and ("dsn" in text.lower() or "connection option" in text or "URI" in text):
        return DatabaseProblem(f"database_url is not a valid PostgreSQL URL ({where})")
    reason = text.split(": ", 1)[-1] if "password" not in text else "connection failed"
    return DatabaseProblem(f"cannot reach PostgreSQL at {where}: {reason}; check database_url and that the server runs")


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection:
    """A connection with the vector type registered when the extension is there."""
    import psycopg

    try:
        conn = psycopg.connect(url, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT)
    except psycopg.Error as exc:
        raise explain(exc, url) from None
    return conn


def has_vector(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone() is not None


def register(conn: psycopg.Connection, url: str) -> None:
    """Teaches the connection the vector type; a database without pgvector is refused here."""
    from pgvector.psycopg import register_vector

    if not has_vector(conn):
        raise DatabaseProblem(f"database {redacted(url)} has no `vector` extension; {PGVECTOR_HINT}")
    register_vector(conn)
