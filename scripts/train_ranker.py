"""Fit the sentence ranker and its thresholds on the dev halves of the eval sets.

    python scripts/train_ranker.py collect   # index each set, ask its dev questions, save features
    python scripts/train_ranker.py fit       # features -> retrieval/models/sentence_ranker.json
    python scripts/train_ranker.py compare   # grouped cross-validation on dev: this recipe vs others

`collect` needs the real model and takes minutes; it writes corpora/eval/ranker/dev_features.npz
(numbers only: features, each sentence's passage evidence (ranker.EVIDENCE), labels, and whether
the bold span found in each sentence is right, by token F1 >= 0.5 or containing a gold answer:
retrieval/evaluate.py bold_right).
`fit` is deterministic and takes seconds; tests/retrieval/test_ranker.py checks that it reproduces
the shipped JSON from the committed features. Only dev questions are used: test halves stay unseen.
`compare` scores models out of fold (5 folds grouped by question, so no question is judged by a
model that saw it) and prints each set's hit@1/hit@3 (the best-scored sentence holds a gold answer)
and decline rates, for the shipped answerability inputs and threshold rule and the others tried; LightGBM rankers join in when lightgbm is installed (the `experiments` extra).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "corpora" / "eval"
FEATURES_FILE = EVAL / "ranker" / "dev_features.npz"
SETS = ("xquad_en", "covidqa", "news_qa")
# Each set's questions are also asked of another set's corpus, where they must be declined.
CROSS = {"xquad_en": "covidqa", "covidqa": "xquad_en", "news_qa": "xquad_en"}
# The target the decline threshold is fitted to (on dev): at most this share of each set's
# answerable questions declined (the threshold is the lowest of the sets' own).
MAX_ANSWERABLE_DECLINED = 0.05
# Sentences not holding the answer paired with each one that does, when fitting the ranking.
PAIRS_PER_ANSWER = 10


def _retriever(dataset, cache: Path, settings, embedder):
    from newsbot.index.builder import IndexBuilder
    from newsbot.retrieval.evaluate import cache_folder
    from newsbot.retrieval.retriever import Retriever

    folder = cache_folder(dataset, cache)
    IndexBuilder.from_settings(settings, embedder).build(folder / "seeds", folder / "index", show_progress_bar=True)
    return Retriever.open(folder / "index", embedder=embedder, settings=settings, question_cache=0)


def _rows(retriever, question: str, gold: tuple[str, ...]) -> tuple[list[list[float]], list[list[float]]]:
    """One row per candidate sentence: features, label, span found, span right; and its passage's evidence."""
    from newsbot.retrieval.evaluate import bold_right
    from newsbot.retrieval.spans import answer_type, find_span
    from newsbot.retrieval.text import normalize

    composer, kind = retriever.composer, answer_type(question)
    ranking = retriever.rank(question, retriever.mode, retriever.top_k)
    golds = [normalize(g) for g in gold if normalize(g)]
    rows, evidence = [], []
    for c in composer.candidates(question, ranking.hits[: retriever.top_k], ranking.query_vector, kind):
        label = any(g in normalize(c.text) for g in golds)
        span = find_span(question, c.text, kind, c.entities)
        right = span is not None and bold_right(c.text[span.start : span.end], gold)
        rows.append([*c.features.tolist(), float(label), float(span is not None), float(right)])
        evidence.append(c.evidence.tolist())
    return rows, evidence


def collect(cache: Path, out: Path) -> None:
    from newsbot.config.settings import load_settings
    from newsbot.index.embedder import SentenceTransformerEmbedder
    from newsbot.retrieval.evaluate import load_dataset
    from newsbot.retrieval.ranker import EVIDENCE, FEATURES

    settings = load_settings()
    embedder = SentenceTransformerEmbedder(settings.model_name, settings.batch_size)
    present = [s for s in SETS if (EVAL / s / "queries.jsonl").is_file()]
    datasets = {s: load_dataset(EVAL / s).split("dev") for s in present}
    retrievers = {s: _retriever(datasets[s], cache, settings, embedder) for s in present}
    rows, evidence, groups, answerable, group = [], [], [], [], 0
    for name, dataset in datasets.items():
        asked = [(retrievers[name], q, True) for q in dataset.queries]
        asked += [(retrievers[name], q, False) for q in dataset.unanswerable]
        if CROSS[name] in retrievers:
            asked += [(retrievers[CROSS[name]], q, False) for q in dataset.queries]
        for n, (retriever, query, can) in enumerate(asked):
            found, seen = _rows(retriever, query.question, query.answers if can else ())
            if not found:  # a question with no candidates at all
                found, seen = [[0.0] * (len(FEATURES) + 3)], [[0.0] * len(EVIDENCE)]
            rows += found
            evidence += seen
            groups += [group] * len(found)
            answerable += [can] * len(found)
            group += 1
            if n % 200 == 0:
                print(f"{name}: {n}/{len(asked)}", file=sys.stderr)
    out.parent.mkdir(parents=True, exist_ok=True)
    data = np.asarray(rows, dtype=np.float32)
    np.savez_compressed(
        out,
        rows=data,
        evidence=np.asarray(evidence, dtype=np.float32),
        groups=np.asarray(groups, np.int32),
        answerable=np.asarray(answerable),
    )
    print(f"{len(data)} candidates from {group} questions -> {out}", file=sys.stderr)


