from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from newsbot.index.bm25 import BM25_DIR, STOPWORDS_EN, BM25Index, _stemmer, stems
from newsbot.index.builder import IndexBuilder
from newsbot.index.folder import IndexReader
from newsbot.retrieval.retriever import Retriever
from tests.conftest import ROOT, write_article


def test_search_ranks_matching_chunk_first_and_maps_chunk_ids() -> None:
    index = BM25Index.build([11, 22, 33], ["gas prices in Europe", "Scholz visits Kyiv", "troops near the border"])
    found = index.search("when does Scholz visit Kyiv?", 3)
    assert found.ids.tolist() == [22]
    assert found.scores[0] > 0


def test_stemming_matches_inflections() -> None:
    index = BM25Index.build([1, 2], ["the vaccines were delivered", "prices rose"])
    assert index.search("vaccine delivery", 2).ids.tolist() == [1]


def test_allowed_restricts_the_ranking() -> None:
    index = BM25Index.build([1, 2], ["Kyiv talks", "Kyiv talks again"])
    assert index.search("Kyiv", 5, allowed=np.array([2])).ids.tolist() == [2]


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    index = BM25Index.build([5, 9], ["alpha beta", "gamma delta"])
    index.save(tmp_path)
    loaded = BM25Index.load(tmp_path)
    assert loaded is not None and loaded.search("gamma", 2).ids.tolist() == [9]
    assert BM25Index.load(tmp_path / "nothing") is None


def test_each_generation_carries_a_checksummed_bm25_index_that_follows_changes(tmp_path: Path, fake_embedder) -> None:
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    write_article(seeds, "a.txt", "Gas prices", "Gas prices in Europe rose sharply.")
    builder = IndexBuilder(fake_embedder)
    builder.build(seeds, index)
    reader = IndexReader.open(index, verify=True)
    assert any(name.startswith(BM25_DIR + "/") for name in reader.manifest.files)
    reader.close()

    write_article(seeds, "b.txt", "Zelenskyy speech", "Zelenskyy addressed the parliament in Warsaw.")
    builder.build(seeds, index)
    retriever = Retriever.open(index, embedder=fake_embedder)
    hits = retriever.search("Warsaw parliament", k=1, mode="bm25")
    assert hits and hits[0].article.path == "b.txt"
    (seeds / "b.txt").unlink()
    builder.build(seeds, index)
    retriever = Retriever.open(index, embedder=fake_embedder)
    assert all(h.article.path != "b.txt" for h in retriever.search("Warsaw parliament", k=3, mode="bm25"))


TEXTS = [
    "Scholz will travel to Kyiv and Moscow on February 14-15.",
    "The WHO's COVID-19 vaccines were delivered; prices rose 3.5% in Zürich, naïvely.",
    "It is what it is: a, an, the — and THE end!",
    "Inflation stayed above the target for a sixth month, the central bank said.",
    "x y z 12 345 déjà-vu co-operation o'neill",
]


def test_stems_are_the_words_bm25s_counts() -> None:
    import bm25s
    from bm25s.stopwords import STOPWORDS_EN as BM25S_STOPWORDS

    assert set(STOPWORDS_EN) == set(BM25S_STOPWORDS)
    theirs = bm25s.tokenize(
        TEXTS, stopwords=BM25S_STOPWORDS, stemmer=_stemmer.stemWords, show_progress=False, return_ids=False
    )
    assert stems(TEXTS) == [list(words) for words in theirs]


def test_a_saved_index_scores_every_chunk_as_bm25s_does(tmp_path: Path) -> None:
    import bm25s

    index = BM25Index.build(list(range(100, 100 + len(TEXTS))), TEXTS)
    index.save(tmp_path)
    loaded = BM25Index.load(tmp_path)
    theirs = bm25s.BM25.load(str(tmp_path / BM25_DIR))
    assert loaded is not None
    for query in ("Scholz Kyiv Kyiv", "vaccines delivered prices", "bank inflation month", "nothing matches"):
        words = stems([query])[0]
        known = [w for w in words if w in theirs.vocab_dict]
        expected = theirs.get_scores(known) if known else np.zeros(len(TEXTS), dtype=np.float32)
        np.testing.assert_allclose(loaded.scores(words), expected, rtol=1e-6)
        np.testing.assert_allclose(index.scores(words), expected, rtol=1e-6)


def test_a_loaded_index_cannot_be_saved_again(tmp_path: Path) -> None:
    BM25Index.build([1], ["alpha"]).save(tmp_path)
    loaded = BM25Index.load(tmp_path)
    assert loaded is not None
    with pytest.raises(ValueError, match="only a BM25 index built here can be saved"):
        loaded.save(tmp_path / "again")


def test_answering_never_imports_bm25s_or_scipy(tmp_path: Path) -> None:
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    write_article(seeds, "a.txt", "Gas prices", "Gas prices in Europe rose sharply.")
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from newsbot.index.builder import IndexBuilder\n"
        "from newsbot.retrieval.retriever import Retriever\n"
        "from tests.fakes.embedder import FakeEmbedder\n"
        f"IndexBuilder(FakeEmbedder()).build(Path({str(seeds)!r}), Path({str(index)!r}))\n"
        "for name in [m for m in sys.modules if m.split('.')[0] in ('bm25s', 'scipy')]:\n"
        "    del sys.modules[name]  # the build used them; serving starts here\n"
        f"retriever = Retriever.open(Path({str(index)!r}), embedder=FakeEmbedder())\n"
        "answer = retriever.answer('why did gas prices rise?')\n"
        "assert answer.citations, answer\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('bm25s', 'scipy'))\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
