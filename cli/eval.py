"""`newsbot eval DATASET_DIR`: retrieval and answer quality on a question set, mode by mode."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from newsbot.cli import common
from newsbot.cli.common import app, err, fail, out, settings_from

if TYPE_CHECKING:
    from newsbot.config.settings import Settings
    from newsbot.index.embedder import Embedder
    from newsbot.retrieval.evaluate import Dataset
    from newsbot.retrieval.records import Answer, Hit
    from newsbot.retrieval.retriever import Mode, Retriever

COLUMNS = [
    "R@1",
    "R@5",
    "R@10",
    "MRR@10",
    "nDCG@10",
    "hit@1",
    "hit@3",
    "hit@5",
    "short",
    "coverage",
    "wrong_bold",
    "declined",
    "ms_mean",
    "ms_p95",
]


def _open(dataset: Dataset, cache: Path, settings: Settings, embedder: Embedder, quiet: bool) -> Retriever:
    from newsbot.index import backends
    from newsbot.index.builder import IndexBuilder
    from newsbot.index.manifest import DatabaseProblem, IndexProblem
    from newsbot.index.onnx_embedder import export_beside_index, query_embedder
    from newsbot.retrieval.evaluate import cache_folder
    from newsbot.retrieval.retriever import Retriever

    folder = cache_folder(dataset, cache)
    builder = IndexBuilder.from_settings(settings, embedder)
    # The corpus is the cached copy of the set's articles; the index goes where the backend keeps it
    # (for postgres: database_url, which then holds this set only).
    local = settings.model_copy(update={"seeds_dir": folder / "seeds", "index_dir": folder / "index"})
    try:
        report = backends.build(builder, local, show_progress_bar=not quiet)
        if not quiet:
            err.print(f"{dataset.name}: {report.summary()} (cache {folder}, index {backends.describe(local)})")
        # Questions are embedded as `newsbot ask` and the bot embed them: with the ONNX export
        # (int8) beside the index, made here as `newsbot index` makes it.
        problem = export_beside_index(embedder, local.index_dir)
        if problem and not quiet:  # the figures would then be sentence-transformers', not the export's
            err.print(f"warning: {problem}")
        questions = query_embedder(local.index_dir, embedder.name) or embedder
        # No question cache: every answer is timed from the question's own embedding.
        source = backends.open_index(local, model=embedder.name)
        return Retriever.serve(source, embedder=questions, settings=local, max_citations=5, question_cache=0)
    except DatabaseProblem as exc:
        fail(str(exc))
    except IndexProblem as exc:
        fail(str(exc), 1)


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=quiet,
    )


@app.command("eval")
def eval_command(
    dataset_dir: Annotated[
        Path,
        typer.Argument(
            help="Question set folder with corpus.jsonl, queries.jsonl and qrels.tsv (e.g. corpora/eval/xquad_en).",
            show_default=False,
        ),
    ],
    mode: Annotated[
        str | None,
        typer.Option(
            "--mode",
            help="Search mode to score: dense, bm25 or hybrid (default: settings search_mode).",
            show_default=False,
        ),
    ] = None,
    compare: Annotated[
        bool, typer.Option("--compare", help="Score bm25, dense and hybrid side by side in one run.")
    ] = False,
    split: Annotated[
        str,
        typer.Option(
            "--split",
            help="Which half of the set to score: test (reported figures), dev (what thresholds and weights "
            "are fitted on) or all. Queries are split by a hash of their id.",
        ),
    ] = "test",
    fusion: Annotated[
        str | None,
        typer.Option(
            "--fusion",
            help="How hybrid search joins dense and BM25: score (scaled scores) or rrf (reciprocal ranks); "
            "default: settings fusion.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as one JSON object.")] = False,
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help="Score only N queries, spread evenly over the set.", show_default=False),
    ] = None,
    unanswerable: Annotated[
        Path | None,
        typer.Option(
            "--unanswerable",
            help="Another question set whose questions, asked against this corpus, must be declined; prints the decline trade-off.",
            show_default=False,
        ),
    ] = None,
    cache: Annotated[
        Path, typer.Option("--cache", help="Folder for the indexed corpora (reused while a corpus is unchanged).")
    ] = Path("data/eval-cache"),
    k: Annotated[
        int | None,
        typer.Option(
            "--k", min=1, max=50, help="Passages to answer from (default: settings top_k).", show_default=False
        ),
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(
            "--backend",
            help="Index backend to measure: faiss or postgres (into database_url, which then holds this set); "
            "default: settings backend.",
            show_default=False,
        ),
    ] = None,
    against: Annotated[
        Path | None,
        typer.Option(
            "--against",
            help="A saved `newsbot eval --json` run (e.g. of an earlier newsbot) to print beside this one, row by row.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Measure retrieval (R@k, MRR, nDCG), answers (hit@n, bold short answers), declining and latency on a question set."""
    from newsbot.retrieval.evaluate import SPLITS, DatasetError, load_dataset

    if compare and mode is not None:
        fail("use either --mode or --compare, not both")
    if split not in SPLITS:
        fail(f"--split must be one of {', '.join(SPLITS)}, got {split!r}")
    earlier = _earlier_run(against, split) if against else None
    settings = settings_from(top_k=k, search_mode=mode, fusion=fusion, backend=backend)
    modes: list[Mode] = ["bm25", "dense", "hybrid"] if compare else [settings.search_mode]
    try:
        dataset = load_dataset(dataset_dir).split(split).sample(limit)
        others = load_dataset(unanswerable).split(split).sample(limit) if unanswerable else None
    except DatasetError as exc:
        fail(str(exc))
    embedder = common.make_embedder(settings)  # looked up at call time: tests swap in a fake
    retriever = _open(dataset, cache, settings, embedder, as_json)
    result = _score(dataset, others, retriever, modes, as_json)
    composer = retriever.composer
    result |= {
        "split": split,
        "fusion": settings.fusion,
        "backend": settings.backend + (f" ({settings.pg_lexical})" if settings.backend == "postgres" else ""),
        "min_confidence": composer.min_confidence,
        "bold_confidence": composer.bold_confidence,
    }
    retriever.close()
    if earlier is not None:
        result["against"] = earlier
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    _print(result)


