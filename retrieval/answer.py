"""From passages to an answer: the sentence that answers, cited exactly, or an honest decline."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np
from cachetools import LRUCache

from newsbot.index.chunking import excerpt_spans
from newsbot.index.embedder import Embedder
from newsbot.index.entities import Entity, within
from newsbot.index.records import ArticleInfo, Chunk, ChunkSentences
from newsbot.retrieval.ranker import EVIDENCE, FEATURES, SentenceRanker
from newsbot.retrieval.records import Answer, Citation, Hit, Mention
from newsbot.retrieval.span_ranker import Passage, ShortAnswer, SpanRanker
from newsbot.retrieval.spans import answer_type, candidates, question_stems
from newsbot.retrieval.text import normalize, stems

# Sentence scores are probabilities: one within this share of the best counts as answering too
# (for "as of": the same statement in an older and a newer article, which rank a little apart).
TIE_SHARE = 0.2
# ... and it must restate the best one: at least this share of the shorter excerpt's words in the
# other. On news_qa's dev half, newest-first moved a *different* statement of a newer article
# ahead 5 times (word overlap 0.17-0.42; 3 of them lost the answer, 1 gained it) and a
# restatement 3 times (overlap 1.0); the "as of" case it exists for ("mustered some 100,000
# troops" / "150,000 troops") overlaps 0.89.
RESTATES = 0.5
# A neighbouring sentence scoring this close to an excerpt joins it. Answers often sit in the
# sentence after the one that restates the question ("... to test the primality of large numbers.
# These include the Miller-Rabin test"); the ranker scores that one a little lower. Set on the
# dev halves (scripts/error_classes.py, README "Results"): 0.05 -> 0.3 lifts hit@1 on xquad_en
# 0.857 -> 0.900 and news_qa 0.664 -> 0.717, with first excerpts ~20-30 % longer; 0.5 adds under a
# point more for another ~40 characters.
JOIN_MARGIN = 0.3
# The neighbour may sit across a paragraph break: news articles are often written one sentence a
# paragraph, so the sentence after the one restating the question is in the next paragraph. On
# the dev halves (README "Results") this lifts news_qa hit@1 0.717 -> 0.735 and leaves xquad_en
# (one paragraph per article) unchanged.

SentenceLookup = Callable[[list[int]], dict[int, ChunkSentences]]
IdfLookup = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True, slots=True)
class Excerpt:
    """A candidate sentence (or two): offsets are into its article's text."""

    hit: Hit
    text: str
    start: int
    end: int
    score: float
    confidence: float
    # Stored entities of the excerpt (offsets into ``text``), None for a chunk indexed without them.
    entities: tuple[Entity, ...] | None = None
    # The ranker's features of the sentence (the answerability model reads the best one's).
    features: np.ndarray | None = None
    # Its passage's evidence (ranker.EVIDENCE order), which the answerability model reads too.
    evidence: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class Shortlist:
    """What an answer is made of: the excerpts it cites (best first) and how sure it is."""

    kind: str | None  # the kind of answer the question asks for
    ranked: tuple[Excerpt, ...]  # the excerpts to cite, best first
    excerpts: tuple[Excerpt, ...]  # every scored sentence of the passages
    confidence: float  # P(the passages answer the question at all)
    confident: bool  # confidence clears min_confidence
    as_of: date | None  # the newest-first date, when near-equal excerpts differ in date


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence and its ranker features (in ``FEATURES`` order), before the ranker has scored it."""

    hit: Hit
    text: str
    start: int
    end: int
    features: np.ndarray
    entities: tuple[Entity, ...] | None
    evidence: np.ndarray  # its passage's, in ranker.EVIDENCE order


class Sentences:
    """Each chunk's excerpt candidates with their vectors: read from the index, which stores them.

    Chunks the index holds none for (written by another embedder, or by an older newsbot) are
    embedded here once and kept in a bounded cache.
    """

    def __init__(self, embedder: Embedder, lookup: SentenceLookup | None = None, size: int = 20_000) -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1 chunk, got {size}")
        self.embedder = embedder
        self.lookup = lookup
        self.size = size
        self._items: LRUCache[int, ChunkSentences] = LRUCache(maxsize=size)
        self._lock = threading.Lock()  # cachetools caches are not thread-safe

    def get(self, chunks: list[Chunk]) -> list[ChunkSentences]:
        found = self.lookup([c.id for c in chunks]) if self.lookup else {}
        with self._lock:
            for c in chunks:
                if c.id not in found and (cached := self._items.get(c.id)) is not None:
                    found[c.id] = cached
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
        return [found[c.id] for c in chunks]


def _weighted_share(terms: list[str], weights: np.ndarray, present: set[str]) -> float:
    """The idf-weighted share of ``terms`` that ``present`` holds (0 when no term has weight)."""
    total = float(weights.sum())
    if not terms or not total:
        return 0.0
    return float(np.asarray([t in present for t in terms], dtype=np.float32) @ weights / total)


def unseen_idf(chunk_count: int) -> float:
    """BM25's idf of a word no chunk has (document frequency 0): more than any word it has."""
    n = max(chunk_count, 1)
    return float(np.log(1 + (n + 0.5) / 0.5))


