"""Shared fixtures. Network: pytest-socket (see pyproject addopts) fails any test that connects
beyond loopback; the `no_network` check below proves the guard is on."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsbot.testing.postgres import PgServer, PostgresUnavailable, running_postgres
from tests.fakes.embedder import FakeEmbedder

ROOT = Path(__file__).resolve().parent.parent
# The bot's tests answer on threads: "auto" would start two worker processes for every bot a test
# runs (and in every `newsbot serve` a test starts). tests/bot/test_workers.py asks for workers.
os.environ.setdefault("NEWSBOT_ANSWER_PROCESSES", "0")
SEEDS = ROOT / "seeds"
DATA = Path(__file__).resolve().parent / "data"
SEED_QUESTION = "when does Scholz visit Kyiv?"


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """A private copy of the project's seeds that a test may change."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


def write_article(folder: Path, name: str, title: str, *paragraphs: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(title + "\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def real_embedder():
    """The packaged all-MiniLM-L6-v2, loaded once per test session (it takes ~10 s)."""
    from newsbot.index.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder("all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A real PostgreSQL with pgvector on a free loopback port, for the whole session."""
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(running_postgres())
        except PostgresUnavailable as exc:
            pytest.skip(f"no PostgreSQL test server: {exc}")
        yield server


@pytest.fixture
def pg_url(pg_server: PgServer, request: pytest.FixtureRequest) -> str:
    """A fresh database with the vector extension, named for the test, as a URL."""
    name = re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[:60]
    return pg_server.create_database(name)
