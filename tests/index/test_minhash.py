"""MinHash signatures estimate word-set overlap, are stable across processes, and are stored per chunk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from newsbot.index.builder import IndexBuilder
from newsbot.index.folder import IndexReader
from newsbot.index.minhash import SLOTS, signature, similarity
from tests.conftest import ROOT, write_article
from tests.fakes.embedder import FakeEmbedder

BASE = (
    "French President Emmanuel Macron is set to travel to Moscow on Monday to meet Vladimir Putin, "
    "and after the visit he will travel to Kyiv on Tuesday for talks with Volodymyr Zelenskyy."
)


def jaccard(a: str, b: str) -> float:
    x, y = (
        set(a.lower().replace(",", " ").replace(".", " ").split()),
        set(b.lower().replace(",", " ").replace(".", " ").split()),
    )
    return len(x & y) / len(x | y)


def test_agreement_estimates_jaccard_similarity() -> None:
    texts = [
        BASE,
        BASE.replace("Volodymyr Zelenskyy", "Zelenskyy"),
        BASE.replace("on Monday to meet Vladimir Putin", "next week"),
        "Gas prices in Europe rose by 30 percent in January as supplies from Russia fell.",
    ]
    same = similarity(np.stack([signature(t) for t in texts]))
    for i in range(1, len(texts)):
        assert abs(same[0, i] - jaccard(texts[0], texts[i])) < 0.2
    assert same[0, 1] >= 0.8 > same[0, 2] and same[0, 3] < 0.1
    assert np.allclose(np.diag(same), 1.0) and signature("").shape == (SLOTS,)


def test_signatures_are_the_same_in_another_process() -> None:
    code = "from index.minhash import signature; import sys; sys.stdout.write(signature(sys.argv[1]).tobytes().hex())"
    done = subprocess.run([sys.executable, "-c", code, BASE], capture_output=True, text=True, cwd=ROOT, check=True)
    assert bytes.fromhex(done.stdout) == signature(BASE).tobytes()


def test_every_chunk_stores_its_signature_and_a_removed_article_takes_it_along(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    write_article(seeds, "a.txt", "Trip", BASE)
    write_article(seeds, "b.txt", "Gas", "Gas prices in Europe rose by 30 percent in January.")
    IndexBuilder(FakeEmbedder()).build(seeds, tmp_path / "index")
    reader = IndexReader.open(tmp_path / "index")
    chunks = list(reader.chunks.iter_chunks())
    stored = reader.chunks.signatures([c.id for c in chunks])
    assert all(np.array_equal(stored[c.id], signature(c.text)) for c in chunks)
    reader.close()
    (seeds / "b.txt").unlink()
    IndexBuilder(FakeEmbedder()).build(seeds, tmp_path / "index")
    reader = IndexReader.open(tmp_path / "index")
    assert set(reader.chunks.signatures([c.id for c in chunks])) == {c.id for c in reader.chunks.iter_chunks()}
    reader.close()
