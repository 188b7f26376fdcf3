"""Check the news QA set: answers in their articles, ids and qrels consistent, absent terms absent.

Run from anywhere: python corpora/eval/news_qa/check.py (stdlib only). Exits 1 and lists every
problem found; prints the counts and the dev/test split when all is well.
"""

import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import build  # noqa: E402 - the corpus is re-derived to prove corpus.jsonl is in sync with its sources


def split_of(query_id: str) -> str:
    """The fixed split rule the eval code uses; the files do not store it."""
    return "dev" if int(hashlib.sha256(query_id.encode()).hexdigest(), 16) % 2 == 0 else "test"


def fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def read_jsonl(name: str) -> list[dict]:
    lines = (HERE / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def check_corpus(corpus: list[dict], problems: list[str]) -> None:
    ids = Counter(r["id"] for r in corpus)
    problems += [f"corpus: id {i!r} occurs {n} times" for i, n in ids.items() if n > 1]
    expected = list(build.records(build.NEWS / "articles.jsonl", True))
    expected += list(build.records(build.SEEDS / "articles.jsonl", False))
    if corpus != expected:
        problems.append("corpus.jsonl differs from corpora/news + seeds/: run build.py")


def check_answerable(queries: list[dict], texts: dict[str, str], problems: list[str]) -> None:
    for q in queries:
        where = f"queries.jsonl {q.get('id')!r}"
        if not q.get("answers") or not q.get("doc_ids"):
            problems.append(f"{where}: needs at least one answer and one doc_id")
            continue
        missing = [d for d in q["doc_ids"] if d not in texts]
        problems += [f"{where}: doc_id {d!r} is not in corpus.jsonl" for d in missing]
        for answer in q["answers"]:
            if not any(fold(answer) in texts[d] for d in q["doc_ids"] if d in texts):
                problems.append(f"{where}: answer {answer!r} occurs in none of its doc_ids")


def check_qrels(queries: list[dict], problems: list[str]) -> None:
    lines = (HERE / "qrels.tsv").read_text(encoding="utf-8").splitlines()
    if not lines or lines[0] != "query-id\tcorpus-id\tscore":
        problems.append("qrels.tsv: the first line must be the header query-id<TAB>corpus-id<TAB>score")
    rows = [line.split("\t") for line in lines[1:] if line.strip()]
    problems += [f"qrels.tsv: bad row {r!r}" for r in rows if len(r) != 3 or r[2] != "1"]
    pairs = Counter((r[0], r[1]) for r in rows if len(r) == 3)
    problems += [f"qrels.tsv: pair {p} occurs {n} times" for p, n in pairs.items() if n > 1]
    wanted = {(q["id"], d) for q in queries for d in q.get("doc_ids", [])}
    problems += [f"qrels.tsv: {p} is not in queries.jsonl" for p in sorted(set(pairs) - wanted)]
    problems += [f"qrels.tsv: {p} from queries.jsonl is missing" for p in sorted(wanted - set(pairs))]


def check_unanswerable(unanswerable: list[dict], texts: dict[str, str], problems: list[str]) -> None:
    for q in unanswerable:
        where = f"unanswerable.jsonl {q.get('id')!r}"
        if q.get("answers") or q.get("doc_ids"):
            problems.append(f"{where}: answers and doc_ids must be empty")
        for term in q.get("absent_terms", []):
            found = [cid for cid, text in texts.items() if fold(term) in text]
            if found:
                problems.append(f"{where}: absent term {term!r} occurs in {found[:3]}")


def check_unique(queries: list[dict], unanswerable: list[dict], problems: list[str]) -> None:
    rows = queries + unanswerable
    ids = Counter(q.get("id") for q in rows)
    problems += [f"id {i!r} occurs {n} times" for i, n in ids.items() if n > 1]
    questions = Counter(fold(q.get("question", "")) for q in rows)
    problems += [f"question {t!r} occurs {n} times" for t, n in questions.items() if n > 1]


def main() -> int:
    corpus = read_jsonl("corpus.jsonl")
    queries, unanswerable = read_jsonl("queries.jsonl"), read_jsonl("unanswerable.jsonl")
    # Gold answers must be in the body text; an absent term must not be in the title either.
    bodies = {r["id"]: fold(r["text"]) for r in corpus}
    whole = {r["id"]: fold(r["title"] + "\n" + r["text"]) for r in corpus}
    problems: list[str] = []
    check_corpus(corpus, problems)
    check_answerable(queries, bodies, problems)
    check_qrels(queries, problems)
    check_unanswerable(unanswerable, whole, problems)
    check_unique(queries, unanswerable, problems)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    for name, rows in (("queries", queries), ("unanswerable", unanswerable)):
        splits = Counter(split_of(q["id"]) for q in rows)
        print(f"{name}: {len(rows)} (dev {splits['dev']}, test {splits['test']})")
    print(f"corpus: {len(corpus)} articles; qrels pairs: {sum(len(q['doc_ids']) for q in queries)}; all checks pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
