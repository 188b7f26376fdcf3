"""An Answer as the terminal shows it: the answer, then numbered, dated, sourced citations."""

from __future__ import annotations

from rich.text import Text

from retrieval.records import Answer, Citation


def citation_line(c: Citation) -> str:
    parts = [c.title, c.source or "unknown source", c.date.isoformat() if c.date else "undated",
             f"paragraph {c.paragraph}"]
    return " — ".join(parts)


def render_answer(answer: Answer) -> Text:
    text = Text()
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
        text.append(f"“{c.excerpt}”\n")
        text.append(f"    {citation_line(c)}\n", style="dim")
        text.append(f"    {c.url or c.path}\n", style="dim")
        if c.also_in:
            text.append(f"    also in: {', '.join(c.also_in)}\n", style="dim")
    return text
