"""Benchmark corpora: a copy of corpora/news (or its first N articles), and larger indexes made
by replicating an indexed corpus.

Scaling: each copy of an article keeps its text (so answers compose sentences as usual) under a
new path; its chunk vectors are the real ones plus Gaussian noise, renormalised, so copies sit
near, not on, each other (cosine ~0.9). No copy is re-embedded: embedding 1M chunks would take
hours on 2 cores and measures the model, which the indexing figure already does.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from newsbot.index.chunkstore import CHUNKS
from newsbot.index.folder import IndexReader, IndexWriter
from newsbot.index.reading import IndexSource
from newsbot.index.records import Article, Chunk, ChunkSentences
from newsbot.index.store import FaissStore, StoreOptions
from newsbot.index.writing import IndexWriting

NEWS = Path(__file__).resolve().parent.parent / "corpora" / "news"
NOISE = 0.025  # per dimension; |noise| ~ 0.49 over 384 dimensions, cosine to the original ~0.9


def copy_news(target: Path, articles: int | None = None) -> Path:
    """A private seeds folder with ``articles`` news articles spread over the corpus (all when None),
    and their lines of the metadata sidecar."""
    import json

    files = sorted((NEWS / "articles").glob("*.txt"))
    if articles is not None and articles < len(files):
        files = [files[int(i * len(files) / articles)] for i in range(articles)]
    out = target / "articles"
    out.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copyfile(f, out / f.name)
    wanted = {f"articles/{f.name}" for f in files}
    lines = (NEWS / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if line.strip() and json.loads(line).get("file") in wanted]
    (target / "articles.jsonl").write_text("\n".join(kept) + "\n", encoding="utf-8")
    return target


@dataclass(frozen=True, slots=True)
class IndexedCorpus:
    """The articles, chunks and vectors of a built index, in chunk id order."""

    articles: list[Article]
    chunks: list[Chunk]
    vectors: np.ndarray
    titles: list[str]
    sentences: list[ChunkSentences]  # aligned with chunks

    def passages(self) -> list[str]:
        from newsbot.index.builder import passage_text

        by_id = {a.id: a.title for a in self.articles}
        return [passage_text(by_id[c.article_id], c.text) for c in self.chunks]


def faiss_store(reader: IndexSource) -> FaissStore:
    """The reader's vectors as the FAISS store they are; the benchmarks measure FAISS itself."""
    if not isinstance(reader.vectors, FaissStore):
        raise TypeError(f"the benchmark reads FAISS vectors; this index holds a {type(reader.vectors).__name__}")
    return reader.vectors


def load_indexed(index_dir: Path) -> IndexedCorpus:
    reader = IndexReader.open(index_dir)
    try:
        db = sqlite3.connect(reader.folder / CHUNKS)
        rows = db.execute("SELECT id, path, title, date, source, url, text FROM articles").fetchall()
        db.close()
        from datetime import date

        articles = [
            Article(
                title=r[2], text=r[6], path=r[1], date=date.fromisoformat(r[3]) if r[3] else None, source=r[4], url=r[5]
            )
            for r in rows
        ]
        chunks = list(reader.chunks.iter_chunks())
        import faiss

        flat = faiss_store(reader).flat
        stored = faiss.downcast_index(flat.index).reconstruct_n(0, flat.ntotal)
        row_of = {int(i): row for row, i in enumerate(faiss.vector_to_array(flat.id_map))}
        vectors = stored[[row_of[c.id] for c in chunks]]
        by_chunk = reader.chunks.sentences([c.id for c in chunks])
        sentences = [by_chunk[c.id] for c in chunks]
    finally:
        reader.close()
    return IndexedCorpus(articles, chunks, vectors.astype(np.float32), [a.title for a in articles], sentences)


def perturbed(vectors: np.ndarray, rng: np.random.Generator, noise: float = NOISE) -> np.ndarray:
    out = vectors + rng.normal(scale=noise, size=vectors.shape).astype(np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def synthetic_vectors(base: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """``count`` vectors: the base ones first, then perturbed copies of them (FAISS-only figures)."""
    rng = np.random.default_rng(seed)
    parts, have = [base], len(base)
    while have < count:
        part = perturbed(base[: count - have], rng)
        parts.append(part)
        have += len(part)
    return np.ascontiguousarray(np.vstack(parts)[:count], dtype=np.float32)


@dataclass(frozen=True, slots=True)
class ArticleRows:
    """One article as an index writer takes it: its chunks, their vectors and their sentences."""

    article: Article
    chunks: list[Chunk]
    vectors: np.ndarray
    sentences: list[ChunkSentences]


def replicated(corpus: IndexedCorpus, chunks: int, *, seed: int = 0, entities: bool = True) -> Iterator[ArticleRows]:
    """Whole articles until about ``chunks`` chunks, ids from 0: the corpus itself first (its real
    vectors), then copies under new paths with perturbed vectors (synthetic). ``entities`` keeps
    each chunk's entity spans."""
    rng = np.random.default_rng(seed)
    by_article: dict[str, list[int]] = {}
    for row, c in enumerate(corpus.chunks):
        by_article.setdefault(c.article_id, []).append(row)
    written, copy = 0, 0
    while written < chunks:
        for article in corpus.articles:
            rows = by_article.get(article.id, [])
            if not rows or written >= chunks:
                continue
            clone = Article(
                title=article.title,
                text=article.text,
                path=f"copy-{copy:04d}/{article.path}",
                date=article.date,
                source=article.source,
                url=article.url,
            )
            pieces = [
                Chunk(written + j, clone.id, c.ordinal, c.text, c.start, c.end, c.paragraph, c.paragraph_end)
                for j, c in enumerate(corpus.chunks[r] for r in rows)
            ]
            vectors = corpus.vectors[rows] if copy == 0 else perturbed(corpus.vectors[rows], rng)
            # Sentence vectors are copied as they are: they only rank sentences within a passage.
            sentences = [
                ChunkSentences(
                    p.id,
                    corpus.sentences[r].spans,
                    corpus.sentences[r].vectors,
                    corpus.sentences[r].entities if entities else None,
                )
                for p, r in zip(pieces, rows, strict=True)
            ]
            yield ArticleRows(clone, pieces, vectors, sentences)
            written += len(pieces)
        copy += 1


def write_rows(writer: IndexWriting, rows: Iterable[ArticleRows], *, model: str, dimension: int) -> int:
    """A full build of ``rows`` through any backend's writer (entered by the caller); the chunks written."""
    written = 0
    writer.begin(model, dimension, {"bench": 1}, incremental=False)
    for r in rows:
        writer.add_article(r.article, r.chunks, r.vectors, r.sentences)
        written += len(r.chunks)
    # The retriever expects BM25 beside the vectors, as the builder writes it.
    writer.write_bm25()
    writer.commit()
    return written


def scaled_index(
    corpus: IndexedCorpus, index_dir: Path, chunks: int, *, model: str, seed: int = 0, store: StoreOptions | None = None
) -> int:
    """Writes an index of about ``chunks`` chunks (whole articles) by replicating ``corpus``, laid
    out as ``store`` says (the settings' flat_index_max and ann_index, as a build would)."""
    # Without entity spans, as the latency figures in the README were measured.
    rows = replicated(corpus, chunks, seed=seed, entities=False)
    with IndexWriter(index_dir, store=store) as writer:
        return write_rows(writer, rows, model=model, dimension=corpus.vectors.shape[1])
