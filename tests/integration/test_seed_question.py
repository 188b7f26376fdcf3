"""The README's first command, end to end, with the real packaged model."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from index.builder import IndexBuilder
from retrieval.retriever import Retriever
from tests.conftest import ROOT, SEED_QUESTION

pytestmark = pytest.mark.integration


def test_library_answers_the_seed_question_with_the_dated_excerpt(real_embedder, seeds_copy, tmp_path):
    IndexBuilder(real_embedder).build(seeds_copy, tmp_path / "index")
    answer = Retriever.open(tmp_path / "index", embedder=real_embedder).answer(SEED_QUESTION)
    first = answer.citations[0]
    assert answer.confident and "February 14-15" in first.excerpt
    assert first.path == "000_446af7bba89d6e33.txt" and first.source == "Al Jazeera"


def test_newsbot_ask_json_in_a_fresh_folder(seeds_copy, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "bot", "ask", "--json", SEED_QUESTION,
           "--seeds", str(seeds_copy), "--index", str(tmp_path / "index")]
    done = subprocess.run(cmd, cwd=tmp_path, env=env | {"PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    result = json.loads(line)
    assert result["confident"] is True
    assert "February 14-15" in result["citations"][0]["excerpt"]
    assert "added 1" in done.stderr  # built on first use
