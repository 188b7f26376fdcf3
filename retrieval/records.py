"""Typed results: a Hit from search, and an Answer with its Citations (each with its AlsoIn)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from newsbot.index.records import ArticleInfo, Chunk


@dataclass(frozen=True, slots=True)
class Hit:
    """A passage that search found, with the article it belongs to."""

    chunk: Chunk
    article: ArticleInfo
    score: float
    rank: int
    # Other articles holding a near-identical passage, collapsed into this hit.
    also_in: tuple[ArticleInfo, ...] = ()


class AlsoIn(BaseModel):
    """Another article carrying the same statement as a citation: enough to name and link it."""

    model_config = ConfigDict(frozen=True)

    title: str
    source: str | None
    date: date | None
    url: str | None
    path: str

    @classmethod
    def of(cls, article: ArticleInfo) -> AlsoIn:
        return cls(title=article.title, source=article.source, date=article.date, url=article.url, path=article.path)


class Citation(BaseModel):
    """Where an excerpt comes from: ``excerpt == article text[start:end]``."""

    model_config = ConfigDict(frozen=True)

    n: int
    title: str
    source: str | None
    date: date | None
    url: str | None
    path: str
    paragraph: int
    excerpt: str
    score: float
    start: int
    end: int
    article_id: str
    chunk_id: int
    also_in: tuple[AlsoIn, ...] = ()

    @classmethod
    def of(cls, n: int, hit: Hit, start: int, end: int, score: float) -> Citation:
        """Citation ``n``: the text ``start:end`` of the hit's article, which its chunk holds."""
        a, c = hit.article, hit.chunk
        if not c.start <= start <= end <= c.start + len(c.text):
            raise ValueError(f"excerpt {start}:{end} is outside chunk {c.id} ({c.start}:{c.start + len(c.text)})")
        return cls(
            n=n,
            title=a.title,
            source=a.source,
            date=a.date,
            url=a.url,
            path=a.path,
            paragraph=c.paragraph + c.text[: start - c.start].count("\n\n"),
            excerpt=c.text[start - c.start : end - c.start],
            score=round(score, 4),
            start=start,
            end=end,
            article_id=a.id,
            chunk_id=c.id,
            also_in=tuple(AlsoIn.of(x) for x in hit.also_in),
        )


class Mention(BaseModel):
    """A name in the cited excerpts and what kind of thing it is (a spaCy entity label)."""

    model_config = ConfigDict(frozen=True)

    text: str
    label: str


class Answer(BaseModel):
    """The reply to one question. ``answer`` is None when newsbot declines."""

    question: str
    answer: str | None
    confident: bool
    citations: list[Citation]
    answer_start: int | None = None
    answer_end: int | None = None
    answer_citation: int | None = None
    as_of: date | None = None
    resolved_question: str | None = None
    # What the question asked for (date, number, person, place, other) and the overall confidence
    # that was compared with ``min_confidence``. Offsets answer_start/answer_end are into the
    # article of citation ``answer_citation``, in the same frame as Citation.start/end.
    answer_type: str | None = None
    confidence: float = 0.0
    # The date words and window: only articles of those dates searched (``date_filter``), or
    # every article searched with those of the window put first (``date_preferred``).
    date_filter: str | None = None
    date_preferred: str | None = None
    # Names of the cited excerpts with their kind, so a follow-up's "he" or "it" finds its referent.
    mentions: list[Mention] = Field(default_factory=list)

    @property
    def short_answer(self) -> str | None:
        """The bold part: a span shorter than its excerpt, or None when the excerpt is the answer."""
        if self.answer is None or self.answer_citation is None or self.answer_start is None:
            return None
        cited = self.citations[self.answer_citation - 1]
        if (self.answer_start, self.answer_end) == (cited.start, cited.end):
            return None
        return self.answer

    def to_json(self) -> dict[str, Any]:
        """The stable shape `newsbot ask --json` prints and scripts rely on."""
        return self.model_dump(mode="json")
