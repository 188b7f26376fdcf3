"""Measure `date_boost` on the dev halves: the eval questions whose date words only prefer a date.

    python scripts/fit_date_boost.py                      # dev halves, boosts 0 .. 1
    python scripts/fit_date_boost.py --split test         # report only; never choose on test

Only questions with a date window change with the boost, and only those whose window is not
explicit (an explicit one filters, whatever the boost), so only they are asked. A set whose
articles carry no dates (xquad_en, covidqa) has none. Prints one row per boost: article recall,
MRR and answer hits over those questions, answerable ones declined, and unanswerable ones declined.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "corpora" / "eval"
SETS = ("xquad_en", "covidqa", "news_qa")
BOOSTS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("dev", "test"), default="dev", help="Which half to ask (fit on dev).")
    parser.add_argument("--cache", type=Path, default=ROOT / "data" / "eval-cache", help="Indexed corpora folder.")
    parser.add_argument("--boosts", type=float, nargs="+", default=BOOSTS, help="Boost values to measure.")
    args = parser.parse_args()

    from newsbot.config.settings import load_settings
    from newsbot.index.builder import IndexBuilder
    from newsbot.index.embedder import SentenceTransformerEmbedder
    from newsbot.index.folder import IndexReader
    from newsbot.retrieval.dates import find_date_window
    from newsbot.retrieval.evaluate import ModeScore, article_ranking, cache_folder, load_dataset
    from newsbot.retrieval.retriever import Retriever

    settings = load_settings()
    embedder = SentenceTransformerEmbedder(settings.model_name, settings.batch_size)
    for name in SETS:
        dataset = load_dataset(EVAL / name).split(args.split)
        if not any(json.loads(line).get("date") for line in dataset.corpus.open(encoding="utf-8") if line.strip()):
            print(f"{name} {args.split}: its articles carry no dates, so no question has a date window")
            continue
        folder = cache_folder(dataset, args.cache)
        IndexBuilder.from_settings(settings, embedder).build(folder / "seeds", folder / "index")
        source = IndexReader.open(folder / "index")
        newest = source.chunks.newest_date()
        windows = {q.id: find_date_window(q.question, newest) if newest else None for q in dataset.queries}
        windows |= {q.id: find_date_window(q.question, newest) if newest else None for q in dataset.unanswerable}
        dated = [q for q in dataset.queries if windows[q.id] is not None]
        preferred = [q for q in dated if not windows[q.id].explicit]
        unanswerable = [q for q in dataset.unanswerable if windows[q.id] is not None and not windows[q.id].explicit]
        print(
            f"{name} {args.split}: {len(dataset.queries)} questions, {len(dated)} with date words "
            f"({len(dated) - len(preferred)} explicit), {len(unanswerable)} unanswerable with a preferred date"
        )
        for q in dated:
            print(f"  {'filter' if windows[q.id].explicit else 'boost '} {q.id}: {q.question}")
        if not preferred:
            continue
        for boost in args.boosts:
            retriever = Retriever.serve(
                source, embedder=embedder, settings=settings, question_cache=0, date_boost=boost
            )
            score = ModeScore(retriever.mode)
            for q in preferred:
                answer, hits = retriever.answer_ranked(q.question)
                score.add(q, article_ranking(hits, dataset), answer, 0.0)
            declined = sum(not retriever.answer(q.question).confident for q in unanswerable)
            row = {k: v for k, v in score.summary().items() if not k.startswith("ms_")}
            row["unanswerable_declined"] = round(declined / max(len(unanswerable), 1), 4)
            print(json.dumps({"set": name, "split": args.split, "boost": boost, "questions": len(preferred)} | row))
        source.close()


if __name__ == "__main__":
    main()
