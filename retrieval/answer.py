"""From passages to an answer: the sentence that answers, cited exactly, or an honest decline."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from newsbot.index.chunking import excerpt_spans
from newsbot.index.embedder import Embedder
from newsbot.index.records import ArticleInfo, Chunk, ChunkSentences
from newsbot.retrieval.records import Answer, Citation, Hit
from newsbot.retrieval.spans import answer_type, find_span
from newsbot.retrieval.text import content_words, normalize, overlap

# Candidates this close to the best score count as answering too (for "as of" and collapsing).
TIE_MARGIN = 0.03
# A neighbouring sentence scoring this close to an excerpt joins it: the answer spans both.
JOIN_MARGIN = 0.05

SentenceLookup = Callable[[list[int]], dict[int, ChunkSentences]]


@dataclass(frozen=True, slots=True)
class Excerpt:
    """A candidate sentence (or two): offsets are into its article's text."""

    hit: Hit
    text: str
    start: int
    end: int
    score: float
    confidence: float


class Sentences:
    """Each chunk's excerpt candidates with their vectors: read from the index, which stores them.

    Chunks the index holds none for (written by another embedder, or by an older newsbot) are
    embedded here once and kept in a bounded cache.
    """

    def __init__(self, embedder: Embedder, lookup: SentenceLookup | None = None, size: int = 20_000) -> None:
        self.embedder = embedder
        self.lookup = lookup
        self.size = size
        self._items: OrderedDict[int, ChunkSentences] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, chunks: list[Chunk]) -> list[ChunkSentences]:
        found = self.lookup([c.id for c in chunks]) if self.lookup else {}
        with self._lock:
            for c in chunks:
                if c.id not in found and c.id in self._items:
                    self._items.move_to_end(c.id)
                    found[c.id] = self._items[c.id]
        missing = [c for c in dict.fromkeys(chunks) if c.id not in found]
        if missing:
            spans = [excerpt_spans(c.text) for c in missing]
            texts = [c.text[s:e] for c, sps in zip(missing, spans, strict=False) for s, e in sps]
            vectors = self.embedder.embed_batch(texts) if texts else np.zeros((0, 1), np.float32)
            row = 0
            with self._lock:
                for c, sps in zip(missing, spans, strict=True):
                    found[c.id] = self._items[c.id] = ChunkSentences(c.id, tuple(sps), vectors[row : row + len(sps)])
                    row += len(sps)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return [found[c.id] for c in chunks]


def describe(article: ArticleInfo) -> str:
    """How "also in" names another article: title, source and date."""
    bits = [b for b in (article.source, article.date.isoformat() if article.date else None) if b]
    return f"{article.title} ({', '.join(bits)})" if bits else article.title


