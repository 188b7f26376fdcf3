"""Rebuild corpus.jsonl from corpora/news and seeds/, and qrels.tsv from queries.jsonl.

queries.jsonl and unanswerable.jsonl are hand-written; this script only derives the rest.
Run from anywhere: python corpora/eval/news_qa/build.py (stdlib only).
"""

import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
NEWS = ROOT / "corpora" / "news"
SEEDS = ROOT / "seeds"


def split_article(raw: str, blank_separated: bool) -> tuple[str, str]:
    """Title = first line; text = the paragraphs after it joined by a blank line."""
    # Not stripped first: one article has an empty title line, and its text must not become the title.
    title, _, rest = raw.lstrip("\ufeff").partition("\n")
    # The seed has one paragraph per line; the news files separate paragraphs by blank lines.
    parts = re.split(r"\n\s*\n", rest) if blank_separated else rest.split("\n")
    paragraphs = [" ".join(p.split()) for p in parts if p.strip()]
    return title.strip(), "\n\n".join(paragraphs)


def records(sidecar: Path, blank_separated: bool):
    for line in sidecar.read_text(encoding="utf-8").splitlines():
        meta = json.loads(line)
        path = sidecar.parent / meta["file"]
        title, text = split_article(path.read_text(encoding="utf-8"), blank_separated)
        yield {
            "id": path.stem,
            "title": title,
            "text": text,
            "date": meta["date"],
            "source": meta["source"],
            "url": meta.get("url", ""),
            "licence": meta.get("licence", ""),
        }


def main() -> None:
    corpus = list(records(NEWS / "articles.jsonl", True))
    corpus += list(records(SEEDS / "articles.jsonl", False))
    with (HERE / "corpus.jsonl").open("w", encoding="utf-8") as out:
        for rec in corpus:
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    queries = [json.loads(x) for x in (HERE / "queries.jsonl").read_text("utf-8").splitlines()]
    with (HERE / "qrels.tsv").open("w", encoding="utf-8") as out:
        out.write("query-id\tcorpus-id\tscore\n")
        for q in queries:
            for doc_id in q["doc_ids"]:
                out.write(f"{q['id']}\t{doc_id}\t1\n")
    print(f"{len(corpus)} corpus records, {len(queries)} queries")


if __name__ == "__main__":
    main()
