"""What every `newsbot` subcommand shares: the Typer app, consoles, options, settings and the retriever."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

if TYPE_CHECKING:
    from newsbot.config.settings import Settings
    from newsbot.index.builder import BuildReport
    from newsbot.index.embedder import Embedder, SentenceTransformerEmbedder
    from newsbot.index.records import Failure
    from newsbot.retrieval.retriever import Retriever

app = typer.Typer(
    name="newsbot",
    help="Question answering over news articles, every answer cited to its article.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

SeedsOpt = Annotated[
    Path | None,
    typer.Option(
        "--seeds", help="Folder of articles to index (default: settings seeds_dir, 'seeds').", show_default=False
    ),
]
IndexOpt = Annotated[
    Path | None,
    typer.Option("--index", help="Index folder (default: settings index_dir, 'data/index').", show_default=False),
]


def fail(message: str, code: int = 2) -> NoReturn:
    """One clear line on stderr and a non-zero exit; never a traceback."""
    err.print(f"[bold red]error:[/] {message}", markup=True)
    raise typer.Exit(code)


def settings_from(**overrides: Any) -> Settings:
    from newsbot.config.settings import explain, load_settings

    try:
        return load_settings(**overrides)
    except ValidationError as exc:
        fail(explain(exc))


def make_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    from newsbot.index.embedder import SentenceTransformerEmbedder

    try:
        return SentenceTransformerEmbedder(settings.model_name, settings.batch_size)
    except ValueError as exc:
        fail(str(exc))


def check_seeds(seeds: Path) -> None:
    if not seeds.is_dir():
        fail(f"seeds folder {str(seeds)!r} does not exist; create it and put articles in it, or pass --seeds DIR")


def run_build(
    settings: Settings, embedder: Embedder, *, full: bool = False, wait: float = 0.0, quiet: bool = False
) -> BuildReport:
    """Builds or updates the index, printing every problem file and the counts to stderr."""
    from newsbot.index import backends
    from newsbot.index.builder import IndexBuilder, NothingToIndex
    from newsbot.index.manifest import DatabaseProblem, IndexProblem

    check_seeds(Path(settings.seeds_dir))
    builder = IndexBuilder.from_settings(settings, embedder)
    builder.lock_timeout = wait
    if not quiet:
        err.print(f"indexing {settings.seeds_dir} into {backends.describe(settings)} ...")
    try:
        report = backends.build(builder, settings, full=full, show_progress_bar=not quiet)
    except NothingToIndex as exc:
        _print_problems(exc.report.failures, exc.report.skipped, [], exc.report.warnings)
        fail(f"{exc}. Add .txt, .md, .html or .jsonl articles there.")
    except DatabaseProblem as exc:  # bad configuration: the database named cannot serve
        fail(str(exc))
    except IndexProblem as exc:
        fail(str(exc), 1)
    _print_problems(report.failures, report.skipped, report.duplicates, report.warnings)
    if report.note:
        err.print(report.note)
    err.print(report.summary())
    from newsbot.index.onnx_embedder import export_beside_index

    problem = export_beside_index(embedder, settings.index_dir)  # lets `ask` start without torch
    if problem:
        err.print(f"warning: {problem}")
    return report


def _print_problems(
    failures: list[Failure], skipped: list[Failure], duplicates: list[Failure], warnings: list[Failure]
) -> None:
    for label, items in (("failed", failures), ("skipped", skipped), ("duplicate", duplicates), ("warning", warnings)):
        for item in items:
            err.print(f"{label}: {item}", markup=False)


def open_retriever(settings: Settings, *, quiet: bool = False) -> Retriever:
    """The retriever over the configured index, built from the seeds on first use."""
    from newsbot.index import backends
    from newsbot.index.manifest import DatabaseProblem, IndexProblem
    from newsbot.index.onnx_embedder import query_embedder
    from newsbot.retrieval.retriever import Retriever

    embedder = query_embedder(settings.index_dir, settings.model_name) or make_embedder(settings)
    try:
        if not backends.index_exists(settings):
            run_build(settings, embedder, quiet=quiet)
            # The build left the question export beside the index: the first answer is then embedded
            # as every later one (and the bot's) are, not with the model the passages were built with.
            embedder = query_embedder(settings.index_dir, settings.model_name) or embedder
        return Retriever.serve(backends.open_index(settings, model=embedder.name), embedder=embedder, settings=settings)
    except ValueError as exc:
        fail(str(exc))
    except DatabaseProblem as exc:  # bad configuration: the database named cannot serve
        fail(str(exc))
    except IndexProblem as exc:
        fail(str(exc), 1)


def read_questions(question: str | None) -> list[str]:
    if question is not None:
        if not question.strip():
            fail('the question is empty; ask something, e.g. newsbot ask "when does Scholz visit Kyiv?"')
        return [question]
    if sys.stdin is None or sys.stdin.isatty():
        fail("give a QUESTION, or pipe questions on stdin, one per line (see newsbot ask --help)")
    questions = [line.strip() for line in sys.stdin if line.strip()]
    if not questions:
        fail("no questions on stdin; send one question per line")
    return questions
