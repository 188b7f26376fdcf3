"""The news_qa question set stays consistent with its articles (its own check script must pass)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from newsbot.index.readers import FolderReader
from newsbot.retrieval.evaluate import load_dataset

SET = Path(__file__).resolve().parents[2] / "corpora" / "eval" / "news_qa"


def test_check_script_passes() -> None:
    # Answers in their articles, qrels = doc_ids, unique ids, absent terms absent, corpus in sync.
    result = subprocess.run([sys.executable, str(SET / "check.py")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def test_the_eval_loader_reads_it() -> None:
    dataset = load_dataset(SET)
    assert len(dataset.queries) >= 160
    assert all(q.answers and q.relevant for q in dataset.queries)
    assert len(dataset.ids_by_line) == 1658
    assert len(dataset.unanswerable) >= 35
    assert {len(dataset.split(name).queries) > 0 for name in ("dev", "test")} == {True}


def test_the_indexer_reads_every_record(tmp_path: Path) -> None:
    # newsbot eval indexes corpus.jsonl as a seeds folder; a record it rejects would never be found.
    shutil.copyfile(SET / "corpus.jsonl", tmp_path / "corpus.jsonl")
    report = FolderReader(tmp_path).read()
    assert report.failures == []
    assert len(report.articles) == 1658
