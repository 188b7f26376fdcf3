"""A tiny real-shaped question set for the benchmark's tests."""

from __future__ import annotations

import json
from pathlib import Path

from newsbot.bench.realdata import RealSets
from tests.bot.conftest import ARTICLES


def tiny_set(root: Path) -> RealSets:
    """The bot tests' articles as a corpus, two questions about them, and a cache beside them."""
    folder = root / "tiny"
    folder.mkdir(parents=True)
    docs = [{"id": f"d{i}", "title": a["title"], "text": a["text"]} for i, a in enumerate(ARTICLES)]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    queries = [
        {"id": "q1", "question": "When does Scholz visit Kyiv?", "answers": ["February 14"], "doc_ids": ["d0"]},
        {"id": "q2", "question": "Did the central bank change rates?", "answers": [], "doc_ids": ["d2"]},
    ]
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    return RealSets(root, ("tiny",), root / "cache")