class AnswerComposer:
    """Scores the sentences of the top passages against the question and cites the best.

    A sentence's score mixes its embedding similarity to the question, the share of the
    question's content words it holds, its passage's retrieval rank, and whether it holds a
    candidate of the asked-for kind (a date for "when"). The confidence compared with
    ``min_confidence`` leaves out the rank, which says nothing about whether an answer exists.
    """

    def __init__(
        self,
        embedder: Embedder,
        *,
        min_confidence: float = 0.42,
        max_citations: int = 3,
        semantic_weight: float = 0.6,
        per_article: int = 3,
        sentences: SentenceLookup | None = None,
    ) -> None:
        if not 0 <= min_confidence <= 1:
            raise ValueError(f"min_confidence must be between 0 and 1, got {min_confidence}")
        if max_citations < 1:
            raise ValueError(f"max_citations must be at least 1, got {max_citations}")
        if not 0 <= semantic_weight <= 1:
            raise ValueError(f"semantic_weight must be between 0 and 1, got {semantic_weight}")
        if per_article < 1:
            raise ValueError(f"per_article must be at least 1, got {per_article}")
        self.embedder = embedder
        self.min_confidence = min_confidence
        self.max_citations = max_citations
        self.semantic_weight = semantic_weight
        self.per_article = per_article
        # The passage's retrieval rank breaks near-ties between sentences; a sentence holding
        # something of the asked-for kind (a date for "when") is preferred by a small margin.
        self.rank_weight = 0.1
        self.type_bonus = 0.05
        self.sentences = Sentences(embedder, sentences)

    def compose(
        self,
        question: str,
        hits: list[Hit],
        query_vector: np.ndarray | None = None,
        *,
        max_citations: int | None = None,
    ) -> Answer:
        kind = answer_type(question)
        excerpts = self.excerpts(question, hits, query_vector, kind)
        if not excerpts:
            return Answer(question=question, answer=None, confident=False, citations=[], answer_type=kind)
        ranked = self._select(excerpts, max_citations or self.max_citations)
        confidence = max(ex.confidence for ex in excerpts)
        confident = confidence >= self.min_confidence
        as_of = None
        if confident:
            ranked, as_of = self._newest_first(ranked)
        citations = [self._cite(n, ex) for n, ex in enumerate(ranked, 1)]
        answer = Answer(
            question=question,
            answer=None,
            confident=confident,
            citations=citations,
            answer_type=kind,
            confidence=round(confidence, 4),
            as_of=as_of,
        )
        if not confident:
            return answer
        best = ranked[0]
        span = find_span(question, best.text, kind)
        if span is None:
            answer.answer, answer.answer_start, answer.answer_end = best.text, best.start, best.end
        else:
            answer.answer = best.text[span.start : span.end]
            answer.answer_start, answer.answer_end = best.start + span.start, best.start + span.end
        answer.answer_citation = 1
        return answer

    def excerpts(
        self, question: str, hits: list[Hit], query_vector: np.ndarray | None = None, kind: str | None = None
    ) -> list[Excerpt]:
        if not hits:
            return []
        if query_vector is None:
            query_vector = self.embedder.embed_batch([question])
        terms = set(content_words(question))
        out = []
        for hit, sentences in zip(hits, self.sentences.get([h.chunk for h in hits]), strict=True):
            if not sentences.spans:
                continue
            semantic = np.clip(sentences.vectors @ query_vector[0], 0.0, 1.0)
            prior = 1.0 / hit.rank
            for (s, e), sim in zip(sentences.spans, semantic, strict=True):
                text = hit.chunk.text[s:e]
                confidence = self.semantic_weight * float(sim) + (1 - self.semantic_weight) * overlap(terms, text)
                typed = self.type_bonus if kind and find_span(question, text, kind) else 0.0
                score = (1 - self.rank_weight) * confidence + self.rank_weight * prior + typed
                out.append(Excerpt(hit, text, hit.chunk.start + s, hit.chunk.start + e, score, confidence))
        return out

    def _select(self, excerpts: list[Excerpt], limit: int) -> list[Excerpt]:
        """Best first; at most ``per_article`` per article; the same sentence elsewhere -> also in."""
        chosen: list[Excerpt] = []
        also: dict[int, list[ArticleInfo]] = {}
        per_article: dict[str, int] = {}
        seen_text: dict[str, int] = {}
        by_chunk: dict[int, list[Excerpt]] = {}
        for ex in excerpts:
            by_chunk.setdefault(ex.hit.chunk.id, []).append(ex)
        for ex in sorted(excerpts, key=lambda e: -e.score):
            key = normalize(ex.text)
            if key in seen_text:
                first = chosen[seen_text[key]]
                if first.hit.article.id != ex.hit.article.id and all(
                    a.id != ex.hit.article.id for a in also.get(seen_text[key], [])
                ):
                    also.setdefault(seen_text[key], []).append(ex.hit.article)
                continue
            if len(chosen) >= limit or per_article.get(ex.hit.article.id, 0) >= self.per_article:
                continue
            if any(c.hit.article.id == ex.hit.article.id and c.start < ex.end and ex.start < c.end for c in chosen):
                continue  # overlapping chunks cut the same sentence twice, or it joined a better one
            ex = self._joined(ex, by_chunk[ex.hit.chunk.id])
            seen_text[key] = len(chosen)
            per_article[ex.hit.article.id] = per_article.get(ex.hit.article.id, 0) + 1
            chosen.append(ex)
        out = []
        for i, ex in enumerate(chosen):
            extra = tuple(ex.hit.also_in) + tuple(also.get(i, []))
            if extra:
                ex = Excerpt(
                    Hit(ex.hit.chunk, ex.hit.article, ex.hit.score, ex.hit.rank, extra),
                    ex.text,
                    ex.start,
                    ex.end,
                    ex.score,
                    ex.confidence,
                )
            out.append(ex)
        return out

    @staticmethod
    def _joined(ex: Excerpt, neighbours: list[Excerpt]) -> Excerpt:
        """``ex`` with the sentence beside it in its paragraph, when that one scores nearly as well."""
        chunk = ex.hit.chunk
        best = None
        for other in neighbours:
            gap = (
                chunk.text[ex.end - chunk.start : other.start - chunk.start]
                if other.start >= ex.end
                else chunk.text[other.end - chunk.start : ex.start - chunk.start]
                if other.end <= ex.start
                else None
            )
            # Only a weaker neighbour joins: a stronger one was cited before this one, or left out.
            if gap is None or gap.strip() or "\n\n" in gap or not ex.score - JOIN_MARGIN <= other.score <= ex.score:
                continue
            if best is None or other.score > best.score:
                best = other
        if best is None:
            return ex
        start, end = min(ex.start, best.start), max(ex.end, best.end)
        return Excerpt(ex.hit, chunk.text[start - chunk.start : end - chunk.start], start, end, ex.score, ex.confidence)

    @staticmethod
    def _newest_first(ranked: list[Excerpt]) -> tuple[list[Excerpt], object]:
        """When near-equal excerpts from differently dated articles compete, the newest leads."""
        top = ranked[0].confidence
        close = [ex for ex in ranked if ex.confidence >= top - TIE_MARGIN and ex.hit.article.date is not None]
        dates = {ex.hit.article.date for ex in close}
        if len(dates) < 2 or normalize(close[0].text) == normalize(close[-1].text):
            return ranked, None
        newest = max(close, key=lambda ex: ex.hit.article.date)
        return [newest] + [ex for ex in ranked if ex is not newest], newest.hit.article.date

    @staticmethod
    def _cite(n: int, ex: Excerpt) -> Citation:
        a, c = ex.hit.article, ex.hit.chunk
        before = c.text[: ex.start - c.start]
        paragraph = c.paragraph + before.count("\n\n")
        return Citation(
            n=n,
            title=a.title,
            source=a.source,
            date=a.date,
            url=a.url,
            path=a.path,
            paragraph=paragraph,
            excerpt=ex.text,
            score=round(ex.score, 4),
            start=ex.start,
            end=ex.end,
            article_id=a.id,
            chunk_id=c.id,
            also_in=[describe(x) for x in ex.hit.also_in],
        )
