"""Fit the span model and its bold threshold on the dev halves of the eval sets.

    python scripts/train_spans.py collect   # ask each set's dev questions, save the answers and their spans
    python scripts/train_spans.py spans     # saved answers -> spans again (after a change to the features)
    python scripts/train_spans.py fit       # spans -> retrieval/models/span_ranker.json

`collect` needs the real model, the shipped sentence ranker and minutes; it saves what the span
model reads of every dev answer (question, gold answers, kind, confidence, the first excerpt with
its entities, the next-best excerpts) to data/span-shortlists.jsonl (not committed: it is text
from the corpora), then runs `spans`. `spans` needs no model and takes seconds: it writes
corpora/eval/ranker/dev_spans.npz (numbers only: one feature row per candidate in the first
excerpt of each confident answer, whether it is right, its question and set). Right means the
candidate holds a gold answer, as `newsbot eval` counts a bold answer right (`wrong_bold`);
`right_f1` (or token F1 >= 0.5) is kept for the record, not fitted on: "$400 million" against a
gold "$230 million" has token F1 0.5. Questions that must be declined but were not count too:
every candidate there is wrong.
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
# Bold answers shown on dev (out of fold) must be right at least this often, pooled over the sets,
# and at least this many shown: fewer say too little about the rate.
MIN_BOLD_PRECISION = 0.90
MIN_SHOWN = 20
FOLDS = 5
# Wilson bounds, one-sided. Pooled, the lower bound (90 % confidence) of the share right must reach
# MIN_POOLED_BOUND too (20 answers at 90 % give 0.78; the raw rate alone lets the lowest threshold
# that clears it be the luckiest one). No set may be clearly below MIN_BOLD_PRECISION: its upper
# bound (95 % confidence) must reach it.
BOUND_Z = 1.2816
SET_BOUND_Z = 1.6449
MIN_POOLED_BOUND = 0.75
SHORTLISTS_FILE = ROOT / "data" / "span-shortlists.jsonl"


def collect(cache: Path, shortlists: Path) -> None:
    """Ask every dev question; save what the span model reads of each answer (text, not features)."""
    from newsbot.config.settings import load_settings
    from newsbot.index.builder import IndexBuilder
    from newsbot.index.embedder import SentenceTransformerEmbedder
    from newsbot.retrieval.evaluate import cache_folder, load_dataset
    from newsbot.retrieval.retriever import Retriever
    from newsbot.retrieval.span_ranker import SUPPORT_EXCERPTS

    settings = load_settings()
    embedder = SentenceTransformerEmbedder(settings.model_name, settings.batch_size)
    shortlists.parent.mkdir(parents=True, exist_ok=True)
    with shortlists.open("w", encoding="utf-8") as out:
        for name in SETS:
            if not (EVAL / name / "queries.jsonl").is_file():
                continue
            dataset = load_dataset(EVAL / name).split("dev")
            folder = cache_folder(dataset, cache)
            IndexBuilder.from_settings(settings, embedder).build(
                folder / "seeds", folder / "index", show_progress_bar=True
            )
            retriever = Retriever.open(folder / "index", embedder=embedder, settings=settings, question_cache=0)
            asked = [(q, q.answers) for q in dataset.queries] + [(q, ()) for q in dataset.unanswerable]
            for n, (query, gold) in enumerate(asked):
                ranking = retriever.rank(query.question, retriever.mode, retriever.top_k)
                short = retriever.composer.shortlist(
                    query.question, ranking.hits[: retriever.top_k], ranking.query_vector
                )
                best = short.ranked[0] if short.ranked else None
                # The next-best excerpts the support feature reads (a few spare for duplicates).
                others = sorted(short.excerpts, key=lambda ex: -ex.score)[: 4 * SUPPORT_EXCERPTS]
                record = {
                    "set": name,
                    "id": query.id,
                    "question": query.question,
                    "gold": list(gold),
                    "kind": short.kind,
                    "confidence": short.confidence,
                    "confident": short.confident,
                    "best": None
                    if best is None
                    else {
                        "text": best.text,
                        "score": best.score,
                        "entities": None
                        if best.entities is None
                        else [[e.start, e.end, e.label] for e in best.entities],
                    },
                    "others": [[ex.text, ex.score] for ex in others],
                }
                out.write(json.dumps(record) + "\n")
                if n % 200 == 0:
                    print(f"{name}: {n}/{len(asked)}", file=sys.stderr)
    print(f"answers -> {shortlists}", file=sys.stderr)


def spans(shortlists: Path, out: Path) -> None:
    """One feature row per candidate in the first excerpt of each confident answer, and whether it is right."""
    from newsbot.index.entities import Entity
    from newsbot.retrieval.evaluate import bold_right, holds_gold
    from newsbot.retrieval.span_ranker import Passage, span_rows

    rows, right, right_f1, groups, sets = [], [], [], [], []
    with shortlists.open(encoding="utf-8") as lines:
        for group, line in enumerate(lines, 1):
            answer = json.loads(line)
            if not answer["confident"] or answer["best"] is None:
                continue
            best = answer["best"]
            entities = None if best["entities"] is None else tuple(Entity(*e) for e in best["entities"])
            others = [Passage(text, score) for text, score in answer["others"]]
            found, x = span_rows(
                answer["question"],
                answer["kind"],
                Passage(best["text"], best["score"], entities),
                others,
                answer["confidence"],
            )
            for c, row in zip(found, x, strict=True):
                rows.append(row)
                shown = best["text"][c.start : c.end]
                right.append(holds_gold(shown, answer["gold"]))
                right_f1.append(bold_right(shown, answer["gold"]))
                groups.append(group)
                sets.append(SETS.index(answer["set"]))
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        rows=np.asarray(rows, dtype=np.float32),
        right=np.asarray(right),
        right_f1=np.asarray(right_f1),
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
    answer_set = _per_answer(data["sets"], groups)
    picked_out, right_out = _picks(held_out, y, groups)
    threshold = _threshold(picked_out, right_out, answer_set)
    picked, right = _picks(model.predict(x), y, groups)
    _, right_f1_out = _picks(held_out, data["right_f1"].astype(np.float64), groups)
    shown_out = picked_out >= threshold
    result = SpanRanker(SPAN_FEATURES, model, threshold).to_json()
    result["fitted_on"] = {
        "answers": len(picked),
        "candidates": len(x),
        "held_out_shown": round(float(shown_out.mean()), 4),
        "held_out_right": round(float(right_out[shown_out].mean()), 4) if shown_out.any() else None,
        "held_out_right_lower_bound": round(_bound(right_out[shown_out].sum(), shown_out.sum(), -BOUND_Z), 4),
        "held_out_right_f1": round(float(right_f1_out[shown_out].mean()), 4) if shown_out.any() else None,
        "held_out_by_set": {
            name: [int(shown_out[answer_set == n].sum()), int(right_out[shown_out & (answer_set == n)].sum())]
            for n, name in enumerate(SETS)
        },
        "best_candidate_right": round(float(right.mean()), 4),
    }
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return result


def _per_answer(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """One value per answer (the candidates of an answer share it), in _picks' order."""
    first: dict[int, int] = {}
    for i, g in enumerate(groups.tolist()):
        first.setdefault(g, i)
    return values[np.asarray([first[g] for g in sorted(first)], dtype=np.int64)]


