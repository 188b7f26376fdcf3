"""Answers as Telegram HTML: every piece of article text escaped, messages split at Telegram's limit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from html import escape

from newsbot.retrieval.records import AlsoIn, Answer, Citation

MAX_MESSAGE = 4096  # Telegram's limit, in UTF-16 code units
# The tags this module emits; all are in Telegram's HTML subset.
TELEGRAM_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)

_TAG = re.compile(r"<(/?)([a-zA-Z-]+)[^>]*>")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: characters beyond the BMP take two UTF-16 code units."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def format_date(value: date | None) -> str | None:
    return f"{value.day} {value:%b %Y}" if value else None


def _link(article: Citation | AlsoIn) -> str:
    title = escape(article.title or article.path)
    if article.url and article.url.startswith(("http://", "https://")):
        return f'<a href="{escape(article.url, quote=True)}">{title}</a>'
    return f"<b>{title}</b>"


def _also_in(other: AlsoIn) -> str:
    """Another article with the same statement: its linked title, then its source and date."""
    meta = [escape(part) for part in (other.source, format_date(other.date)) if part]
    return _link(other) + (f" ({', '.join(meta)})" if meta else "")


@dataclass(frozen=True, slots=True)
class Span:
    """The answer span, as offsets into one citation's excerpt."""

    citation: int
    start: int
    end: int


def answer_span(answer: Answer) -> Span | None:
    """Where the short answer sits in its citation's excerpt; None when unset or inconsistent."""
    if answer.answer_start is None or answer.answer_end is None:
        return None
    n = answer.answer_citation or 1
    citation = next((c for c in answer.citations if c.n == n), None)
    if citation is None:
        return None
    start, end = answer.answer_start - citation.start, answer.answer_end - citation.start
    if not 0 <= start < end <= len(citation.excerpt):
        return None
    return Span(n, start, end)


def _bold(text: str, start: int, end: int) -> str:
    return f"{escape(text[:start])}<b>{escape(text[start:end])}</b>{escape(text[end:])}"


def _short_answer(answer: Answer, span: Span | None) -> str:
    text = answer.answer or ""
    if span is not None:
        excerpt = next(c.excerpt for c in answer.citations if c.n == span.citation)
        phrase = excerpt[span.start : span.end]
        at = text.find(phrase)
        if at >= 0:
            return _bold(text, at, at + len(phrase))
        return f"<b>{escape(phrase)}</b> — {escape(text)}"
    return escape(text)


def _citation(citation: Citation, span: Span | None, *, full: bool) -> str:
    meta = [escape(part) for part in (citation.source, format_date(citation.date)) if part]
    head = f"[{citation.n}] {_link(citation)}" + (f" — {', '.join(meta)}" if meta else "")
    if span is not None and span.citation == citation.n:
        excerpt = _bold(citation.excerpt, span.start, span.end)
    else:
        excerpt = escape(citation.excerpt)
    lines = [head, f"<blockquote>{excerpt}</blockquote>"]
    if full:
        where = f"{escape(citation.path)}, paragraph {citation.paragraph}, score {citation.score:.2f}"
        if citation.also_in:
            where += "; also in " + ", ".join(_also_in(other) for other in citation.also_in)
        lines.append(f"<i>{where}</i>")
    return "\n".join(lines)


def render_answer(answer: Answer, *, full: bool = False) -> str:
    """The whole reply: short answer (span in bold) or a plain decline, then numbered citations."""
    span = answer_span(answer)
    parts = []
    if answer.resolved_question and answer.resolved_question.strip() != answer.question.strip():
        parts.append(f"<i>Reading this as: {escape(answer.resolved_question)}</i>")
    if answer.answer is not None:
        parts.append(_short_answer(answer, span))
        if answer.citations and full:
            parts.append("<b>Sources</b>")
    elif answer.citations:
        parts.append("I could not find the answer in the articles. The nearest ones:")
    else:
        parts.append("I could not find the answer in the articles, and none of them come close.")
    parts.extend(_citation(c, span, full=full) for c in answer.citations)
    return "\n\n".join(parts)


def render_sources(answer: Answer) -> str:
    """The full citations of an answer (for /sources and the Sources button)."""
    if not answer.citations:
        return f"No sources for “{escape(answer.question)}”."
    header = f"Sources for “{escape(answer.question)}”:"
    return "\n\n".join([header] + [_citation(c, answer_span(answer), full=True) for c in answer.citations])


