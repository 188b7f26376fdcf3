"""`newsbot bench`: it runs and prints its table/JSON shape. Nothing here is about speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsbot.bench.records import BenchReport, LatencyPoint, Row
from newsbot.bench.report import TARGETS, markdown, plot, table, verdicts
from newsbot.command import app

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = {"indexing", "cold start", "latency", "memory", "recall (real)", "faiss (synthetic)", "bot"}


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(1500)  # ~2 minutes on an idle 2-core machine; much more on a shared, busy one
def test_quick_bench_runs_and_prints_json(tmp_path: Path) -> None:
    png = tmp_path / "plot.png"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from newsbot.command import main; main()",
            "bench",
            "--quick",
            "--json",
            "--out",
            str(png),
            "--workdir",
            str(tmp_path / "work"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1400,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["quick"] is True and result["plot"] == str(png)
    assert {"cpu", "cores", "memory"} <= set(result["machine"])
    assert {r["section"] for r in result["rows"]} >= SECTIONS
    for row in result["rows"]:
        assert {"section", "metric", "value", "unit", "baseline", "target", "met", "ratio"} <= set(row)
        assert row["value"] is None or row["value"] >= 0
    systems = {p["system"] for p in result["latency"]}
    assert {"newsbot answer", "bm25s alone", "onnxruntime + FAISS + bm25s (same files)"} <= systems
    assert len(result["targets"]) >= 10
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "bench: indexing" in done.stderr  # progress goes to stderr, the JSON alone to stdout


def sample_report() -> BenchReport:
    report = BenchReport(quick=True, machine={"cpu": "test cpu", "cores": "2"}, seconds=1.0)
    report.add(
        Row(
            "indexing",
            "full build, chunks/s",
            95.0,
            "chunks/s",
            100.0,
            "SentenceTransformer.encode",
            ">= 0.90 x bare encode",
            True,
        )
    )
    report.add(Row("memory", "peak RSS | serving", 300.0, "MB", 250.0, "raw", "<= 1.3 x at 100k", False, load=1.5))
    report.latency += [
        LatencyPoint("newsbot answer", 10_000, 5.0, 9.0),
        LatencyPoint("newsbot answer", 100_000, 7.0, 12.0),
    ]
    return report


def test_table_and_markdown_show_ratio_and_verdict(tmp_path: Path) -> None:
    report = sample_report()
    rendered = table(report)
    assert [c.header for c in rendered.columns] == [
        "section",
        "metric",
        "newsbot",
        "baseline",
        "ratio",
        "target",
        "met",
        "load",
        "note",
    ]
    text = markdown(report)
    assert "| indexing | full build, chunks/s | 95.0 chunks/s | 100.0 chunks/s" in text
    assert "| 0.95 |" in text and "| met |" in text and "**missed**" in text
    assert "peak RSS / serving" in text  # a pipe in a cell would break the markdown table
    assert "| **missed** | 1.50 |" in text  # the machine's load beside the figure
    assert plot(report, tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


def test_every_target_is_listed_met_missed_or_not_measured() -> None:
    lines = verdicts(sample_report())
    assert len(lines) == len(TARGETS)
    assert "MISSED        <= 1.3 x at 100k: peak RSS | serving = 300.0 MB (load 1.50)" in lines
    assert any(line.startswith("met           >= 0.90 x bare encode: full build") for line in lines)
    assert "not measured  >= 50 answers/s at send_rate 1000" in lines


def test_out_must_be_a_png() -> None:
    result = CliRunner().invoke(app, ["bench", "--out", "plot.svg"])
    assert result.exit_code == 2
    assert "--out must name a .png file, got 'plot.svg'" in result.output


def test_only_must_name_sections() -> None:
    result = CliRunner().invoke(app, ["bench", "--only", "bot", "--only", "speed"])
    assert result.exit_code == 2
    assert (
        "--only must name sections among indexing, cold-start, latency, recall, faiss, bot, postgres, got 'speed'"
        in result.output
    )
