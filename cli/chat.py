"""`newsbot chat`: a terminal conversation; follow-ups are resolved against the earlier turns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from newsbot.cli import common
from newsbot.cli.common import IndexOpt, SeedsOpt, app, out, settings_from

if TYPE_CHECKING:
    from newsbot.retrieval.records import Answer

HELP = (
    "Ask about the indexed articles. Follow-ups ('and when?', 'what about Germany?') use the last turn. "
    "/new starts over, /quit (or Ctrl-D) leaves."
)


@app.command()
def chat(
    mode: Annotated[
        str | None,
        typer.Option(
            "--mode", help="Search mode: dense, bm25 or hybrid (default: settings search_mode).", show_default=False
        ),
    ] = None,
    k: Annotated[
        int | None,
        typer.Option("--k", min=1, max=50, help="Passages to consider (default: settings top_k).", show_default=False),
    ] = None,
    seeds: SeedsOpt = None,
    index_dir: IndexOpt = None,
) -> None:
    """Chat with the articles in the terminal: each answer cited, follow-up questions understood."""
    from newsbot.cli.terminal import render_answer

    settings = settings_from(seeds_dir=seeds, index_dir=index_dir, top_k=k, search_mode=mode)
    retriever = common.open_retriever(settings)
    out.print(f"newsbot: {retriever.article_count} articles. {HELP}")
    history: list[Answer] = []
    while True:
        try:
            question = out.input("[bold green]you>[/] ").strip()
        except (EOFError, KeyboardInterrupt):
            out.print()
            break
        if not question:
            continue
        if question in ("/quit", "/exit", "/q"):
            break
        if question in ("/new", "/reset"):
            history.clear()
            out.print("(starting over)")
            continue
        if len(question) > settings.max_question_chars:
            out.print(f"(that is {len(question)} characters; keep questions under {settings.max_question_chars})")
            continue
        answer = retriever.answer(question, history=history)
        out.print(render_answer(answer))
        history = ([*history, answer])[-max(settings.history_turns, 1) :]
    retriever.close()
