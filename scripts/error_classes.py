"""Why the first excerpt misses: an error analysis of a set's dev questions (hybrid search).

    python scripts/error_classes.py news_qa xquad_en [--out misses.jsonl]

Each dev question whose first cited excerpt lacks every gold answer gets one class:
- not retrieved: no sentence of the top_k passages holds a gold answer, and the gold article is
  in neither dense's nor BM25's first top_k articles;
- fusion lost it: as above, but dense or BM25 alone had the gold article in its first top_k;
- other chunk: the gold article was retrieved, but none of its retrieved chunks holds the answer
  (the answer sits in a chunk of it that was not among the top_k passages);
- gold annotation: the gold article does not hold a gold answer string at all (a first excerpt
  that says the answer in other words is not caught here: read the --out file for that);
- wrong sentence, right article: an answering sentence was a candidate and the first excerpt
  comes from the gold article;
- wrong article, gold passage first: an answering sentence was a candidate, the first excerpt
  comes from another article although the gold article's passage ranked first;
- wrong article, gold passage 2-5 / 6+: the same with the gold article's first passage ranked
  there by the fusion.
The position of the best answering sentence in the ranker's order is printed too. Only dev
questions are read: test halves stay unseen.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "corpora" / "eval"


def classify(retriever, dataset, query) -> dict:
    from newsbot.retrieval.evaluate import answer_hit, article_ranking
    from newsbot.retrieval.spans import answer_type
    from newsbot.retrieval.text import normalize

    golds = [normalize(g) for g in query.answers if normalize(g)]
    answer, hits = retriever.answer_ranked(query.question, mode="hybrid", max_citations=5)
    row = {"id": query.id, "question": query.question, "answers": list(query.answers)}
    row["hit1"] = answer_hit(answer, query.answers, 1)
    row["hit3"] = answer_hit(answer, query.answers, 3)
    if row["hit1"] or not answer.citations:
        row["class"] = "right" if row["hit1"] else "no citation"
        return row
    k = retriever.top_k
    ranks = {}
    for mode in ("dense", "bm25", "hybrid"):
        found = retriever.rank(query.question, mode, k).hits
        order = article_ranking(found, dataset)
        ranks[mode] = next((i for i, d in enumerate(order[:k], 1) if d in query.relevant), None)
    row["gold_article_rank"] = ranks
    top = hits[:k]
    ranking = retriever.rank(query.question, "hybrid", k)
    excerpts = retriever.composer.excerpts(query.question, top, ranking.query_vector, answer_type(query.question))
    order = sorted(excerpts, key=lambda e: -e.score)
    answering = [i for i, e in enumerate(order) if any(g in normalize(e.text) for g in golds)]
    first = answer.citations[0]
    first_gold = dataset.corpus_id(first.path) in query.relevant
    row["first"] = first.excerpt[:300]
    row["first_in_gold_article"] = first_gold
    gold_passage = next((h.rank for h in top if dataset.corpus_id(h.article.path) in query.relevant), None)
    row["gold_passage_rank"] = gold_passage
    if answering:
        best = order[answering[0]]
        row["answer_sentence_position"] = answering[0] + 1
        row["answer_sentence"] = best.text[:300]
        row["answer_passage_rank"] = best.hit.rank
        if first_gold:
            row["class"] = "wrong sentence, right article"
        elif gold_passage == 1:
            row["class"] = "wrong article, gold passage first"
        elif gold_passage is not None and gold_passage <= 5:
            row["class"] = "wrong article, gold passage 2-5"
        else:
            row["class"] = "wrong article, gold passage 6+"
        return row
    gold_text = " ".join(
        normalize(h.chunk.text)
        for h in retriever.rank(query.question, "hybrid", 50).hits
        if dataset.corpus_id(h.article.path) in query.relevant
    )
    article_holds = any(g in normalize(_article_text(dataset, query)) for g in golds)
    if not article_holds:
        row["class"] = "gold annotation"
    elif ranks["hybrid"] is not None:
        row["class"] = "other chunk"
    elif ranks["dense"] is not None or ranks["bm25"] is not None:
        row["class"] = "fusion lost it"
    else:
        row["class"] = "not retrieved"
    row["gold_in_pool_chunks"] = any(g in gold_text for g in golds)
    return row


_ARTICLES: dict[Path, dict[str, str]] = {}


def _article_text(dataset, query) -> str:
    if dataset.corpus not in _ARTICLES:
        texts = {}
        for line in dataset.corpus.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                texts[str(item["id"])] = f"{item.get('title', '')}\n{item['text']}"
        _ARTICLES[dataset.corpus] = texts
    return " ".join(_ARTICLES[dataset.corpus].get(d, "") for d in query.relevant)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", help="eval set names under corpora/eval (e.g. news_qa xquad_en)")
    parser.add_argument("--cache", type=Path, default=ROOT / "data" / "eval-cache", help="folder of indexed corpora")
    parser.add_argument("--out", type=Path, default=None, help="write every missed question as JSON lines here")
    args = parser.parse_args()

    from newsbot.config.settings import load_settings
    from newsbot.index.embedder import SentenceTransformerEmbedder
    from newsbot.retrieval.evaluate import cache_folder, load_dataset
    from newsbot.retrieval.retriever import Retriever

    settings = load_settings()
    embedder = SentenceTransformerEmbedder(settings.model_name, settings.batch_size)
    rows = []
    for name in args.sets:
        dataset = load_dataset(EVAL / name).split("dev")
        folder = cache_folder(dataset, args.cache)
        retriever = Retriever.open(folder / "index", embedder=embedder, settings=settings, question_cache=64)
        counts: Counter[str] = Counter()
        for query in dataset.queries:
            row = classify(retriever, dataset, query) | {"set": name}
            counts[row["class"]] += 1
            if row["class"] != "right":
                rows.append(row)
        retriever.close()
        print(
            f"{name} dev ({len(dataset.queries)} questions): " + ", ".join(f"{c} {n}" for c, n in counts.most_common())
        )
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


if __name__ == "__main__":
    main()