def _score(
    dataset: Dataset, others: Dataset | None, retriever: Retriever, modes: list[Mode], quiet: bool
) -> dict[str, Any]:
    """Every mode on the answerable questions; the primary mode on the ones to decline."""
    from newsbot.retrieval.evaluate import Query, run, tradeoffs

    def answer_fn(question: str, m: str) -> tuple[Answer, list[Hit]]:
        return retriever.answer_ranked(question, mode=cast("Mode", m), max_citations=5)  # m: one of `modes`

    with _progress(quiet) as bar:
        task = bar.add_task(f"{dataset.name} ({', '.join(modes)})", total=len(dataset.queries))
        scores = run(dataset, answer_fn, modes, lambda n: bar.advance(task, n))
    result: dict[str, Any] = {
        "dataset": dataset.name,
        "queries": len(dataset.queries),
        "modes": {m: s.summary() for m, s in scores.items()},
    }
    primary = modes[-1]
    groups: list[tuple[str, tuple[Query, ...]]] = []
    if dataset.unanswerable:
        groups.append(("in-domain", dataset.unanswerable))
    if others is not None:
        groups.append((others.name, others.queries))
    for label, queries in groups:
        with _progress(quiet) as bar:
            task = bar.add_task(f"unanswerable: {label} against {dataset.name}", total=len(queries))
            against = run(
                replace(dataset, queries=queries),
                lambda q, _m: answer_fn(q, primary),
                [primary],
                partial(bar.advance, task),
            )
        unans = against[primary]
        result.setdefault("unanswerable", []).append(
            {
                "set": label,
                "mode": primary,
                "queries": unans.count,
                "declined": round(unans.declined / max(unans.count, 1), 4),
                "tradeoff": [
                    {
                        "threshold": t.threshold,
                        "answerable_declined": round(t.answerable_declined, 4),
                        "unanswerable_declined": round(t.unanswerable_declined, 4),
                    }
                    for t in tradeoffs(scores[primary].confidences, unans.confidences)
                ],
            }
        )
    return result


def _earlier_run(path: Path, split: str) -> dict:
    """A saved run to compare with; it must have scored the same split."""
    try:
        earlier = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        fail(f"cannot read --against {str(path)!r}: {exc}; give a file written by newsbot eval --json")
    if not isinstance(earlier, dict) or "modes" not in earlier:
        fail(f"--against {str(path)!r} is not a newsbot eval --json result (it has no 'modes')")
    if earlier.get("split", "all") != split:
        fail(f"--against {str(path)!r} scored the {earlier.get('split')!r} split, this run scores {split!r}")
    earlier.setdefault("label", path.stem)
    return earlier


def _print(result: dict) -> None:
    table = Table(
        title=f"{result['dataset']} ({result['split']} split): {result['queries']} queries "
        f"(fusion {result['fusion']}, min_confidence {result['min_confidence']})"
    )
    table.add_column("mode")
    for c in COLUMNS:
        table.add_column(c, justify="right")
    rows = list(result["modes"].items())
    if "against" in result:
        rows = [(f"{m} ({result['against']['label']})", s) for m, s in result["against"]["modes"].items()] + rows
    for m, s in rows:
        table.add_row(m, *[_cell(c, s) for c in COLUMNS])
    # Piped to a file the console is 80 columns wide; the table must not be cut to fit.
    Console(width=max(out.width, 160), highlight=False, soft_wrap=True).print(table)
    earlier = result.get("against", {})
    for unans in earlier.get("unanswerable", []):
        out.print(
            f"{earlier['label']}: unanswerable ({unans['set']} questions, {unans['mode']}): "
            f"{unans['declined']:.1%} declined"
        )
    for unans in result.get("unanswerable", []):
        out.print(f"unanswerable ({unans['set']} questions, {unans['mode']}): {unans['declined']:.1%} declined")
        trade = Table(title="decline trade-off by min_confidence")
        for c in ("threshold", "answerable declined", "unanswerable declined"):
            trade.add_column(c, justify="right")
        for t in unans["tradeoff"]:
            trade.add_row(
                f"{t['threshold']:.3f}", f"{t['answerable_declined']:.1%}", f"{t['unanswerable_declined']:.1%}"
            )
        out.print(trade)


def _cell(column: str, scores: dict) -> str:
    if column not in scores:
        return "-"  # a run of an older newsbot that did not measure it
    return f"{scores[column]:.0f}" if column.startswith("ms") else f"{scores[column]:.3f}"
