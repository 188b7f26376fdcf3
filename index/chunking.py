"""Sentence-aware chunking that respects paragraphs and never exceeds the model's window."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sentencex import segment

from newsbot.index.records import Article, Chunk

TokenCounter = Callable[[str], int]
# Shorter sentences ("He agreed.") say too little alone: the next one joins the excerpt.
MIN_EXCERPT_CHARS = 60


@dataclass(frozen=True, slots=True)
class Span:
    """A sentence (or a piece of an over-long one) by character offsets into the article text."""

    start: int
    end: int
    paragraph: int


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Offsets of the sentences in text[start:end], white space trimmed from each."""
    end = len(text) if end is None else end
    spans, pos = [], start
    for sentence in segment("en", text[start:end]):
        s_start, s_end = pos, pos + len(sentence)
        pos = s_end
        stripped = sentence.strip()
        if stripped:
            lead = len(sentence) - len(sentence.lstrip())
            spans.append((s_start + lead, s_start + lead + len(stripped)))
    return spans


def excerpt_spans(text: str) -> list[tuple[int, int]]:
    """The excerpt candidates of a chunk: its sentences, a too-short one joined with the next
    unless a paragraph break parts them (offsets into ``text``)."""
    spans = sentence_spans(text)
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(spans):
        s, e = spans[i]
        if e - s < MIN_EXCERPT_CHARS and i + 1 < len(spans) and "\n\n" not in text[e : spans[i + 1][0]]:
            e = spans[i + 1][1]
            i += 1
        out.append((s, e))
        i += 1
    return out


class Chunker:
    """Packs whole sentences into chunks of at most ``max_tokens`` word pieces.

    Chunks stay inside one paragraph where they can and grow across short paragraphs, so a
    one-sentence paragraph is not a passage on its own. Neighbouring chunks share
    ``overlap`` sentences. A sentence longer than the window is cut at word boundaries, so no
    chunk is ever silently truncated by the model.
    """

    def __init__(self, count_tokens: TokenCounter, max_tokens: int = 128, overlap: int = 1, window: int = 254) -> None:
        if max_tokens < 8:
            raise ValueError(f"max_tokens must be at least 8, got {max_tokens}")
        if max_tokens > window:
            raise ValueError(f"max_tokens {max_tokens} exceeds the model window of {window} word pieces")
        if overlap < 0:
            raise ValueError(f"overlap must be 0 or more sentences, got {overlap}")
        self.count_tokens = count_tokens
        self.max_tokens = max_tokens
        self.overlap = overlap
        self.window = window

    def embedded_title(self, title: str) -> str:
        """The title as embedded with each chunk: cut at a word to a quarter of the window, so a
        very long title cannot crowd out the chunk's own text."""
        limit = self.window // 4
        if self.count_tokens(title) <= limit:
            return title
        words = title.split()
        lo, hi = 0, len(words)
        while lo < hi:  # the most words that fit
            mid = (lo + hi + 1) // 2
            if self.count_tokens(" ".join(words[:mid])) <= limit:
                lo = mid
            else:
                hi = mid - 1
        return " ".join(words[:lo])

    def split(self, article: Article, first_id: int = 0) -> list[Chunk]:
        text = article.text
        # The title is embedded with each chunk, so it uses part of the window: all of its cost
        # counts, or a long title would push the chunk's tail past what the model reads.
        title_cost = self.count_tokens(self.embedded_title(article.title)) + 1
        budget = max(8, min(self.max_tokens, self.window - title_cost))
        units = self._units(text, article.paragraph_spans(), budget)
        costs = [self.count_tokens(text[u.start : u.end]) for u in units]
        chunks: list[Chunk] = []
        i = 0
        while i < len(units):
            j, used = i, 0
            while j < len(units) and (j == i or used + costs[j] <= budget):
                used += costs[j]
                j += 1
            first, last = units[i], units[j - 1]
            chunks.append(
                Chunk(
                    id=first_id + len(chunks),
                    article_id=article.id,
                    ordinal=len(chunks),
                    text=text[first.start : last.end],
                    start=first.start,
                    end=last.end,
                    paragraph=first.paragraph,
                    paragraph_end=last.paragraph,
                )
            )
            if j >= len(units):
                break
            # Step back for overlap, but always move forward by at least one unit.
            i = max(i + 1, j - self.overlap)
        return chunks

    def _units(self, text: str, paragraphs: list[tuple[int, int]], budget: int) -> list[Span]:
        units: list[Span] = []
        for number, (p_start, p_end) in enumerate(paragraphs, 1):
            for s_start, s_end in sentence_spans(text, p_start, p_end):
                if self.count_tokens(text[s_start:s_end]) <= budget:
                    units.append(Span(s_start, s_end, number))
                else:
                    units.extend(self._cut(text, s_start, s_end, number, budget))
        return units

    def _cut(self, text: str, start: int, end: int, paragraph: int, budget: int) -> list[Span]:
        """Cuts an over-long sentence at spaces into pieces that fit."""
        pieces, pos = [], start
        while pos < end:
            lo, hi, best = pos + 1, end, pos + 1
            while lo <= hi:  # the longest prefix that fits
                mid = (lo + hi) // 2
                if self.count_tokens(text[pos:mid]) <= budget:
                    best, lo = mid, mid + 1
                else:
                    hi = mid - 1
            cut = best if best >= end else (text.rfind(" ", pos, best) if " " in text[pos:best] else best)
            cut = max(cut, pos + 1)
            pieces.append(Span(pos, cut, paragraph))
            pos = cut
            while pos < end and text[pos].isspace():
                pos += 1
        return pieces