def render_passages(question: str, passages: list[Citation]) -> str:
    """More passages for a question, beyond the ones already cited."""
    if not passages:
        return f"No more passages for “{escape(question)}”."
    return "\n\n".join([f"More on “{escape(question)}”:"] + [_citation(c, None, full=False) for c in passages])


def render_alert(topic: str, citation: Citation) -> str:
    """A new article on a followed topic: the topic, then its best excerpt cited as answers cite."""
    return f"New on your topic “{escape(topic)}”:\n\n{_citation(citation, None, full=False)}"


# --- Splitting -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Atom:
    """An unsplittable piece of HTML: one tag, one entity, or one character."""

    text: str
    tag: str | None = None  # tag name for tags
    closing: bool = False


def _atoms(html: str) -> list[_Atom]:
    atoms, pos = [], 0
    while pos < len(html):
        if html[pos] == "<":
            m = _TAG.match(html, pos)
            if m is None:
                raise ValueError(f"unescaped '<' at offset {pos} in message HTML")
            atoms.append(_Atom(m.group(0), m.group(2).lower(), bool(m.group(1))))
            pos = m.end()
        elif html[pos] == "&" and (m := _ENTITY.match(html, pos)):
            atoms.append(_Atom(m.group(0)))
            pos = m.end()
        else:
            atoms.append(_Atom(html[pos]))
            pos += 1
    return atoms


def _closers(stack: list[_Atom]) -> str:
    return "".join(f"</{a.tag}>" for a in reversed(stack))


def split_html(html: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Splits HTML into messages of at most ``limit`` UTF-16 units, each with balanced tags.

    Cuts prefer a paragraph break, then a sentence end, then a space; tags open at a cut are
    closed before it and reopened after it; entities and characters are never cut.
    """
    if utf16_len(html) <= limit:
        return [html] if html.strip() else []
    atoms = _atoms(html)
    # stacks[i]: the tags open before atom i.
    stacks: list[list[_Atom]] = [[]]
    for atom in atoms:
        stack = list(stacks[-1])
        if atom.tag is not None:
            if atom.closing:
                if stack and stack[-1].tag == atom.tag:
                    stack.pop()
            else:
                stack.append(atom)
        stacks.append(stack)
    sizes = [utf16_len(a.text) for a in atoms]
    pieces, i = [], 0
    while i < len(atoms):
        while i < len(atoms) and atoms[i].tag is None and atoms[i].text.isspace():
            i += 1
        if i >= len(atoms):
            break
        opener = "".join(a.text for a in stacks[i])
        budget, size, best = limit - utf16_len(opener), 0, {}
        j = i
        while j < len(atoms) and size + sizes[j] + utf16_len(_closers(stacks[j + 1])) <= budget:
            size += sizes[j]
            j += 1
            kind = _cut_kind(atoms, j)
            if kind is not None:
                best[kind] = j
        if j >= len(atoms):
            cut = j
        else:
            chosen = _choose(best, i + (j - i) // 2)
            if chosen is None:
                raise ValueError(f"cannot fit any text into a {limit}-unit message")
            cut = chosen
        body = opener + "".join(a.text for a in atoms[i:cut]) + _closers(stacks[cut])
        if _visible(body):
            pieces.append(body.rstrip())
        i = cut
    return pieces


def _choose(best: dict[int, int], halfway: int) -> int | None:
    """The best kind of cut that still fills at least half the message, else any cut at all."""
    for kind in (0, 1, 2, 3):
        if best.get(kind, -1) >= halfway:
            return best[kind]
    return max(best.values(), default=None)


def _cut_kind(atoms: list[_Atom], j: int) -> int | None:
    """How good a cut before atom ``j`` is: 0 paragraph, 1 sentence, 2 space, 3 anywhere; None: never."""
    if j >= len(atoms):
        return 0
    prev, nxt = atoms[j - 1], atoms[j]
    if prev.tag is not None and not prev.closing:
        return None  # never leave an opening tag dangling at the end of a piece
    if prev.text == "\n" and j >= 2 and atoms[j - 2].text == "\n":
        return 0
    if nxt.text.isspace() and nxt.tag is None:
        tail = "".join(a.text for a in atoms[max(0, j - 4) : j] if a.tag is None)
        return 1 if _SENTENCE_END.search(tail) else 2
    return 3


def _visible(body: str) -> bool:
    return bool(_TAG.sub("", body).strip())
