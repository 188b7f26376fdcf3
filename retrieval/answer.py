"""From passages to an answer: the sentence that answers, cited exactly, or an honest decline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.chunking import sentence_spans
from index.embedder import Embedder
from retrieval.records import Answer, Citation, Hit
from retrieval.text import content_words, overlap


@dataclass(frozen=True, slots=True)
class Excerpt:
    """A candidate sentence: offsets are into its article's text."""

    hit: Hit
    text: str
    start: int
    end: int
    score: float


class AnswerComposer:
    """Scores the sentences of the top passages against the question and cites the best."""

    def __init__(self, embedder: Embedder, *, min_confidence: float = 0.35, max_citations: int = 3,
                 semantic_weight: float = 0.6) -> None:
        if not 0 <= min_confidence <= 1:
            raise ValueError(f"min_confidence must be between 0 and 1, got {min_confidence}")
        if max_citations < 1:
            raise ValueError(f"max_citations must be at least 1, got {max_citations}")
        self.embedder = embedder
        self.min_confidence = min_confidence
        self.max_citations = max_citations
        self.semantic_weight = semantic_weight

    def compose(self, question: str, hits: list[Hit], query_vector: np.ndarray | None = None) -> Answer:
        excerpts = self.excerpts(question, hits, query_vector)
        if not excerpts:
            return Answer(question=question, answer=None, confident=False, citations=[])
        best_per_article: dict[str, Excerpt] = {}
        for ex in excerpts:
            kept = best_per_article.get(ex.hit.article.id)
            if kept is None or ex.score > kept.score:
                best_per_article[ex.hit.article.id] = ex
        ranked = sorted(best_per_article.values(), key=lambda e: -e.score)[: self.max_citations]
        citations = [self._cite(n, ex) for n, ex in enumerate(ranked, 1)]
        confident = ranked[0].score >= self.min_confidence
        return Answer(
            question=question, answer=ranked[0].text if confident else None, confident=confident,
            citations=citations, answer_citation=1 if confident else None,
        )

    def excerpts(self, question: str, hits: list[Hit], query_vector: np.ndarray | None = None) -> list[Excerpt]:
        candidates: list[tuple[Hit, int, int]] = []
        for hit in hits:
            chunk = hit.chunk
            for s, e in sentence_spans(chunk.text):
                candidates.append((hit, chunk.start + s, chunk.start + e))
        if not candidates:
            return []
        texts = [hit.chunk.text[s - hit.chunk.start: e - hit.chunk.start] for hit, s, e in candidates]
        if query_vector is None:
            query_vector = self.embedder.embed_batch([question])
        sentence_vectors = self.embedder.embed_batch(texts)
        semantic = (sentence_vectors @ query_vector[0]).astype(float)
        terms = set(content_words(question))
        out = []
        for (hit, s, e), text, sim in zip(candidates, texts, semantic, strict=True):
            score = self.semantic_weight * max(0.0, sim) + (1 - self.semantic_weight) * overlap(terms, text)
            out.append(Excerpt(hit, text, s, e, float(score)))
        return out

    @staticmethod
    def _cite(n: int, ex: Excerpt) -> Citation:
        a, c = ex.hit.article, ex.hit.chunk
        before = c.text[: ex.start - c.start]
        paragraph = c.paragraph + before.count("\n\n")
        return Citation(
            n=n, title=a.title, source=a.source, date=a.date, url=a.url, path=a.path,
            paragraph=paragraph, excerpt=ex.text, score=round(ex.score, 4), start=ex.start, end=ex.end,
            article_id=a.id, chunk_id=c.id,
        )