def passage_evidence(terms: list[str], idf: np.ndarray, unseen: float, present: set[str]) -> np.ndarray:
    """What a passage holding the stems ``present`` says of the question's ``terms`` (with BM25's
    ``idf``, 0 for a word no chunk has, which weighs ``unseen``), in ranker.EVIDENCE order."""
    if not terms:
        return np.zeros(len(EVIDENCE), dtype=np.float64)
    weights = np.where(idf > 0, idf, unseen).astype(np.float64)
    lacking = np.asarray([t not in present for t in terms])
    row = {
        "missing_rarest": float(weights[lacking].max() / unseen) if lacking.any() else 0.0,
        "passage_cover": float(weights[~lacking].sum() / weights.sum()),
    }
    return np.asarray([row[name] for name in EVIDENCE], dtype=np.float64)


def _restates(words: set[str], other: set[str]) -> bool:
    """Whether two excerpts (as stems) say the same thing: ``RESTATES`` of the shorter's words in both."""
    shorter = min(len(words), len(other))
    return shorter > 0 and len(words & other) >= RESTATES * shorter


def _mentions(excerpts: Sequence[Excerpt]) -> list[Mention]:
    """Each name in the excerpts once, with the label most of its mentions have."""
    votes: dict[str, Counter[str]] = {}
    for ex in excerpts:
        for e in ex.entities or ():
            votes.setdefault(ex.text[e.start : e.end], Counter())[e.label] += 1
    return [Mention(text=name, label=count.most_common(1)[0][0]) for name, count in votes.items()]


