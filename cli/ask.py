"""`newsbot ask`: answer questions from the indexed articles, with numbered citations."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from newsbot.cli import common
from newsbot.cli.common import IndexOpt, SeedsOpt, app, out, read_questions, settings_from


@app.command()
def ask(
    question: Annotated[
        str | None,
        typer.Argument(
            help="The question. Without it, questions are read from stdin, one per line.", show_default=False
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per question (JSON Lines).")] = False,
    k: Annotated[
        int | None,
        typer.Option("--k", min=1, max=50, help="Passages to consider (default: settings top_k).", show_default=False),
    ] = None,
    mode: Annotated[
        str | None,
        typer.Option(
            "--mode", help="Search mode: dense, bm25 or hybrid (default: settings search_mode).", show_default=False
        ),
    ] = None,
    seeds: SeedsOpt = None,
    index_dir: IndexOpt = None,
) -> None:
    """Answer questions from the indexed articles, with numbered citations."""
    from newsbot.cli.terminal import render_answer

    questions = read_questions(question)
    settings = settings_from(seeds_dir=seeds, index_dir=index_dir, top_k=k, search_mode=mode)
    retriever = common.open_retriever(settings, quiet=as_json)
    for q in questions:
        result = retriever.answer(q)
        if as_json:
            sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            out.print(render_answer(result))
