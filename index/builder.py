"""Incremental builds: read the seeds, diff by content hash, embed only what changed, swap in."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from newsbot.index.chunking import Chunker, excerpt_spans
from newsbot.index.embedder import Embedder, SpanEmbedder, SpanVectors
from newsbot.index.entities import EntityTagger, SpacyTagger, within
from newsbot.index.folder import IndexWriter
from newsbot.index.manifest import Manifest
from newsbot.index.readers import FolderReader, ReadReport
from newsbot.index.records import Article, Chunk, ChunkSentences, Failure, normalize_text
from newsbot.index.store import StoreOptions
from newsbot.index.writing import IndexWriting

if TYPE_CHECKING:
    from newsbot.config.settings import Settings

W = TypeVar("W", bound=IndexWriting)


def passage_text(title: str, chunk_text: str) -> str:
    """What the model embeds for a chunk: its article's title gives the passage its context."""
    return f"{title}\n{chunk_text}"


class NothingToIndex(Exception):
    """The seeds folder holds no readable article; the report says what was wrong with each file."""

    def __init__(self, message: str, report: ReadReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class BuildReport:
    """What a build did, file by file where something went wrong."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks_embedded: int = 0
    articles: int = 0
    chunks: int = 0
    seconds: float = 0.0
    full: bool = False
    generation: str | None = None
    note: str | None = None
    failures: list[Failure] = field(default_factory=list)
    duplicates: list[Failure] = field(default_factory=list)
    skipped: list[Failure] = field(default_factory=list)
    warnings: list[Failure] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    def summary(self) -> str:
        return (
            f"added {self.added}, updated {self.updated}, removed {self.removed}, "
            f"unchanged {self.unchanged}, duplicates {len(self.duplicates)}, failed {self.failed}, "
            f"skipped {len(self.skipped)}; {self.articles} articles, {self.chunks} chunks "
            f"({self.chunks_embedded} embedded) in {self.seconds:.1f} s"
        )


@dataclass(frozen=True, slots=True)
class _Embedded:
    vectors: np.ndarray
    spans: list[np.ndarray]
    spans_in_chunk: list[list[tuple[int, int]]]


class IndexBuilder:
    """Builds or updates the index in ``index_dir`` from the articles in ``seeds_dir``."""

    def __init__(
        self,
        embedder: Embedder,
        *,
        chunk_tokens: int = 128,
        overlap: int = 1,
        batch_size: int = 64,
        max_file_bytes: int = 20_000_000,
        ignore: list[str] | tuple[str, ...] = (),
        lock_timeout: float = 0.0,
        store: StoreOptions | None = None,
        tagger: EntityTagger | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.embedder = embedder
        self.chunker = Chunker(embedder.count_tokens, chunk_tokens, overlap, window=embedder.max_tokens)
        self.batch_size = batch_size
        self.max_file_bytes = max_file_bytes
        self.ignore = list(ignore)
        self.lock_timeout = lock_timeout
        self.store = store or StoreOptions()
        self.tagger = tagger if tagger is not None else SpacyTagger()
        # "sentences" marks indexes that store their excerpt vectors, "entities" the model that
        # tagged them; an index without either, or tagged by another model, is rebuilt whole.
        self.chunking: dict[str, int | str] = {
            "chunk_tokens": chunk_tokens,
            "overlap": overlap,
            "window": embedder.max_tokens,
            "sentences": 1,
            "entities": self.tagger.name,
        }

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder) -> IndexBuilder:
        return cls(
            embedder,
            chunk_tokens=settings.chunk_tokens,
            overlap=settings.chunk_overlap_sentences,
            batch_size=settings.batch_size,
            max_file_bytes=settings.max_file_bytes,
            ignore=settings.ignore,
            store=StoreOptions.from_settings(settings),
        )

    def build(
        self,
        seeds_dir: Path,
        index_dir: Path,
        *,
        full: bool = False,
        show_progress_bar: bool = False,
        on_write: Callable[[IndexWriter], None] | None = None,
    ) -> BuildReport:
        """Reads, diffs, embeds and swaps in; ``on_write`` may add more files to the new generation."""
        writer = IndexWriter(Path(index_dir), lock_timeout=self.lock_timeout, store=self.store)
        return self.build_into(seeds_dir, writer, full=full, show_progress_bar=show_progress_bar, on_write=on_write)

    def build_into(
        self,
        seeds_dir: Path,
        writer: W,
        *,
        full: bool = False,
        show_progress_bar: bool = False,
        on_write: Callable[[W], None] | None = None,
    ) -> BuildReport:
        """The build of ``build`` into any backend's writer (entered here)."""
        started = time.perf_counter()
        read = FolderReader(Path(seeds_dir), max_file_bytes=self.max_file_bytes, ignore=self.ignore).read()
        report = BuildReport(failures=read.failures, skipped=read.skipped, warnings=read.warnings)
        articles = self._dedupe(read.articles, report)
        if not articles:
            raise NothingToIndex(
                f"no readable articles in {str(seeds_dir)!r}; nothing was indexed and any existing index is kept", read
            )
        with writer:
            previous = writer.previous
            if previous is not None and not full and not self._compatible(previous):
                full, report.note = True, "model or chunking changed since the last build: rebuilding all"
            report.full = full or previous is None
            base = {} if report.full or previous is None else dict(previous.articles)
            wanted = {a.path: a for a in articles}
            changed = [a for a in articles if a.path not in base or base[a.path].hash != a.hash]
            gone = [p for p in base if p not in wanted]
            report.added = sum(1 for a in changed if a.path not in base)
            report.updated = len(changed) - report.added
            report.removed = len(gone)
            report.unchanged = len(articles) - len(changed)
            if previous is not None and not changed and not gone and not report.full:
                report.articles, report.chunks = len(previous.articles), previous.chunk_count
                report.seconds = time.perf_counter() - started
                return report
            manifest = writer.begin(
                self.embedder.name, self.embedder.dimension, self.chunking, incremental=not report.full
            )
            for path in gone + [a.path for a in changed if a.path in base]:
                writer.remove_article(path)
            pieces = self._chunk(changed, manifest)
            embedded = self._embed(pieces, show_progress_bar)
            tagged = self.tagger.tag_batch([article.text for article, _ in pieces])
            row = 0
            for (article, chunks), entities in zip(pieces, tagged, strict=True):
                sentences = [
                    ChunkSentences(c.id, tuple(sps), vs, within(entities, c.start, c.end))
                    for c, sps, vs in zip(
                        chunks,
                        embedded.spans_in_chunk[row : row + len(chunks)],
                        embedded.spans[row : row + len(chunks)],
                        strict=True,
                    )
                ]
                writer.add_article(article, chunks, embedded.vectors[row : row + len(chunks)], sentences)
                row += len(chunks)
            report.chunks_embedded = row
            writer.write_bm25()
            if on_write is not None:
                on_write(writer)
            report.articles, report.chunks = len(manifest.articles), manifest.chunk_count
            report.generation = writer.commit()
        report.seconds = time.perf_counter() - started
        return report

    def _embed(self, pieces: list[tuple[Article, list[Chunk]]], show_progress_bar: bool) -> _Embedded:
        """Each chunk's vector and its sentences' vectors, from one pass of the model where it can."""
        texts, spans, local = [], [], []
        for article, chunks in pieces:
            title = self.chunker.embedded_title(article.title)
            head = len(passage_text(title, ""))
            for c in chunks:
                texts.append(passage_text(title, c.text))
                local.append(excerpt_spans(c.text))
                spans.append([(s + head, e + head) for s, e in local[-1]])
        if isinstance(self.embedder, SpanEmbedder):
            result = self.embedder.embed_spans(
                texts, spans, batch_size=self.batch_size, show_progress_bar=show_progress_bar
            )
        else:  # a model without token vectors: its sentences are embedded on their own
            vectors = self.embedder.embed_batch(texts, batch_size=self.batch_size, show_progress_bar=show_progress_bar)
            parts = self.embedder.embed_batch(
                [t[s:e] for t, sps in zip(texts, spans, strict=False) for s, e in sps], batch_size=self.batch_size
            )
            bounds = np.cumsum([0] + [len(sps) for sps in spans])
            result = SpanVectors(vectors, [parts[a:b] for a, b in itertools.pairwise(bounds)])
        return _Embedded(result.vectors, result.spans, local)

    def _compatible(self, previous: Manifest) -> bool:
        return (
            previous.model == self.embedder.name
            and previous.dimension == self.embedder.dimension
            and previous.chunking == self.chunking
        )

    def _chunk(self, articles: list[Article], manifest: Manifest) -> list[tuple[Article, list[Chunk]]]:
        next_id, pieces = manifest.next_chunk_id, []
        for article in articles:
            chunks = self.chunker.split(article, first_id=next_id)
            next_id += len(chunks)
            pieces.append((article, chunks))
        return pieces

    @staticmethod
    def _dedupe(articles: list[Article], report: BuildReport) -> list[Article]:
        seen: dict[str, str] = {}
        kept = []
        for article in articles:
            key = normalize_text(article.text)
            if key in seen:
                report.duplicates.append(Failure(article.path, f"same text as {seen[key]}; indexed once"))
                continue
            seen[key] = article.path
            kept.append(article)
        return kept
