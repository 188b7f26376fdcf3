"""The ONNX question embedder (int8) must give nearly the vectors sentence-transformers gives, and
rank passages as they do."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from newsbot.index.onnx_embedder import (
    EXPORT_DIR,
    META_FILE,
    ONNX_FILE,
    PRECISION,
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
PASSAGES = [
    "Scholz will travel to Kyiv on Monday and to Moscow on Tuesday, a government spokesman said.",
    "The central bank raised its key interest rate by half a point to fight inflation.",
    "Floods closed roads in the north after two days of heavy rain.",
    "The striker scored twice as the home side won the cup final.",
]
QUESTIONS = {
    "when is the chancellor going to ukraine?": 0,
    "did borrowing costs go up?": 1,
    "why were roads shut?": 2,
    "who won the final?": 3,
}


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
    # int8 weights: measured 0.973-0.993 on these texts (a float32 export gives >= 0.999).
    assert cosines.min() >= 0.96 and cosines.mean() >= 0.98, cosines
    single = onnx.embed_batch([TEXTS[0]])
    assert float(single[0] @ expected[0]) >= 0.98
    assert onnx.dimension == real_embedder.dimension and onnx.max_tokens == real_embedder.max_tokens
    assert onnx.count_tokens(TEXTS[4]) == real_embedder.count_tokens(TEXTS[4])
    assert onnx.embed_batch([]).shape == (0, real_embedder.dimension)


@pytest.mark.integration
def test_int8_questions_find_the_passages_float32_questions_find(real_embedder, exported: Path) -> None:
    onnx = query_embedder(exported, real_embedder.name)
    assert onnx is not None
    passages = real_embedder.embed_batch(PASSAGES)
    for question, right in QUESTIONS.items():
        for vector in (real_embedder.embed_batch([question])[0], onnx.embed_batch([question])[0]):
            assert int(np.argmax(passages @ vector)) == right, question


@pytest.mark.integration
def test_the_export_is_int8_and_a_float32_one_is_redone(real_embedder, exported: Path, tmp_path: Path) -> None:
    folder = exported / EXPORT_DIR
    assert json.loads((folder / META_FILE).read_text())["precision"] == PRECISION == "int8"
    float32_bytes = sum(f.stat().st_size for f in real_embedder.path.glob("*.safetensors"))
    assert (folder / ONNX_FILE).stat().st_size < 0.35 * float32_bytes
    older = tmp_path / "older"
    shutil.copytree(folder, older / EXPORT_DIR)
    meta = json.loads((older / EXPORT_DIR / META_FILE).read_text())
    (older / EXPORT_DIR / META_FILE).write_text(json.dumps(meta | {"precision": "float32"}))
    assert query_embedder(older, real_embedder.name) is not None  # an older export still serves
    assert export_beside_index(real_embedder, older) is None
    assert json.loads((older / EXPORT_DIR / META_FILE).read_text())["precision"] == "int8"  # and is redone
    (older / EXPORT_DIR / META_FILE).write_text(json.dumps(meta | {"weights": "external"}))
    assert query_embedder(older, real_embedder.name) is None  # external weights that are missing


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
