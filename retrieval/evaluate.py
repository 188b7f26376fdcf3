"""Measuring retrieval and answers on a question set (corpus.jsonl, queries.jsonl, qrels.tsv).

Article-level Recall@1/5/10, MRR@10 and nDCG@10 over the passage ranking; answer-hit@n: the
gold answer, normalised, appears in one of the first n cited excerpts; the decline rate; and the
latency of a whole ``answer`` call. One run scores several search modes side by side.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import statistics
import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsbot.retrieval.records import Answer, Hit
from newsbot.retrieval.text import normalize

CUTOFFS = (1, 5, 10)
HIT_AT = (1, 3, 5)
CORPUS, QUERIES, QRELS = "corpus.jsonl", "queries.jsonl", "qrels.tsv"
# Questions about the set's own news that its corpus does not answer: they must be declined.
UNANSWERABLE = "unanswerable.jsonl"
SPLITS = ("dev", "test", "all")


def split_of(query_id: str) -> str:
    """The fixed half a query belongs to: everything fitted is fitted on dev, reported on test."""
    return "dev" if int(hashlib.sha256(query_id.encode()).hexdigest(), 16) % 2 == 0 else "test"


class DatasetError(ValueError):
    """A question set that cannot be read; the message names the file and what is wrong."""


@dataclass(frozen=True, slots=True)
class Query:
    id: str
    question: str
    answers: tuple[str, ...]
    relevant: frozenset[str]


@dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    folder: Path
    queries: tuple[Query, ...]
    # Line number in corpus.jsonl -> corpus id: the reader names jsonl articles "corpus.jsonl#L<n>".
    ids_by_line: dict[int, str]
    # In-domain questions the corpus does not answer (unanswerable.jsonl), when the set has them.
    unanswerable: tuple[Query, ...] = ()

    @property
    def corpus(self) -> Path:
        return self.folder / CORPUS

    def corpus_id(self, article_path: str) -> str | None:
        _, _, line = article_path.rpartition("#L")
        return self.ids_by_line.get(int(line)) if line.isdigit() else None

    def sample(self, limit: int | None) -> Dataset:
        """Every n-th query, so a limited run still covers the whole set."""
        if limit is None or limit >= len(self.queries):
            return self
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        step = len(self.queries) / limit
        picked = tuple(self.queries[int(i * step)] for i in range(limit))
        share = max(1, round(limit * len(self.unanswerable) / len(self.queries))) if self.unanswerable else 0
        step_u = len(self.unanswerable) / share if share else 1
        unanswerable = tuple(self.unanswerable[int(i * step_u)] for i in range(share))
        return Dataset(self.name, self.folder, picked, self.ids_by_line, unanswerable)

    def split(self, name: str) -> Dataset:
        """The dev or test half (by a hash of each query id), or all of it."""
        if name not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {name!r}")
        if name == "all":
            return self
        keep = tuple(q for q in self.queries if split_of(q.id) == name)
        unanswerable = tuple(q for q in self.unanswerable if split_of(q.id) == name)
        return Dataset(self.name, self.folder, keep, self.ids_by_line, unanswerable)


def _jsonl(path: Path) -> list[tuple[int, dict]]:
    if not path.is_file():
        raise DatasetError(f"{path} is missing; a question set needs {CORPUS}, {QUERIES} and {QRELS}")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append((n, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{n}: invalid JSON ({exc.msg})") from None
    return rows


def load_dataset(folder: str | Path) -> Dataset:
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{str(folder)!r} is not a folder; give a question set such as corpora/eval/xquad_en")
    ids_by_line = {}
    for n, row in _jsonl(folder / CORPUS):
        if "id" not in row or "text" not in row:
            raise DatasetError(f"{folder / CORPUS}:{n}: a record needs 'id' and 'text'")
        ids_by_line[n] = str(row["id"])
    qrels: dict[str, set[str]] = {}
    qrels_path = folder / QRELS
    if qrels_path.is_file():
        for line in qrels_path.read_text(encoding="utf-8").splitlines()[1:]:
            parts = line.split("\t")
            if len(parts) >= 2 and (len(parts) < 3 or parts[2].strip() not in ("0", "")):
                qrels.setdefault(parts[0], set()).add(parts[1])
    queries = []
    for n, row in _jsonl(folder / QUERIES):
        if "id" not in row or "question" not in row:
            raise DatasetError(f"{folder / QUERIES}:{n}: a query needs 'id' and 'question'")
        qid = str(row["id"])
        relevant = qrels.get(qid) or set(map(str, row.get("doc_ids", [])))
        queries.append(Query(qid, row["question"], tuple(row.get("answers", [])), frozenset(relevant)))
    if not queries:
        raise DatasetError(f"{folder / QUERIES} holds no queries")
    unanswerable = []
    if (folder / UNANSWERABLE).is_file():
        for n, row in _jsonl(folder / UNANSWERABLE):
            if "id" not in row or "question" not in row:
                raise DatasetError(f"{folder / UNANSWERABLE}:{n}: a question needs 'id' and 'question'")
            unanswerable.append(Query(str(row["id"]), row["question"], (), frozenset()))
    return Dataset(folder.name, folder, tuple(queries), ids_by_line, tuple(unanswerable))


def cache_folder(dataset: Dataset, cache_root: Path) -> Path:
    """Seeds and index for this corpus: keyed by its content, so a changed corpus gets a new one."""
    digest = hashlib.sha256(dataset.corpus.read_bytes()).hexdigest()[:12]
    target = Path(cache_root) / f"{dataset.name}-{digest}"
    seeds = target / "seeds"
    if not (seeds / CORPUS).is_file():
        seeds.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dataset.corpus, seeds / CORPUS)
    return target


# --- metrics -------------------------------------------------------------------------------------


def article_ranking(hits: Sequence[Hit], dataset: Dataset) -> list[str]:
    """Corpus ids in the order their first passage was ranked."""
    seen: dict[str, None] = {}
    for hit in hits:
        cid = dataset.corpus_id(hit.article.path)
        if cid is not None:
            seen.setdefault(cid, None)
    return list(seen)


def answer_hit(answer: Answer, gold: Sequence[str], n: int) -> bool:
    golds = [normalize(g) for g in gold if normalize(g)]
    return any(g in normalize(c.excerpt) for c in answer.citations[:n] for g in golds)


def short_answer_correct(answer: Answer, gold: Sequence[str]) -> bool | None:
    """Whether the bold short answer holds a gold answer; None when no short answer was shown."""
    if answer.short_answer is None:
        return None
    return holds_gold(answer.short_answer, gold)


def holds_gold(shown: str, gold: Sequence[str]) -> bool:
    """Whether a shown short answer holds a gold answer (normalised): what ``wrong_bold`` counts."""
    shown_n = normalize(shown)
    return any(normalize(g) and normalize(g) in shown_n for g in gold)


def token_f1(shown: str, gold: str) -> float:
    """SQuAD's token F1 between two answers (normalised, as bags of words)."""
    a, b = normalize(shown).split(), normalize(gold).split()
    common = sum((Counter(a) & Counter(b)).values())
    if not common:
        return 0.0
    precision, recall = common / len(a), common / len(b)
    return 2 * precision * recall / (precision + recall)


