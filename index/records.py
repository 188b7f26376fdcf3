"""Typed records that cross module boundaries: what an article and a chunk are."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from newsbot.index.entities import Entity

_SPACE = re.compile(r"\s+")
PARAGRAPH_BREAK = "\n\n"


def normalize_text(text: str) -> str:
    """The form used to recognise exact duplicates: case and white space do not matter."""
    return _SPACE.sub(" ", text).strip().lower()


def content_hash(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ArticleInfo:
    """An article's metadata, as a citation shows it."""

    id: str
    title: str
    path: str
    date: date | None = None
    source: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """One article: paragraphs joined by a blank line, so character offsets are stable."""

    title: str
    text: str
    path: str
    date: date | None = None
    source: str | None = None
    url: str | None = None
    hash: str = field(init=False)
    id: str = field(init=False)

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError(f"article {self.path!r} has no text")
        digest = content_hash(self.title, self.text)
        object.__setattr__(self, "hash", digest)
        # Stable across runs: the same file with the same content always gets the same id.
        ident = hashlib.sha256(f"{self.path}\0{digest}".encode()).hexdigest()[:16]
        object.__setattr__(self, "id", ident)

    @classmethod
    def from_paragraphs(cls, title: str, paragraphs: list[str], **meta: object) -> Article:
        clean = [p.strip() for p in paragraphs if p.strip()]
        return cls(title=title.strip(), text=PARAGRAPH_BREAK.join(clean), **meta)  # type: ignore[arg-type]

    def paragraph_spans(self) -> list[tuple[int, int]]:
        """(start, end) character offsets of each paragraph in ``text``."""
        spans, start = [], 0
        for part in self.text.split(PARAGRAPH_BREAK):
            spans.append((start, start + len(part)))
            start += len(part) + len(PARAGRAPH_BREAK)
        return spans

    @property
    def info(self) -> ArticleInfo:
        return ArticleInfo(self.id, self.title, self.path, self.date, self.source, self.url)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage of an article: ``text == article.text[start:end]``; paragraphs are 1-based."""

    id: int
    article_id: str
    ordinal: int
    text: str
    start: int
    end: int
    paragraph: int
    paragraph_end: int

    def __post_init__(self) -> None:
        if self.end - self.start != len(self.text):
            raise ValueError(
                f"chunk {self.id}: offsets {self.start}..{self.end} do not match its {len(self.text)} characters"
            )


@dataclass(frozen=True, slots=True, eq=False)
class ChunkSentences:
    """A chunk's excerpt candidates: sentences by offsets into the chunk's text, a unit vector each."""

    chunk_id: int
    spans: tuple[tuple[int, int], ...]
    vectors: np.ndarray  # (len(spans), dimension) float32
    # Named entities of the chunk, by offsets into its text; None when it was indexed without them.
    entities: tuple[Entity, ...] | None = None

    def __post_init__(self) -> None:
        if len(self.spans) != len(self.vectors):
            raise ValueError(f"chunk {self.chunk_id}: {len(self.spans)} sentences but {len(self.vectors)} vectors")


@dataclass(frozen=True, slots=True)
class Failure:
    """A file (or line of one) that could not be read, and why, so nothing vanishes silently."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"