def fit(features: Path, out: Path) -> dict:
    """Two logistic regressions and the decline threshold, all from the dev features."""
    from sklearn.linear_model import LogisticRegression

    from newsbot.retrieval.ranker import FEATURES, SentenceRanker, answerable_row

    x, evidence, label, groups, answerable = _load(features)
    # Which sentence answers: learned from pairs of one answering and one other sentence of the
    # same question (what matters is the order within a question), then scaled to a probability.
    sentences = _pairwise(LogisticRegression, x, label, groups, answerable)
    prob = sentences.predict(x)
    best: dict[int, int] = {}  # question -> its best candidate's row
    for i, g in enumerate(groups.tolist()):
        if g not in best or prob[i] > prob[best[g]]:
            best[g] = i
    at = np.asarray([best[g] for g in sorted(best)])
    can = answerable[at]
    # Whether anything answers: learned from every question's best candidate.
    inputs = np.asarray([answerable_row(x[i], prob[i], evidence[i]) for i in at])
    answerability = _logistic(LogisticRegression, inputs, can.astype(np.float64))
    confidence = answerability.predict(inputs)
    min_confidence = _threshold(confidence, can, _set_of_questions(len(at)))
    result = SentenceRanker(FEATURES, sentences, answerability, min_confidence).to_json()
    result["fitted_on"] = {
        "questions": len(at),
        "answerable": int(can.sum()),
        "candidates": len(x),
        "answerable_declined": round(float((confidence[can] < min_confidence).mean()), 4),
        "unanswerable_declined": round(float((confidence[~can] < min_confidence).mean()), 4),
    }
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return result