def _picks(probability: np.ndarray, right: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per answer: the probability of its most probable candidate, and whether that one is right."""
    best: dict[int, int] = {}
    for i, g in enumerate(groups.tolist()):
        if g not in best or probability[i] > probability[best[g]]:
            best[g] = i
    at = np.asarray([best[g] for g in sorted(best)], dtype=np.int64)
    return probability[at], right[at]


def _bound(right: float, shown: float, z: float) -> float:
    """Wilson's confidence bound on the share right: ``z`` standard errors down (< 0) or up (> 0)."""
    if shown == 0:
        return 0.0 if z < 0 else 1.0
    p, z2 = right / shown, z**2
    centre = p + z2 / (2 * shown)
    margin = abs(z) * np.sqrt(p * (1 - p) / shown + z2 / (4 * shown**2))
    return float((centre + np.sign(z) * margin) / (1 + z2 / shown))


def _threshold(probability: np.ndarray, right: np.ndarray, answer_set: np.ndarray) -> float:
    """The lowest probability at which the bold answers shown are right often enough, on every set.

    Pooled, the raw rate must reach MIN_BOLD_PRECISION and its lower confidence bound
    MIN_POOLED_BOUND: with a few dozen answers shown the raw rate swings by several points from one
    question to the next. Each set is then tested on its own, so one set's easy cases do not carry
    another's errors: a threshold is refused when a set's bold answers are clearly worse than
    MIN_BOLD_PRECISION (their upper bound falls below it); a set with only a few bold answers
    cannot refuse it on their strength alone.
    """
    # Rounded down to the 4 decimals the model file keeps, so the shipped threshold shows the same answers.
    for t in sorted(set((np.floor(probability * 1e4) / 1e4).tolist())):
        keep = probability >= t
        if keep.sum() < MIN_SHOWN or right[keep].mean() < MIN_BOLD_PRECISION:
            continue
        if _bound(right[keep].sum(), keep.sum(), -BOUND_Z) < MIN_POOLED_BOUND:
            continue
        by_set = [keep & (answer_set == s) for s in set(answer_set.tolist())]
        if all(_bound(right[shown].sum(), shown.sum(), SET_BOUND_Z) >= MIN_BOLD_PRECISION for shown in by_set):
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
    c = sub.add_parser("collect", help="ask every dev question, save the answers, then their candidate spans")
    c.add_argument("--cache", type=Path, default=ROOT / "data" / "eval-cache", help="folder for the indexed corpora")
    c.add_argument("--shortlists", type=Path, default=SHORTLISTS_FILE, help="where to save the answers")
    c.add_argument("--out", type=Path, default=SPANS_FILE, help="where to write the spans")
    s = sub.add_parser("spans", help="saved answers -> candidate spans' features (no model needed)")
    s.add_argument("--shortlists", type=Path, default=SHORTLISTS_FILE, help="answers saved by collect")
    s.add_argument("--out", type=Path, default=SPANS_FILE, help="where to write the spans")
    f = sub.add_parser("fit", help="fit the span model and threshold from saved spans")
    f.add_argument("--spans", type=Path, default=SPANS_FILE, help="spans written by collect")
    f.add_argument(
        "--out", type=Path, default=ROOT / "retrieval" / "models" / "span_ranker.json", help="where to write the model"
    )
    args = parser.parse_args()
    if args.step == "collect":
        collect(args.cache, args.shortlists)
    if args.step in ("collect", "spans"):
        spans(args.shortlists, args.out)
    if args.step == "fit":
        print(json.dumps(fit(args.spans, args.out)["fitted_on"]))


if __name__ == "__main__":
    main()