def bold_right(shown: str, gold: Sequence[str]) -> bool:
    """A bold answer is right when it holds a gold answer or matches one with token F1 >= 0.5.

    Gold answers often carry a word of context ("aged 75", "signed in 2002"); the bold "75" or
    "2002" answers the question as well, and containment alone would count it wrong.
    """
    return holds_gold(shown, gold) or any(normalize(g) and token_f1(shown, g) >= 0.5 for g in gold)


def ranking_metrics(ranking: Sequence[Any], relevant: Collection[Any]) -> dict[str, float]:
    """One question's R@1/5/10, MRR@10 and nDCG@10: ``ranking`` best first, ``relevant`` not empty."""
    relevant = set(relevant)
    out = {f"R@{k}": len(relevant & set(ranking[:k])) / len(relevant) for k in CUTOFFS}
    first = next((i for i, d in enumerate(ranking[:10], 1) if d in relevant), None)
    dcg = sum(1 / math.log2(i + 1) for i, d in enumerate(ranking[:10], 1) if d in relevant)
    ideal = sum(1 / math.log2(i + 1) for i in range(1, min(len(relevant), 10) + 1))
    return out | {"MRR@10": 1 / first if first else 0.0, "nDCG@10": dcg / ideal}


@dataclass
class ModeScore:
    """Running totals for one search mode."""

    mode: str
    recall: dict[int, float] = field(default_factory=lambda: {k: 0.0 for k in CUTOFFS})
    mrr: float = 0.0
    ndcg: float = 0.0
    hits: dict[int, int] = field(default_factory=lambda: {n: 0 for n in HIT_AT})
    declined: int = 0
    count: int = 0
    short_shown: int = 0
    short_right: int = 0
    bold_right: int = 0
    seconds: list[float] = field(default_factory=list)
    confidences: list[float] = field(default_factory=list)

    def add(self, query: Query, ranking: list[str], answer: Answer, seconds: float) -> None:
        self.count += 1
        relevant = query.relevant
        if relevant:
            metrics = ranking_metrics(ranking, relevant)
            for k in CUTOFFS:
                self.recall[k] += metrics[f"R@{k}"]
            self.mrr += metrics["MRR@10"]
            self.ndcg += metrics["nDCG@10"]
        for n in HIT_AT:
            self.hits[n] += answer_hit(answer, query.answers, n)
        self.declined += not answer.confident
        correct = short_answer_correct(answer, query.answers)
        if correct is not None:
            self.short_shown += 1
            self.short_right += correct
            self.bold_right += bold_right(answer.short_answer or "", query.answers)
        self.seconds.append(seconds)
        self.confidences.append(answer.confidence)

    def summary(self) -> dict[str, float]:
        n = max(self.count, 1)
        ms = sorted(s * 1000 for s in self.seconds) or [0.0]
        out = {f"R@{k}": self.recall[k] / n for k in CUTOFFS}
        out |= {"MRR@10": self.mrr / n, "nDCG@10": self.ndcg / n}
        out |= {f"hit@{k}": self.hits[k] / n for k in HIT_AT}
        shown = max(self.short_shown, 1)
        out |= {
            # short: the bold answer holds a gold answer (of all questions); coverage: a bold answer
            # is shown; wrong bold: shown but wrong (of those shown).
            "short": self.short_right / n,
            "coverage": self.short_shown / n,
            "wrong_bold": (self.short_shown - self.short_right) / shown,
            # The same, with a bold answer right also when it matches a gold one with token F1 >= 0.5.
            "wrong_bold_f1": (self.short_shown - self.bold_right) / shown,
            "declined": self.declined / n,
            "ms_mean": statistics.fmean(ms),
            "ms_p95": ms[min(len(ms) - 1, int(0.95 * len(ms)))],
        }
        return {k: round(v, 4) for k, v in out.items()}


