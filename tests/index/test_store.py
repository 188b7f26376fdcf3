"""FaissStore: exact below flat_index_max, an approximate index above it, edits always exact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from newsbot.index.store import ANN_KINDS, ANN_VECTORS, VECTORS, FaissStore, StoreOptions, build_ann


def unit_vectors(n: int, d: int = 32, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_small_store_saves_only_exact_vectors(tmp_path: Path) -> None:
    store = FaissStore(32, flat_index_max=100)
    store.add(np.arange(50) + 1000, unit_vectors(50))
    assert store.save(tmp_path) == [VECTORS]
    loaded = FaissStore.load(tmp_path, 32)
    assert loaded.kind == "flat" and len(loaded) == 50


@pytest.mark.parametrize("kind", ANN_KINDS)
def test_large_store_serves_from_the_approximate_index(tmp_path: Path, kind: str) -> None:
    vectors = unit_vectors(3000)
    store = FaissStore(32, flat_index_max=1000, ann_kind=kind)
    store.add(np.arange(3000) + 7, vectors)
    assert store.save(tmp_path) == [VECTORS, ANN_VECTORS]
    loaded = FaissStore.load(tmp_path, 32)
    assert loaded.kind == kind and len(loaded) == 3000
    assert loaded._flat is None  # a reader holds one copy of the vectors, not two
    _, ids = loaded.search(vectors[:5], 1)
    assert list(ids[:, 0]) == [7, 8, 9, 10, 11]  # each vector finds itself


def test_edits_go_to_the_exact_vectors_and_drop_the_stale_index(tmp_path: Path) -> None:
    vectors = unit_vectors(3000)
    store = FaissStore(32, flat_index_max=1000)
    store.add(np.arange(3000), vectors)
    store.save(tmp_path)
    loaded = FaissStore.load(tmp_path, 32, flat_index_max=1000)
    assert loaded.remove(np.array([0, 1])) == 2
    assert loaded.kind == "flat" and len(loaded) == 2998
    _, ids = loaded.search(vectors[:1], 3)
    assert 0 not in ids[0]
    out = tmp_path / "next"
    out.mkdir()
    assert loaded.save(out) == [VECTORS, ANN_VECTORS]
    assert len(FaissStore.load(out, 32)) == 2998


def test_recall_of_every_kind_against_exact_search() -> None:
    import faiss

    base = unit_vectors(4000, seed=1)
    queries = unit_vectors(50, seed=2)
    exact = faiss.IndexFlatIP(32)
    exact.add(base)
    truth = exact.search(queries, 10)[1]
    for kind in ANN_KINDS:
        index = build_ann(kind, base, np.arange(4000), nprobe=100, ef_search=256)
        found = index.search(queries, 10)[1]
        recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
        assert recall >= 0.9, (kind, recall)


def test_bad_options_name_the_allowed_values() -> None:
    with pytest.raises(ValueError, match="ivf-flat, ivf-sq8, hnsw"):
        FaissStore(32, ann_kind="lsh")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="flat_index_max must be at least 1, got 0"):
        FaissStore(32, flat_index_max=0)
    with pytest.raises(ValueError, match="dimension must be positive"):
        FaissStore(0)


def test_dimension_mismatch_is_reported(tmp_path: Path) -> None:
    store = FaissStore(32)
    store.add(np.arange(3), unit_vectors(3))
    store.save(tmp_path)
    with pytest.raises(ValueError, match="dimension 32, manifest says 16"):
        FaissStore.load(tmp_path, 16)


def test_builds_follow_the_store_settings(tmp_path: Path, fake_embedder) -> None:
    from newsbot.config.settings import load_settings
    from newsbot.index.builder import IndexBuilder
    from newsbot.index.folder import IndexReader
    from tests.conftest import write_article

    seeds = tmp_path / "seeds"
    for i in range(3):
        write_article(
            seeds, f"a{i}.txt", f"Title {i}", *(f"Paragraph {j} of article {i} about topic {j}." for j in range(8))
        )
    settings = load_settings(flat_index_max=1, ann_index="ivf-sq8")
    IndexBuilder.from_settings(settings, fake_embedder).build(seeds, tmp_path / "index")
    reader = IndexReader.open(tmp_path / "index")
    assert reader.vectors.kind == "ivf-sq8" and ANN_VECTORS in reader.manifest.files
    reader.close()
    with pytest.raises(ValueError, match="ann_kind must be one of ivf-flat, ivf-sq8, hnsw, got 'pq'"):
        StoreOptions(ann_kind="pq")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["flat", *ANN_KINDS])
def test_a_restricted_search_finds_every_allowed_vector_even_far_down(tmp_path: Path, kind: str) -> None:
    # 3,000 vectors; the 5 allowed ones are the least similar to the query, so a search that
    # filtered afterwards would have to go 2,995 deep to find them.
    query, vectors = unit_vectors(1, seed=7), unit_vectors(3000)
    order = np.argsort(vectors @ query[0])  # least similar first
    allowed = order[:5].astype(np.int64) + 100
    store = FaissStore(
        32, flat_index_max=10_000 if kind == "flat" else 1000, ann_kind=kind if kind != "flat" else "ivf-flat"
    )
    store.add(np.arange(100, 3100), vectors)
    store.save(tmp_path)
    loaded = FaissStore.load(tmp_path, 32)
    assert loaded.kind == kind
    _, ids = loaded.search(query, 10, allowed)
    assert set(ids[0][ids[0] >= 0].tolist()) == set(allowed.tolist())  # a post-filter would find none