def _load(features: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Candidates' features, their passages' evidence, labels, question groups, answerable flags."""
    from newsbot.retrieval.ranker import EVIDENCE, FEATURES

    data = np.load(features, allow_pickle=False)
    rows = data["rows"].astype(np.float64)
    if "evidence" not in data or data["evidence"].shape != (len(rows), len(EVIDENCE)):
        raise SystemExit(f"{features} lacks the passage evidence {list(EVIDENCE)}: collect again")
    evidence = data["evidence"].astype(np.float64)
    return rows[:, : len(FEATURES)], evidence, rows[:, -3], data["groups"], data["answerable"].astype(bool)


def _set_of_questions(count: int) -> np.ndarray:
    """Each question's set (for answerable ones: the set whose corpus answers it), by group."""
    return np.asarray([part.split(" ")[0] for part in _parts_of_questions(count)], dtype=object)


def _threshold(confidence: np.ndarray, can: np.ndarray, sets: np.ndarray, share: float = MAX_ANSWERABLE_DECLINED):
    """The highest threshold that declines no more than ``share`` of any set's answerable questions."""
    return float(min(np.quantile(confidence[can & (sets == s)], share) for s in np.unique(sets[can])))


def _pairwise(model_class, x: np.ndarray, label: np.ndarray, groups: np.ndarray, answerable: np.ndarray):
    """A linear ranking model fitted on within-question pairs (RankNet-style), with Platt scaling."""
    from newsbot.retrieval.ranker import Logistic

    mean, scale = x[answerable].mean(axis=0), x[answerable].std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    rng = np.random.default_rng(0)
    by_question: dict[int, list[int]] = {}
    for i in np.flatnonzero(answerable):
        by_question.setdefault(int(groups[i]), []).append(int(i))
    diffs = []
    for g in sorted(by_question):
        rows = np.asarray(by_question[g])
        pos, neg = rows[label[rows] > 0], rows[label[rows] == 0]
        if not len(neg):
            continue
        for p in pos:
            for n in rng.choice(neg, size=min(len(neg), PAIRS_PER_ANSWER), replace=False):
                diffs.append(z[p] - z[n])
    pairs = np.asarray(diffs)
    ranking = model_class(C=0.01, max_iter=3000, fit_intercept=False).fit(
        np.vstack([pairs, -pairs]), np.r_[np.ones(len(pairs)), np.zeros(len(pairs))]
    )
    w = ranking.coef_[0]
    platt = model_class(C=1.0, max_iter=2000).fit((z[answerable] @ w)[:, None], label[answerable])
    return Logistic(mean, scale, w * platt.coef_[0][0], float(platt.intercept_[0]))


def _logistic(model_class, x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None):
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    fitted = model_class(C=1.0, max_iter=2000).fit((x - mean) / scale, y, sample_weight=weights)
    from newsbot.retrieval.ranker import Logistic

    return Logistic(mean, scale, fitted.coef_[0], float(fitted.intercept_[0]))


def _question_ranges() -> dict[str, tuple[int, int]]:
    """Which groups of the features file are which questions, in the order ``collect`` asks them."""
    from newsbot.retrieval.evaluate import load_dataset

    present = [s for s in SETS if (EVAL / s / "queries.jsonl").is_file()]
    ranges, at = {}, 0
    for name in present:
        dataset = load_dataset(EVAL / name).split("dev")
        for part, n in (
            (name, len(dataset.queries)),
            (f"{name} unanswerable", len(dataset.unanswerable)),
            (f"{name} asked of {CROSS[name]}", len(dataset.queries) if CROSS[name] in present else 0),
        ):
            if n:
                ranges[part] = (at, at + n)
                at += n
    return ranges


def _out_of_fold(fit_score, x, label, groups, answerable, folds: int = 5) -> np.ndarray:
    from sklearn.model_selection import GroupKFold

    score = np.zeros(len(x))
    for train, held in GroupKFold(folds).split(x, groups=groups):
        score[held] = fit_score(x[train], label[train], groups[train], answerable[train], x[held])
    return score


def _pairwise_scores(x_train, label, groups, answerable, x_held) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    return _pairwise(LogisticRegression, x_train, label, groups, answerable).predict(x_held)


def _lightgbm_scores(params: dict):
    def fit_score(x_train, label, groups, answerable, x_held) -> np.ndarray:
        import lightgbm

        x_train, label, groups = x_train[answerable], label[answerable], groups[answerable]
        sizes = np.diff(np.flatnonzero(np.r_[True, groups[1:] != groups[:-1], True]))
        model = lightgbm.LGBMRanker(**params, random_state=0, n_jobs=1, verbose=-1)
        return model.fit(x_train, label, group=sizes).predict(x_held)

    return fit_score


def compare(features: Path) -> None:
    """Out-of-fold hit@1/hit@3 per set for the shipped recipe and the alternatives tried."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    from newsbot.retrieval.ranker import ANSWERABLE_EVIDENCE, ANSWERABLE_FEATURES, EVIDENCE, FEATURES

    x, evidence, label, groups, answerable = _load(features)
    ranges = _question_ranges()
    if max(hi for _, hi in ranges.values()) != groups.max() + 1:
        raise SystemExit(f"{features} does not hold the questions the eval sets' dev halves have now: collect again")
    by_group = np.split(np.arange(len(x)), np.flatnonzero(np.diff(groups)) + 1)
    models = {"logistic, pairwise (shipped)": _pairwise_scores}
    try:
        import lightgbm  # noqa: F401
    except ImportError:
        print("lightgbm is not installed: comparing the shipped recipe only", file=sys.stderr)
    else:
        # Monotone where more can only mean a better sentence: similarity, overlaps, passage, typed.
        monotone = [1] * 8 + [0] * (len(FEATURES) - 8)
        small = {"n_estimators": 100, "learning_rate": 0.05, "num_leaves": 7, "min_child_samples": 100}
        models["lightgbm lambdarank, 7 leaves"] = _lightgbm_scores(small)
        models["lightgbm lambdarank, 15 leaves, monotone"] = _lightgbm_scores(
            {"n_estimators": 300, "learning_rate": 0.03, "num_leaves": 15, "min_child_samples": 50,
             "subsample": 0.8, "subsample_freq": 1, "monotone_constraints": monotone}
        )  # fmt: skip
    answered = [name for name in ranges if " " not in name]
    for model, fit_score in models.items():
        score = _out_of_fold(fit_score, x, label, groups, answerable)
        cells = []
        for name in answered:
            lo, hi = ranges[name]
            order = [g[np.argsort(-score[g], kind="stable")] for g in by_group[lo:hi]]
            hit1 = np.mean([label[o[0]] > 0 for o in order])
            hit3 = np.mean([label[o[:3]].max() > 0 for o in order])
            cells.append(f"{name} hit@1 {hit1:.3f} hit@3 {hit3:.3f}")
        print(f"{model}: " + "; ".join(cells))
    # Declining, out of fold: the shipped sentence and answerability recipes and the dev threshold
    # refitted on each fold's training questions, judged on its held-out ones; beside them the
    # answerability inputs and threshold rules tried.
    sets = _set_of_questions(groups.max() + 1)
    shipped = tuple(ANSWERABLE_EVIDENCE)
    variants = {f"evidence {list(shipped)}, each set's answerable <= 5 % (shipped)": (shipped, "each", 1.0)}
    for extra in ((), *((e,) for e in EVIDENCE), EVIDENCE):
        if extra != shipped:
            variants[f"evidence {list(extra)}, each set <= 5 %"] = (extra, "each", 1.0)
    variants[f"evidence {list(shipped)}, all answerable pooled <= 5 % (before)"] = (shipped, "pooled", 1.0)
    variants[f"evidence {list(shipped)}, own out-of-corpus questions weighted x5"] = (shipped, "each", 5.0)
    variants["no evidence, pooled <= 5 % (main's recipe)"] = ((), "pooled", 1.0)
    own = np.asarray([s.endswith("unanswerable") for s in _parts_of_questions(len(sets))])
    questions = np.arange(groups.max() + 1)
    declined = {name: np.zeros(len(questions), dtype=bool) for name in variants}
    for train_q, held_q in GroupKFold(5).split(questions, groups=questions):
        train = np.isin(groups, train_q)
        sentences = _pairwise(LogisticRegression, x[train], label[train], groups[train], answerable[train])
        prob = sentences.predict(x)
        best = np.asarray([g[np.argmax(prob[g])] for g in by_group])
        can = answerable[best]
        base = np.column_stack([prob[best], x[best][:, [FEATURES.index(f) for f in ANSWERABLE_FEATURES]]])
        for name, (extra, rule, weight) in variants.items():
            inputs = np.column_stack([base, evidence[best][:, [EVIDENCE.index(f) for f in extra]]])
            weights = np.where(own[train_q], weight, 1.0)
            model = _logistic(LogisticRegression, inputs[train_q], can[train_q].astype(np.float64), weights)
            confidence = model.predict(inputs)
            kept = sets[train_q] if rule == "each" else np.zeros(len(train_q), dtype=object)
            threshold = _threshold(confidence[train_q], can[train_q], kept)
            declined[name][held_q] = confidence[held_q] < threshold
    for name, out in declined.items():
        print(f"declined ({name}): " + "; ".join(f"{n} {out[lo:hi].mean():.3f}" for n, (lo, hi) in ranges.items()))


def _parts_of_questions(count: int) -> list[str]:
    """Each question's part of the features file ("news_qa unanswerable", ...), by group."""
    ranges = _question_ranges()
    if max(hi for _, hi in ranges.values()) != count:
        raise SystemExit(
            "the features file does not hold the questions the eval sets' dev halves have now: collect again"
        )
    parts = [""] * count
    for part, (lo, hi) in ranges.items():
        parts[lo:hi] = [part] * (hi - lo)
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    c = sub.add_parser("collect", help="ask every dev question and save the candidates' features")
    c.add_argument("--cache", type=Path, default=ROOT / "data" / "eval-cache", help="folder for the indexed corpora")
    c.add_argument("--out", type=Path, default=FEATURES_FILE, help="where to write the features")
    f = sub.add_parser("fit", help="fit the ranker and thresholds from saved features")
    f.add_argument("--features", type=Path, default=FEATURES_FILE, help="features written by collect")
    f.add_argument(
        "--out",
        type=Path,
        default=ROOT / "retrieval" / "models" / "sentence_ranker.json",
        help="where to write the model",
    )
    cmp = sub.add_parser("compare", help="grouped cross-validation on the dev features: shipped recipe vs others")
    cmp.add_argument("--features", type=Path, default=FEATURES_FILE, help="features written by collect")
    args = parser.parse_args()
    if args.step == "collect":
        collect(args.cache, args.out)
    elif args.step == "compare":
        compare(args.features)
    else:
        print(json.dumps(fit(args.features, args.out)["fitted_on"]))


if __name__ == "__main__":
    main()
