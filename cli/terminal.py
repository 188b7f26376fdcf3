"""An Answer as the terminal shows it: the answer, then numbered, dated, sourced citations."""

from __future__ import annotations

from rich.text import Text

from newsbot.retrieval.records import AlsoIn, Answer, Citation


def citation_line(c: Citation) -> str:
    parts = [
        c.title,
        c.source or "unknown source",
        c.date.isoformat() if c.date else "undated",
        f"paragraph {c.paragraph}",
    ]
    return " — ".join(parts)


def also_in_line(other: AlsoIn) -> str:
    """Another article with the same statement: title (source, date), then where to find it."""
    meta = ", ".join(part for part in (other.source, other.date.isoformat() if other.date else None) if part)
    return f"{other.title}{f' ({meta})' if meta else ''}, {other.url or other.path}"


def excerpt_text(answer: Answer, c: Citation) -> Text:
    """The excerpt in quotes, with the short answer in bold when it lies inside this excerpt."""
    text = Text("“")
    start, end = answer.answer_start, answer.answer_end
    if (
        answer.answer_citation == c.n
        and start is not None
        and end is not None
        and c.start <= start < end <= c.end
        and (start, end) != (c.start, c.end)
    ):
        text.append(c.excerpt[: start - c.start])
        text.append(c.excerpt[start - c.start : end - c.start], style="bold")
        text.append(c.excerpt[end - c.start :])
    else:
        text.append(c.excerpt)
    text.append("”\n")
    return text


def render_answer(answer: Answer) -> Text:
    text = Text()
    if answer.resolved_question:
        text.append(f"(understood as: {answer.resolved_question})\n", style="dim")
    if answer.date_filter:
        text.append(f"(articles dated {answer.date_filter})\n", style="dim")
    if answer.date_preferred:
        text.append(f"(articles dated {answer.date_preferred} first)\n", style="dim")
    if answer.answer is None:
        text.append("The articles don't say.", style="bold yellow")
        if answer.citations:
            text.append(" The nearest passages:")
    else:
        text.append("Answer: ", style="bold")
        text.append(answer.answer)
        if answer.as_of:
            text.append(f" (as of {answer.as_of.isoformat()})", style="dim")
    text.append("\n")
    for c in answer.citations:
        text.append(f"\n[{c.n}] ", style="bold cyan")
        text.append(excerpt_text(answer, c))
        text.append(f"    {citation_line(c)}\n", style="dim")
        text.append(f"    {c.url or c.path}\n", style="dim")
        for other in c.also_in:
            text.append(f"    also in: {also_in_line(other)}\n", style="dim")
    return text
