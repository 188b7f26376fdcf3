"""Building and opening the postgres backend in tests (fake embedder, the project's seeds)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from newsbot.config.settings import Settings
from newsbot.index import backends
from newsbot.index.builder import BuildReport, IndexBuilder
from newsbot.retrieval.retriever import Retriever
from tests.fakes.embedder import FakeEmbedder


def pg_settings(url: str, seeds: Path, **extra: object) -> Settings:
    return Settings(backend="postgres", database_url=url, seeds_dir=seeds, model_name="fake-hash-64", **extra)


def pg_build(settings: Settings, embedder: FakeEmbedder | None = None, *, full: bool = False) -> BuildReport:
    builder = IndexBuilder.from_settings(settings, embedder or FakeEmbedder())
    return backends.build(builder, settings, full=full)


def pg_retriever(settings: Settings, embedder: FakeEmbedder | None = None) -> Retriever:
    embedder = embedder or FakeEmbedder()
    return Retriever.serve(backends.open_index(settings, model=embedder.name), embedder=embedder, settings=settings)


def document_frequencies(url: str) -> tuple[list[tuple], list[tuple]]:
    """The ``terms`` table the builds keep, and the same counted from the postings."""
    import psycopg

    with psycopg.connect(url) as conn:
        kept = conn.execute("SELECT term, df FROM terms ORDER BY term").fetchall()
        counted = conn.execute("SELECT term, count(*)::int FROM postings GROUP BY term ORDER BY term").fetchall()
    return kept, counted


def build_in_another_process(url: str, seeds: Path) -> str:
    """`newsbot index` into the database by another process (tests/fakes/pg_build_child.py); its
    last line, ``built generation N``."""
    root = Path(__file__).resolve().parents[2]
    child = subprocess.run(
        [sys.executable, "-m", "tests.fakes.pg_build_child", url, str(seeds)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ | {"NEWSBOT_CONFIG": str(seeds / "absent.toml")},
    )
    assert child.returncode == 0, child.stderr
    return child.stdout.strip().splitlines()[-1]
