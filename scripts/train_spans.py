"""Fit the span model and its bold threshold on the dev halves of the eval sets.

    python scripts/train_spans.py collect   # ask each set's dev questions, save every candidate span
    python scripts/train_spans.py fit       # spans -> retrieval/models/span_ranker.json

`collect` needs the real model, the shipped sentence ranker and minutes; it writes
corpora/eval/ranker/dev_spans.npz (numbers only: one feature row per candidate in the first excerpt
of each confident answer, whether it is right by retrieval/evaluate.py's bold_right, its question).
Questions that must be declined but were not count too: every candidate there is wrong.
`fit` is deterministic; tests/retrieval/test_span_ranker.py checks it reproduces the shipped JSON.
The threshold is chosen on out-of-fold probabilities (5 folds by question), so it is not fitted to
the very answers it was learned from; the shipped model is then fitted on all of dev.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "corpora" / "eval"
SPANS_FILE = EVAL / "ranker" / "dev_spans.npz"
SETS = ("xquad_en", "covidqa", "news_qa")
# Bold answers shown on dev must be right at least this often, and at least this many shown.
MIN_BOLD_PRECISION = 0.90
MIN_SHOWN = 30
FOLDS = 5


def collect(cache: Path, out: Path) -> None:
    from newsbot.config.settings import load_settings
    from newsbot.index.builder import IndexBuilder
    from newsbot.index.embedder import SentenceTransformerEmbedder
    from newsbot.retrieval.evaluate import bold_right, cache_folder, load_dataset
    from newsbot.retrieval.retriever import Retriever
    from newsbot.retrieval.span_ranker import Passage, span_rows

    settings = load_settings()
    embedder = SentenceTransformerEmbedder(settings.model_name, settings.batch_size)
    rows, right, groups, sets, group = [], [], [], [], 0
    for set_no, name in enumerate(SETS):
        if not (EVAL / name / "queries.jsonl").is_file():
            continue
        dataset = load_dataset(EVAL / name).split("dev")
        folder = cache_folder(dataset, cache)
        IndexBuilder.from_settings(settings, embedder).build(folder / "seeds", folder / "index", show_progress_bar=True)
        retriever = Retriever.open(folder / "index", embedder=embedder, settings=settings, question_cache=0)
        asked = [(q, q.answers) for q in dataset.queries] + [(q, ()) for q in dataset.unanswerable]
        for n, (query, gold) in enumerate(asked):
            ranking = retriever.rank(query.question, retriever.mode, retriever.top_k)
            short = retriever.composer.shortlist(query.question, ranking.hits[: retriever.top_k], ranking.query_vector)
            group += 1
            if not short.confident:
                continue
            best = short.ranked[0]
            others = [Passage(ex.text, ex.score) for ex in short.excerpts]
            found, x = span_rows(
                query.question, short.kind, Passage(best.text, best.score, best.entities), others, short.confidence
            )
            for c, row in zip(found, x, strict=True):
                rows.append(row)
                right.append(bool(gold) and bold_right(best.text[c.start : c.end], gold))
                groups.append(group)
                sets.append(set_no)
            if n % 200 == 0:
                print(f"{name}: {n}/{len(asked)}", file=sys.stderr)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        rows=np.asarray(rows, dtype=np.float32),
        right=np.asarray(right),
        groups=np.asarray(groups, np.int32),
        sets=np.asarray(sets, np.int8),
    )
    print(f"{len(rows)} candidates from {len(set(groups))} confident answers -> {out}", file=sys.stderr)


def fit(spans: Path, out: Path) -> dict:
    """The span model from every dev candidate; its threshold from out-of-fold probabilities."""
    from newsbot.retrieval.span_ranker import SPAN_FEATURES, SpanRanker

    data = np.load(spans, allow_pickle=False)
    x, y, groups = data["rows"].astype(np.float64), data["right"].astype(np.float64), data["groups"]
    held_out = np.zeros(len(x))
    fold = groups % FOLDS
    for k in range(FOLDS):
        model = _logistic(x[fold != k], y[fold != k])
        held_out[fold == k] = model.predict(x[fold == k])
    model = _logistic(x, y)
    picked_out, right_out = _picks(held_out, y, groups)
    threshold = _threshold(picked_out, right_out)
    picked, right = _picks(model.predict(x), y, groups)
    shown_out = picked_out >= threshold
    result = SpanRanker(SPAN_FEATURES, model, threshold).to_json()
    result["fitted_on"] = {
        "answers": len(picked),
        "candidates": len(x),
        "held_out_shown": round(float(shown_out.mean()), 4),
        "held_out_right": round(float(right_out[shown_out].mean()), 4) if shown_out.any() else None,
        "best_candidate_right": round(float(right.mean()), 4),
    }
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return result


def _picks(probability: np.ndarray, right: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per answer: the probability of its most probable candidate, and whether that one is right."""
    best: dict[int, int] = {}
    for i, g in enumerate(groups.tolist()):
        if g not in best or probability[i] > probability[best[g]]:
            best[g] = i
    at = np.asarray([best[g] for g in sorted(best)], dtype=np.int64)
    return probability[at], right[at]


def _threshold(probability: np.ndarray, right: np.ndarray) -> float:
    """The lowest probability at which the bold answers shown are right often enough."""
    for t in sorted(set(np.round(probability, 4).tolist())):
        keep = probability >= t
        if keep.sum() >= MIN_SHOWN and right[keep].mean() >= MIN_BOLD_PRECISION:
            return float(t)
    return 1.0  # never precise enough: show no bold answers


def _logistic(x: np.ndarray, y: np.ndarray):
    from sklearn.linear_model import LogisticRegression

    sys.path.insert(0, str(Path(__file__).parent))
    from train_ranker import _logistic as standardised_logistic  # one way to fit a Logistic

    return standardised_logistic(LogisticRegression, x, y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    c = sub.add_parser("collect", help="ask every dev question and save the candidate spans' features")
    c.add_argument("--cache", type=Path, default=ROOT / "data" / "eval-cache", help="folder for the indexed corpora")
    c.add_argument("--out", type=Path, default=SPANS_FILE, help="where to write the spans")
    f = sub.add_parser("fit", help="fit the span model and threshold from saved spans")
    f.add_argument("--spans", type=Path, default=SPANS_FILE, help="spans written by collect")
    f.add_argument(
        "--out", type=Path, default=ROOT / "retrieval" / "models" / "span_ranker.json", help="where to write the model"
    )
    args = parser.parse_args()
    if args.step == "collect":
        collect(args.cache, args.out)
    else:
        print(json.dumps(fit(args.spans, args.out)["fitted_on"]))


if __name__ == "__main__":
    main()
