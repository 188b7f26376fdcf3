"""Fit the /follow alert threshold on news_qa's dev half and measure it on the test half.

    python scripts/calibrate_follow.py [--target-precision 0.9] [--cache data/eval-cache]

Each news_qa question is a topic twice: as asked, and as its content words only ("ren tv
broadcasting years"), the way people write /follow. A topic's matching articles are its gold
articles; every other article is non-matching. Scoring every (topic, article) pair of a 1,658
article corpus takes hours, so the non-matching ones are counted in two parts: the first
NEAR_MISSES articles of the topic's unrestricted search (the near misses, which hold most of the
risk) are scored, and of the rest a fixed random sample of RANDOM_NEGATIVES per topic is scored
and stands for all of them (each counts rest / sample). Precision counts those weights.

The threshold is the lowest score at which dev precision reaches the target (an unwanted alert is
worse than a missed one), then dev and test precision/recall at it are written with it to
follow/threshold.json. Needs the real model; takes about ten minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATASET = ROOT / "corpora" / "eval" / "news_qa"
OUT = ROOT / "follow" / "threshold.json"
POOL = 50  # passages of the unrestricted search
NEAR_MISSES = 10  # of their articles, the first this many (not matching) are scored as near misses
RANDOM_NEGATIVES = 10
SEED = 14
CURVE = (0.5, 0.8, 0.9, 0.95, 0.98)  # thresholds reported beside the fitted one


@dataclass(frozen=True, slots=True)
class Scored:
    """One (topic, article) pair: its score, whether it matches, and how many pairs it stands for."""

    score: float
    matching: bool
    weight: float


def _retriever(cache: Path):
    from newsbot.config.settings import load_settings
    from newsbot.index.builder import IndexBuilder
    from newsbot.index.embedder import SentenceTransformerEmbedder
    from newsbot.index.onnx_embedder import query_embedder
    from newsbot.retrieval.evaluate import cache_folder, load_dataset
    from newsbot.retrieval.retriever import Retriever

    dataset = load_dataset(DATASET)
    settings = load_settings()
    folder = cache_folder(dataset, cache)
    builder_embedder = SentenceTransformerEmbedder(settings.model_name, settings.batch_size)
    IndexBuilder.from_settings(settings, builder_embedder).build(folder / "seeds", folder / "index")
    # What `newsbot serve` answers with: the ONNX export of the same model, when there is one.
    embedder = query_embedder(folder / "index", settings.model_name) or builder_embedder
    return dataset, Retriever.open(folder / "index", embedder=embedder, settings=settings)


def topics_of(question: str) -> list[str]:
    from newsbot.retrieval.text import content_words

    keywords = " ".join(content_words(question))
    return [question] + ([keywords] if keywords and keywords != question else [])


def score_split(dataset, retriever, split: str) -> list[Scored]:
    from newsbot.follow.matching import topic_answer
    from newsbot.follow.store import topic_key

    ids = {dataset.corpus_id(a.path): a.id for a in retriever.reader.chunks.all_articles()}
    everything = sorted(ids.values())
    rng = random.Random(SEED)
    scored: list[Scored] = []
    queries = dataset.split(split).queries
    for n, query in enumerate(queries, 1):
        gold = {ids[c] for c in query.relevant if c in ids}
        for topic in topics_of(query.question):
            words = topic_key(topic)
            near = dict.fromkeys(h.article.id for h in retriever.search(words, k=POOL))
            near_misses = [a for a in near if a not in gold][:NEAR_MISSES]
            rest = [a for a in everything if a not in gold and a not in near_misses]
            sample = rng.sample(rest, min(RANDOM_NEGATIVES, len(rest)))
            weight = len(rest) / len(sample) if sample else 0.0
            for article, matching, w in (
                [(a, True, 1.0) for a in sorted(gold)]
                + [(a, False, 1.0) for a in near_misses]
                + [(a, False, weight) for a in sample]
            ):
                scored.append(Scored(topic_answer(retriever, words, article).confidence, matching, w))
        print(f"\r{split}: {n}/{len(queries)} questions", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return scored


def at(scored: list[Scored], threshold: float) -> dict[str, float]:
    """Precision (non-matching pairs weighted), recall and counts of alerts at ``threshold``."""
    hits = sum(1 for s in scored if s.matching and s.score >= threshold)
    wanted = sum(1 for s in scored if s.matching)
    unwanted = sum(s.weight for s in scored if not s.matching and s.score >= threshold)
    return {
        "precision": round(hits / (hits + unwanted), 4) if hits + unwanted else 1.0,
        "recall": round(hits / wanted, 4) if wanted else 0.0,
        "matching_pairs": wanted,
        "alerts_wanted": hits,
        "alerts_unwanted": round(unwanted, 1),
    }


def fit(scored: list[Scored], target: float) -> float:
    """The lowest threshold whose precision reaches ``target``: the most recall at that precision."""
    for threshold in sorted({round(s.score, 4) for s in scored if s.matching}):
        if at(scored, threshold)["precision"] >= target:
            return threshold
    raise SystemExit(f"no threshold reaches precision {target} on dev; lower --target-precision")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target-precision", type=float, default=0.9)
    parser.add_argument("--cache", type=Path, default=ROOT / "data" / "eval-cache")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--save-scores", type=Path, help="Also write every scored pair here (JSON), for study.")
    args = parser.parse_args()
    started = time.monotonic()
    dataset, retriever = _retriever(args.cache)
    dev = score_split(dataset, retriever, "dev")
    threshold = fit(dev, args.target_precision)
    test = score_split(dataset, retriever, "test")
    result = {
        "threshold": threshold,
        "score": "Answer.confidence of the topic answered from one article alone (Retriever.answer_within)",
        "fitted": f"lowest threshold with precision >= {args.target_precision} on news_qa dev; "
        "topics = each question as asked and as its content words; matching = its gold articles; "
        f"non-matching = the first {NEAR_MISSES} other articles of the topic's search, plus "
        f"{RANDOM_NEGATIVES} random others per topic weighted to stand for all the rest (seed {SEED})",
        "script": "python scripts/calibrate_follow.py",
        "dev": at(dev, threshold),
        "test": at(test, threshold),
        "curve": {str(t): {"dev": at(dev, t), "test": at(test, t)} for t in sorted({*CURVE, threshold})},
    }
    if args.save_scores:
        pairs = {
            name: [[s.score, s.matching, s.weight] for s in split] for name, split in (("dev", dev), ("test", test))
        }
        args.save_scores.write_text(json.dumps(pairs), encoding="utf-8")
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    print(f"{time.monotonic() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
