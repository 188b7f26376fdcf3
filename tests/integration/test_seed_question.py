"""The README's first command, end to end, with the real packaged model."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from newsbot.index.builder import IndexBuilder
from newsbot.retrieval.retriever import Retriever
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
    cmd = [
        sys.executable,
        "-m",
        "newsbot",
        "ask",
        "--json",
        SEED_QUESTION,
        "--seeds",
        str(seeds_copy),
        "--index",
        str(tmp_path / "index"),
    ]
    done = subprocess.run(
        cmd, cwd=tmp_path, env=env | {"PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    result = json.loads(line)
    assert result["confident"] is True
    assert "February 14-15" in result["citations"][0]["excerpt"]
    assert "added 1" in done.stderr  # built on first use
    # The first answer is the one every later run gives: its question is embedded the same way.
    again = subprocess.run(
        cmd, cwd=tmp_path, env=env | {"PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0 and "added" not in again.stderr, again.stderr
    assert json.loads(again.stdout) == result


def test_sentence_vectors_pooled_from_the_passage_pass_rank_like_the_real_model(real_embedder):
    """One forward pass gives the passage vector and its sentences' vectors (tokens mean-pooled)."""
    title = "Diplomacy"
    first = "German Chancellor Olaf Scholz will visit Kyiv on 14 February."
    second = "The troops near the border number 100,000, officials said."
    text = f"{title}\n{first} {second}"
    a = len(title) + 1
    spans = [(a, a + len(first)), (a + len(first) + 1, len(text))]
    result = real_embedder.embed_spans([text], [spans])
    assert float(result.vectors[0] @ real_embedder.embed_batch([text])[0]) > 0.999
    pooled = result.spans[0]
    assert pooled.shape == (2, real_embedder.dimension)
    assert np.allclose(np.linalg.norm(pooled, axis=1), 1.0, atol=1e-5)
    question = real_embedder.embed_batch(["how many troops are near the border?"])[0]
    alone = real_embedder.embed_batch([first, second])
    assert np.argmax(pooled @ question) == np.argmax(alone @ question) == 1
    assert (pooled * alone).sum(axis=1).min() > 0.5  # near the sentences embedded on their own


def test_newsbot_index_and_ask_on_postgres(pg_url: str, seeds_copy, tmp_path):
    """The README's postgres commands: `newsbot index && newsbot ask` with the index in PostgreSQL."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
        "NEWSBOT_BACKEND": "postgres",
        "NEWSBOT_DATABASE_URL": pg_url,
    }
    where = ["--seeds", str(seeds_copy), "--index", str(tmp_path / "local")]

    def newsbot(*args: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "newsbot", *args, *where]
        return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)

    built = newsbot("index")
    assert built.returncode == 0, built.stderr
    assert "added 1" in built.stderr and "postgresql://" in built.stderr and pg_url not in built.stderr
    asked = newsbot("ask", "--json", SEED_QUESTION)
    assert asked.returncode == 0, asked.stderr
    result = json.loads(asked.stdout)
    assert result["confident"] is True
    assert "February 14-15" in result["citations"][0]["excerpt"]
    assert "added" not in asked.stderr  # answered from the database, not built again
