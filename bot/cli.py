"""The `newsbot` command: index, ask (and the commands other modules register on ``app``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer
from pydantic import ValidationError
from rich.console import Console

app = typer.Typer(
    name="newsbot",
    help="Question answering over news articles, every answer cited to its article.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

SeedsOpt = Annotated[Optional[Path], typer.Option("--seeds", help="Folder of articles to index (default: settings seeds_dir, 'seeds').", show_default=False)]
IndexOpt = Annotated[Optional[Path], typer.Option("--index", help="Index folder (default: settings index_dir, 'data/index').", show_default=False)]


def fail(message: str, code: int = 2) -> NoReturn:
    """One clear line on stderr and a non-zero exit; never a traceback."""
    err.print(f"[bold red]error:[/] {message}", markup=True)
    raise typer.Exit(code)


def settings_from(**overrides):  # noqa: ANN003, ANN201 - returns config.settings.Settings
    from config.settings import load_settings

    try:
        return load_settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        fail(f"invalid settings ({problems}); fix config/newsbot.toml, NEWSBOT_* variables or the flag")


def make_embedder(settings):  # noqa: ANN001, ANN201 - tests replace this with a fake
    from index.embedder import SentenceTransformerEmbedder

    try:
        return SentenceTransformerEmbedder(settings.model_name, settings.batch_size)
    except ValueError as exc:
        fail(str(exc))


def check_seeds(seeds: Path) -> None:
    if not seeds.is_dir():
        fail(f"seeds folder {str(seeds)!r} does not exist; create it and put articles in it, or pass --seeds DIR")


def run_build(settings, embedder, *, full: bool = False, wait: float = 0.0, quiet: bool = False):  # noqa: ANN001, ANN201
    """Builds or updates the index, printing every problem file and the counts to stderr."""
    from index.builder import IndexBuilder, NothingToIndex
    from index.manifest import IndexProblem

    check_seeds(Path(settings.seeds_dir))
    builder = IndexBuilder.from_settings(settings, embedder)
    builder.lock_timeout = wait
    if not quiet:
        err.print(f"indexing {settings.seeds_dir} into {settings.index_dir} ...")
    try:
        report = builder.build(settings.seeds_dir, settings.index_dir, full=full, show_progress_bar=not quiet)
    except NothingToIndex as exc:
        _print_problems(exc.report.failures, exc.report.skipped, [], exc.report.warnings)
        fail(f"{exc}. Add .txt, .md, .html or .jsonl articles there.")
    except IndexProblem as exc:
        fail(str(exc), 1)
    _print_problems(report.failures, report.skipped, report.duplicates, report.warnings)
    if report.note:
        err.print(report.note)
    err.print(report.summary())
    from index.onnx_embedder import export_beside_index

    problem = export_beside_index(embedder, settings.index_dir)  # lets `ask` start without torch
    if problem:
        err.print(f"warning: {problem}")
    return report


def _print_problems(failures, skipped, duplicates, warnings) -> None:  # noqa: ANN001
    for label, items in (("failed", failures), ("skipped", skipped), ("duplicate", duplicates),
                         ("warning", warnings)):
        for item in items:
            err.print(f"{label}: {item}", markup=False)


@app.command()
def index(
    seeds: SeedsOpt = None,
    index_dir: IndexOpt = None,
    full: Annotated[bool, typer.Option("--full", help="Rebuild everything instead of only what changed.")] = False,
    wait: Annotated[float, typer.Option("--wait", min=0, help="Seconds to wait for another running build before giving up.")] = 0.0,
) -> None:
    """Build or update the index from the seeds folder (only new or changed articles are embedded)."""
    settings = settings_from(seeds_dir=seeds, index_dir=index_dir)
    report = run_build(settings, make_embedder(settings), full=full, wait=wait)
    if report.failed:
        raise typer.Exit(1)


def open_retriever(settings, *, quiet: bool = False):  # noqa: ANN001, ANN201
    """The retriever over the configured index, built from the seeds on first use."""
    from index.folder import current_generation
    from index.manifest import IndexProblem
    from retrieval.retriever import Retriever

    from index.onnx_embedder import query_embedder

    embedder = query_embedder(settings.index_dir, settings.model_name) or make_embedder(settings)
    try:
        if current_generation(Path(settings.index_dir)) is None:
            run_build(settings, embedder, quiet=quiet)
        return Retriever.open(settings.index_dir, embedder=embedder, settings=settings)
    except ValueError as exc:
        fail(str(exc))
    except IndexProblem as exc:
        fail(str(exc), 1)


def read_questions(question: str | None) -> list[str]:
    if question is not None:
        if not question.strip():
            fail("the question is empty; ask something, e.g. newsbot ask \"when does Scholz visit Kyiv?\"")
        return [question]
    if sys.stdin is None or sys.stdin.isatty():
        fail("give a QUESTION, or pipe questions on stdin, one per line (see newsbot ask --help)")
    questions = [line.strip() for line in sys.stdin if line.strip()]
    if not questions:
        fail("no questions on stdin; send one question per line")
    return questions


@app.command()
def ask(
    question: Annotated[Optional[str], typer.Argument(help="The question. Without it, questions are read from stdin, one per line.", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per question (JSON Lines).")] = False,
    k: Annotated[Optional[int], typer.Option("--k", min=1, max=50, help="Passages to consider (default: settings top_k).", show_default=False)] = None,
    mode: Annotated[Optional[str], typer.Option("--mode", help="Search mode: dense, bm25 or hybrid (default: settings search_mode).", show_default=False)] = None,
    seeds: SeedsOpt = None,
    index_dir: IndexOpt = None,
) -> None:
    """Answer questions from the indexed articles, with numbered citations."""
    from bot.terminal import render_answer

    questions = read_questions(question)
    settings = settings_from(seeds_dir=seeds, index_dir=index_dir, top_k=k, search_mode=mode)
    retriever = open_retriever(settings, quiet=as_json)
    for q in questions:
        result = retriever.answer(q)
        if as_json:
            sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            out.print(render_answer(result))


def main() -> None:
    """Console entry point."""
    app()


# Commands that live in their own modules register themselves on `app` when imported.
# One import line per module, kept in this block.
from bot import cli_serve  # noqa: E402,F401
from bot import cli_eval  # noqa: E402,F401
from bot import cli_chat  # noqa: E402,F401
from bot import cli_bench  # noqa: E402,F401