@dataclass(frozen=True, slots=True)
class Tradeoff:
    """At threshold t: the share of answerable and of unanswerable questions declined."""

    threshold: float
    answerable_declined: float
    unanswerable_declined: float


def tradeoffs(
    answerable: Sequence[float], unanswerable: Sequence[float], thresholds: Sequence[float] | None = None
) -> list[Tradeoff]:
    thresholds = thresholds or [round(0.2 + 0.025 * i, 3) for i in range(17)]
    rows = []
    for t in thresholds:
        rows.append(
            Tradeoff(
                t,
                sum(c < t for c in answerable) / max(len(answerable), 1),
                sum(c < t for c in unanswerable) / max(len(unanswerable), 1),
            )
        )
    return rows


def run(
    dataset: Dataset,
    answer_fn: Callable[[str, str], tuple[Answer, list[Hit]]],
    modes: Sequence[str],
    progress: Callable[[int], None] | None = None,
) -> dict[str, ModeScore]:
    """Asks every query in every mode; ``answer_fn(question, mode)`` is the retriever's answer_ranked."""
    scores = {m: ModeScore(m) for m in modes}
    for n, query in enumerate(dataset.queries):
        # Modes take turns going first: the first pays for embedding the question, the others reuse it.
        for mode in list(modes[n % len(modes) :]) + list(modes[: n % len(modes)]):
            started = time.perf_counter()
            answer, hits = answer_fn(query.question, mode)
            elapsed = time.perf_counter() - started
            scores[mode].add(query, article_ranking(hits, dataset), answer, elapsed)
        if progress:
            progress(1)
    return scores
