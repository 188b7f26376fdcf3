"""The ONNX question embedder must give the vectors sentence-transformers gives (cosine >= 0.999)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsbot.index.onnx_embedder import (
    EXPORT_DIR,
    META_FILE,
    ONNX_FILE,
    WEIGHTS_FILE,
    OnnxEmbedder,
    export_beside_index,
    query_embedder,
)
from tests.fakes.embedder import FakeEmbedder

TEXTS = [
    "when does Scholz visit Kyiv?",
    "a",
    "Путин провёл совещание с членами правительства.",
    "The central bank held interest rates steady on Wednesday. " * 60,  # past the 256-token window
    "Heavy rain is expected across the north this weekend, forecasters said.",
    "   ",
]


@pytest.fixture(scope="module")
def exported(real_embedder, tmp_path_factory) -> Path:
    index_dir = tmp_path_factory.mktemp("index")
    assert export_beside_index(real_embedder, index_dir) is None
    return index_dir


@pytest.mark.integration
def test_onnx_and_sentence_transformers_agree(real_embedder, exported: Path) -> None:
    onnx = query_embedder(exported, real_embedder.name)
    assert isinstance(onnx, OnnxEmbedder)
    expected = real_embedder.embed_batch(TEXTS)
    got = onnx.embed_batch(TEXTS, batch_size=4)  # batches mix lengths, so padding is exercised
    cosines = (expected * got).sum(axis=1)
    assert cosines.min() >= 0.999, cosines
    single = onnx.embed_batch([TEXTS[0]])
    assert float(single[0] @ expected[0]) >= 0.999
    assert onnx.dimension == real_embedder.dimension and onnx.max_tokens == real_embedder.max_tokens
    assert onnx.count_tokens(TEXTS[4]) == real_embedder.count_tokens(TEXTS[4])
    assert onnx.embed_batch([]).shape == (0, real_embedder.dimension)


@pytest.mark.integration
def test_weights_sit_beside_the_graph_for_onnxruntime_to_map(exported: Path) -> None:
    folder = exported / EXPORT_DIR
    assert (folder / WEIGHTS_FILE).stat().st_size > 50 * (folder / ONNX_FILE).stat().st_size
    (folder / WEIGHTS_FILE).rename(folder / "moved")
    try:
        assert query_embedder(exported, "all-MiniLM-L6-v2") is None  # an export missing its weights is not used
    finally:
        (folder / "moved").rename(folder / WEIGHTS_FILE)


@pytest.mark.integration
def test_export_for_another_model_is_not_used(real_embedder, exported: Path) -> None:
    meta = json.loads((exported / EXPORT_DIR / META_FILE).read_text())
    other = exported.parent / "other"
    (other / EXPORT_DIR).mkdir(parents=True)
    (other / EXPORT_DIR / "model.onnx").write_bytes(b"")
    (other / EXPORT_DIR / META_FILE).write_text(json.dumps(meta | {"source_key": "0" * 16}))
    assert query_embedder(other, real_embedder.name) is None  # the installed model changed
    assert query_embedder(exported, "some/other-model") is None


def test_no_export_means_no_onnx_embedder(tmp_path: Path) -> None:
    assert query_embedder(tmp_path, "all-MiniLM-L6-v2") is None
    assert export_beside_index(FakeEmbedder(), tmp_path) is None  # nothing to export
    assert not (tmp_path / EXPORT_DIR).exists()


def test_batch_size_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="batch_size must be at least 1, got 0"):
        OnnxEmbedder(tmp_path, batch_size=0)
