"""Bad postgres configuration: one clear line and exit code 2, never a traceback or the password."""

from __future__ import annotations

import socket
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from newsbot import command
from newsbot.cli import common as cli
from newsbot.index.pg.schema import LATEST
from newsbot.testing.postgres import PgServer
from tests.conftest import SEED_QUESTION
from tests.fakes.embedder import FakeEmbedder
from tests.pg.helpers import document_frequencies

runner = CliRunner()


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cli, "make_embedder", lambda settings: FakeEmbedder())
    monkeypatch.setenv("NEWSBOT_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("NEWSBOT_BACKEND", "postgres")


def run(url: str, seeds: Path, tmp_path: Path, *args: str):
    where = ["--seeds", str(seeds), "--index", str(tmp_path / "local")]
    return runner.invoke(command.app, [*args, *where], env={"NEWSBOT_DATABASE_URL": url})


def one_error_line(result, *expected: str) -> str:
    assert result.exit_code == 2, result.output
    # Besides the progress line ("indexing ... into ..."), one error line and no traceback.
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.stderr
    for text in expected:
        assert text in errors[0], errors[0]
    return errors[0]


def test_an_unreachable_server_is_named_without_its_password(seeds_copy: Path, tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run(f"postgresql://bot:s3cret-pw@127.0.0.1:{port}/news", seeds_copy, tmp_path, "ask", SEED_QUESTION)
    line = one_error_line(result, "cannot reach PostgreSQL at postgresql://bot@127.0.0.1", str(port))
    assert "s3cret-pw" not in result.output and "s3cret-pw" not in line


def test_a_wrong_password_is_refused_in_one_line(pg_server: PgServer, seeds_copy: Path, tmp_path: Path) -> None:
    url = pg_server.url(password="not-the-password")
    line = one_error_line(run(url, seeds_copy, tmp_path, "index"), "refused the password")
    assert "not-the-password" not in line


def test_a_database_without_pgvector_says_how_to_install_it(
    pg_server: PgServer, seeds_copy: Path, tmp_path: Path
) -> None:
    # A role that may not create the (untrusted) extension, owning a database without it.
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'plain'").fetchone() is None:
            conn.execute("CREATE ROLE plain LOGIN PASSWORD 'plain-pw'")
        conn.execute("DROP DATABASE IF EXISTS novector WITH (FORCE)")
        conn.execute("CREATE DATABASE novector OWNER plain")
    url = f"postgresql://plain:plain-pw@127.0.0.1:{pg_server.port}/novector"
    one_error_line(
        run(url, seeds_copy, tmp_path, "index"), "no `vector` extension", "CREATE EXTENSION vector", "pgvector"
    )
    # Nor can it be read: `ask` on it builds first, and is refused the same way.
    one_error_line(run(url, seeds_copy, tmp_path, "ask", SEED_QUESTION), "CREATE EXTENSION vector")


def test_an_index_of_another_model_is_refused(
    pg_url: str, seeds_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(pg_url, seeds_copy, tmp_path, "index").exit_code == 0
    monkeypatch.setattr(cli, "make_embedder", lambda settings: FakeEmbedder(name="other-model", dimension=32))
    one_error_line(run(pg_url, seeds_copy, tmp_path, "ask", SEED_QUESTION), "model 'fake-hash-64'", "other-model")
    one_error_line(run(pg_url, seeds_copy, tmp_path, "index"), "model 'fake-hash-64'", "--full")
    # --full replaces it (the vector column takes the new dimension), and then it answers.
    assert run(pg_url, seeds_copy, tmp_path, "index", "--full").exit_code == 0
    result = run(pg_url, seeds_copy, tmp_path, "ask", SEED_QUESTION)
    assert result.exit_code == 0 and "Scholz" in result.stdout, result.output


def test_a_database_of_a_newer_schema_is_refused_and_left_alone(pg_url: str, seeds_copy: Path, tmp_path: Path) -> None:
    assert run(pg_url, seeds_copy, tmp_path, "index").exit_code == 0
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version VALUES (99, now())")
    for args in (("ask", SEED_QUESTION), ("index",)):
        one_error_line(run(pg_url, seeds_copy, tmp_path, *args), "schema version 99", f"supports ({LATEST})")
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone() == (99,)


# What each migration after the first added, undone: a database as an older newsbot left it.
_UNDO = {
    3: "DROP TABLE terms; ALTER TABLE postings DROP CONSTRAINT postings_pkey, ADD PRIMARY KEY (term, chunk_id)",
    2: "DROP TABLE follow_topics, follow_alerts, follow_known, follow_looked",
}


def _as_version(url: str, version: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for number in sorted(_UNDO, reverse=True):
            if number > version:
                conn.execute(_UNDO[number])
                conn.execute("DELETE FROM schema_version WHERE version = %s", (number,))


@pytest.mark.parametrize("version", [1, 2])
def test_a_database_of_an_older_schema_is_refused_by_ask_and_migrated_by_the_next_index(
    pg_url: str, seeds_copy: Path, tmp_path: Path, version: int
) -> None:
    assert run(pg_url, seeds_copy, tmp_path, "index").exit_code == 0
    _as_version(pg_url, version)
    one_error_line(
        run(pg_url, seeds_copy, tmp_path, "ask", SEED_QUESTION), f"schema version {version}", "newsbot index"
    )
    assert run(pg_url, seeds_copy, tmp_path, "index").exit_code == 0  # nothing to build; migrates
    result = run(pg_url, seeds_copy, tmp_path, "ask", SEED_QUESTION)
    assert result.exit_code == 0 and "Scholz" in result.stdout, result.output
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone() == (LATEST,)
        assert conn.execute("SELECT count(*) FROM follow_topics").fetchone() == (0,)
        key = conn.execute("SELECT pg_get_indexdef('postings_pkey'::regclass)").fetchone()
        assert key is not None and "INCLUDE (tf, length)" in key[0]
    kept, counted = document_frequencies(pg_url)
    assert kept == counted and len(kept) > 10  # filled from the postings the old build wrote


def test_backend_postgres_without_a_database_url_is_a_settings_error(seeds_copy: Path, tmp_path: Path) -> None:
    result = runner.invoke(command.app, ["index", "--seeds", str(seeds_copy)], env={"NEWSBOT_DATABASE_URL": None})
    assert result.exit_code == 2 and "needs database_url" in result.stderr, result.output