class AnswerComposer:
    """Scores the sentences of the top passages against the question and cites the best.

    A learned ranker (retrieval/ranker.py) turns each sentence's features into the probability
    that it holds the answer: embedding similarity, stemmed and idf-weighted word overlap, its
    passage's score and rank, whether it holds an entity of the asked-for kind, its neighbours,
    its place in the article; an answerability model turns the best of them into the answer's
    confidence, below ``min_confidence`` newsbot declines. A span model (retrieval/span_ranker.py)
    picks the short answer inside the first excerpt; below ``bold_confidence`` no part of it is
    bold. Both thresholds were calibrated on the dev halves of the eval sets and ship with the models.
    """

    def __init__(
        self,
        embedder: Embedder,
        *,
        min_confidence: float | None = None,
        bold_confidence: float | None = None,
        max_citations: int = 3,
        per_article: int = 3,
        sentences: SentenceLookup | None = None,
        idf: IdfLookup | None = None,
        chunk_count: int = 0,
        ranker: SentenceRanker | None = None,
        spans: SpanRanker | None = None,
    ) -> None:
        self.ranker = ranker or SentenceRanker.load()
        self.spans = spans or SpanRanker.load()
        min_confidence = self.ranker.min_confidence if min_confidence is None else min_confidence
        bold_confidence = self.spans.bold_confidence if bold_confidence is None else bold_confidence
        for name, value in (("min_confidence", min_confidence), ("bold_confidence", bold_confidence)):
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if max_citations < 1:
            raise ValueError(f"max_citations must be at least 1, got {max_citations}")
        if per_article < 1:
            raise ValueError(f"per_article must be at least 1, got {per_article}")
        self.embedder = embedder
        self.min_confidence = min_confidence
        self.bold_confidence = bold_confidence
        self.max_citations = max_citations
        self.per_article = per_article
        self.sentences = Sentences(embedder, sentences)
        self.idf = idf
        # The weight of a word no chunk has: from the chunk count at opening (it moves with the log
        # of the count, so a reload that adds articles barely shifts it). Without idf every word weighs 1.
        self.unseen = unseen_idf(chunk_count) if idf else 1.0

    def compose(
        self,
        question: str,
        hits: list[Hit],
        query_vector: np.ndarray | None = None,
        *,
        asked: str | None = None,
        date_filter: str | None = None,
        date_preferred: str | None = None,
        max_citations: int | None = None,
    ) -> Answer:
        """The answer to ``question`` (as resolved; ``asked`` is what the user typed, if different)."""
        short = self.shortlist(question, hits, query_vector, max_citations=max_citations)
        context: dict[str, Any] = {
            "question": asked or question,
            "resolved_question": question if asked and asked != question else None,
            "answer_type": short.kind,
            "date_filter": date_filter,
            "date_preferred": date_preferred,
        }
        if not short.ranked:
            return Answer(answer=None, confident=False, citations=[], **context)
        ranked, confident = short.ranked, short.confident
        citations = [self._cite(n, ex) for n, ex in enumerate(ranked, 1)]
        context["mentions"] = _mentions(ranked)
        best = ranked[0]
        choice = self.short_answer(question, short) if confident else None
        span = choice if choice is not None and choice.probability >= self.bold_confidence else None
        start, end = (best.start + span.start, best.start + span.end) if span else (best.start, best.end)
        return Answer(
            answer=best.text[start - best.start : end - best.start] if confident else None,
            confident=confident,
            citations=citations,
            answer_start=start if confident else None,
            answer_end=end if confident else None,
            answer_citation=1 if confident else None,
            confidence=round(short.confidence, 4),
            as_of=short.as_of,
            **context,
        )

    def shortlist(
        self,
        question: str,
        hits: list[Hit],
        query_vector: np.ndarray | None = None,
        *,
        max_citations: int | None = None,
    ) -> Shortlist:
        """The excerpts an answer cites, best first, and whether they answer the question."""
        kind = answer_type(question)
        excerpts = self.excerpts(question, hits, query_vector, kind)
        if not excerpts:
            return Shortlist(kind, (), (), 0.0, False, None)
        ranked = self._select(excerpts, max_citations or self.max_citations)
        top = max(excerpts, key=lambda ex: ex.score)
        if top.features is None or top.evidence is None:  # unreachable: excerpts() gives each its features
            raise RuntimeError("the best excerpt carries no ranker features")
        confidence = self.ranker.confidence(top.features, top.score, top.evidence)
        confident = confidence >= self.min_confidence
        as_of = None
        if confident:
            ranked, as_of = self._newest_first(ranked)
        return Shortlist(kind, tuple(ranked), tuple(excerpts), confidence, confident, as_of)

    def short_answer(self, question: str, short: Shortlist) -> ShortAnswer | None:
        """The span model's pick in the first excerpt, with its probability (None: no candidate)."""
        best = short.ranked[0]
        others = [Passage(ex.text, ex.score) for ex in short.excerpts]
        return self.spans.choose(
            question, short.kind, Passage(best.text, best.score, best.entities), others, short.confidence
        )

    def excerpts(
        self, question: str, hits: list[Hit], query_vector: np.ndarray | None = None, kind: str | None = None
    ) -> list[Excerpt]:
        """Every sentence of the passages, scored by the ranker."""
        candidates = self.candidates(question, hits, query_vector, kind)
        if not candidates:
            return []
        scores = self.ranker.predict(np.stack([c.features for c in candidates]))
        return [
            Excerpt(c.hit, c.text, c.start, c.end, float(p), float(p), c.entities, c.features, c.evidence)
            for c, p in zip(candidates, scores, strict=True)
        ]

    def candidates(
        self, question: str, hits: list[Hit], query_vector: np.ndarray | None = None, kind: str | None = None
    ) -> list[Candidate]:
        """Each sentence of the passages with its ranker features (also what the ranker is trained on)."""
        if not hits:
            return []
        if query_vector is None:
            query_vector = self.embedder.embed_batch([question])
        terms = sorted(stems(question))
        weights = self.idf(terms) if self.idf and terms else np.ones(len(terms), dtype=np.float32)
        top_score = max(h.score for h in hits) or 1.0
        asked = question_stems(question)
        found: list[tuple[Hit, int, int, dict[str, float], tuple[Entity, ...] | None, np.ndarray]] = []
        unknown = float((weights == 0).mean()) if terms and self.idf else 0.0
        # Scalars hoisted out of the sentence loop: numpy calls on tiny arrays cost microseconds each.
        weight_total, term_count = weights.sum(), np.float32(len(terms))
        # For the title feature a word no chunk has weighs most (as in passage_evidence), not 0.
        cover = np.where(weights > 0, weights, np.float32(self.unseen)).astype(np.float32)
        for hit, sentences in zip(hits, self.sentences.get([h.chunk for h in hits]), strict=True):
            if not sentences.spans:
                continue
            in_passage = stems(hit.chunk.text)
            passage_idf = _weighted_share(terms, weights, in_passage)
            title = stems(hit.article.title)
            # The passage as BM25 reads it, with its article's title.
            evidence = passage_evidence(terms, weights, self.unseen, in_passage | title)
            similarity = np.clip(sentences.vectors @ query_vector[0], 0.0, 1.0)
            stored = sentences.entities
            for i, ((s, e), sim) in enumerate(zip(sentences.spans, similarity, strict=True)):
                text = hit.chunk.text[s:e]
                entities = within(stored, s, e) if stored is not None else None
                present = stems(text)
                hits_in = [t in present for t in terms]
                side = [similarity[j] for j in (i - 1, i + 1) if 0 <= j < len(similarity)]
                row = {
                    "similarity": float(sim),
                    # float32 arithmetic, as the mean of a float32 array gives
                    "overlap": float(np.float32(sum(hits_in)) / term_count) if terms else 0.0,
                    "idf_overlap": float(np.asarray(hits_in, dtype=np.float32) @ weights / weight_total)
                    if terms and weight_total
                    else 0.0,
                    "passage_score": hit.score / top_score,
                    "inverse_rank": 1.0 / hit.rank,
                    "typed": float(bool(kind and candidates(question, text, kind, entities, asked))),
                    "kind_known": float(kind is not None),
                    "neighbour": float(max(side, default=0.0)),
                    "lead": float(hit.chunk.ordinal == 0 and i == 0),
                    "length": float(np.log1p(len(text)) / 5),
                    "passage_idf_overlap": passage_idf,
                    "unknown": unknown,
                    "title_idf_overlap": _weighted_share(terms, cover, present | title),
                }
                found.append((hit, s, e, row, entities, evidence))
        # The gaps compare each sentence with the best of all of them, so they come second.
        best_similarity = max((row["similarity"] for *_, row, _, _ in found), default=0.0)
        best_idf = max((row["idf_overlap"] for *_, row, _, _ in found), default=0.0)
        best_title = max((row["title_idf_overlap"] for *_, row, _, _ in found), default=0.0)
        out = []
        for hit, s, e, row, entities, evidence in found:
            row |= {
                "similarity_gap": row["similarity"] - best_similarity,
                "idf_overlap_gap": row["idf_overlap"] - best_idf,
                "title_idf_overlap_gap": row["title_idf_overlap"] - best_title,
            }
            features = np.asarray([row[name] for name in FEATURES], dtype=np.float64)
            start = hit.chunk.start
            out.append(Candidate(hit, hit.chunk.text[s:e], start + s, start + e, features, entities, evidence))
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
                ex = replace(ex, hit=Hit(ex.hit.chunk, ex.hit.article, ex.hit.score, ex.hit.rank, extra))
            out.append(ex)
        return out

    @staticmethod
    def _joined(ex: Excerpt, neighbours: list[Excerpt]) -> Excerpt:
        """``ex`` with the sentence beside it in its chunk, when that one scores nearly as well."""
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
            if gap is None or gap.strip() or not ex.score - JOIN_MARGIN <= other.score <= ex.score:
                continue
            if best is None or other.score > best.score:
                best = other
        if best is None:
            return ex
        start, end = min(ex.start, best.start), max(ex.end, best.end)
        entities = None
        if ex.entities is not None and best.entities is not None:
            entities = tuple(
                Entity(e.start + part.start - start, e.end + part.start - start, e.label)
                for part in sorted((ex, best), key=lambda x: x.start)
                for e in part.entities or ()
            )
        text = chunk.text[start - chunk.start : end - chunk.start]
        return Excerpt(ex.hit, text, start, end, ex.score, ex.confidence, entities)

    @staticmethod
    def _newest_first(ranked: list[Excerpt]) -> tuple[list[Excerpt], date | None]:
        """When near-equal excerpts saying the same thing come from differently dated articles, the newest leads."""
        top, words = ranked[0].confidence, stems(ranked[0].text)
        close = [
            ex
            for ex in ranked
            if ex.confidence >= top * (1 - TIE_SHARE)
            and ex.hit.article.date is not None
            and _restates(words, stems(ex.text))
        ]
        dates = {ex.hit.article.date for ex in close}
        if len(dates) < 2 or normalize(close[0].text) == normalize(close[-1].text):
            return ranked, None
        newest = max(close, key=lambda ex: ex.hit.article.date or date.min)  # `close` holds dated ones only
        return [newest] + [ex for ex in ranked if ex is not newest], newest.hit.article.date

    @staticmethod
    def _cite(n: int, ex: Excerpt) -> Citation:
        return Citation.of(n, ex.hit, ex.start, ex.end, ex.score)
