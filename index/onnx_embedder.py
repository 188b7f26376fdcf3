"""The same model exported to ONNX, so answering a question never has to import torch.

Importing sentence-transformers (torch, transformers) costs ~10 s per process; onnxruntime and
the fast tokenizer load in well under a second. ``newsbot index`` exports the model once into
``<index_dir>/query-model/``; ``newsbot ask`` then embeds with onnxruntime when that export matches
the configured model, and falls back to sentence-transformers otherwise.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import uuid
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from newsbot.index.embedder import Coalescer, SentenceTransformerEmbedder, counting_tokenizer, model_path
from newsbot.index.heap import release_free_heap

if TYPE_CHECKING:
    from onnxruntime import InferenceSession
    from tokenizers import Tokenizer

EXPORT_DIR = "query-model"
ONNX_FILE = "model.onnx"
WEIGHTS_FILE = "model.weights"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "export.json"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
PRECISION = "int8"  # what export_onnx writes


@dataclass(frozen=True, slots=True)
class ExportInfo:
    """What an export was made from; a mismatch with the settings means it is not used."""

    model: str
    source_key: str
    dimension: int
    max_seq_length: int
    # "external": weights in WEIGHTS_FILE, which onnxruntime maps instead of copying into memory;
    # "inline": in the graph file (int8 exports: 23 MB, less than the float32 file it would map).
    weights: str = "inline"
    # "int8": weights quantized per channel (see export_onnx); "float32" exports still load, and
    # are redone on the next `newsbot index`.
    precision: str = "float32"


def source_key(path: Path) -> str:
    """A cheap fingerprint of a model folder (its config and weight sizes), to spot a changed model."""
    digest = hashlib.sha256()
    for name in ("config.json", "tokenizer.json", "model.safetensors", "pytorch_model.bin"):
        f = path / name
        if f.is_file():
            digest.update(f"{name}:{f.stat().st_size}\n".encode())
            if f.suffix == ".json":
                digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def _info(folder: Path) -> ExportInfo:
    return ExportInfo(**json.loads((folder / META_FILE).read_text()))


def read_export(index_dir: Path, model: str) -> Path | None:
    """The export folder in ``index_dir`` when it holds ``model`` as installed now, else None."""
    folder = Path(index_dir) / EXPORT_DIR
    try:
        info = _info(folder)
    except (OSError, ValueError, TypeError):
        return None
    if info.model != model or not (folder / ONNX_FILE).is_file():
        return None
    if info.weights == "external" and not (folder / WEIGHTS_FILE).is_file():
        return None
    try:
        if info.source_key != source_key(model_path(model)):
            return None
    except ValueError:
        return None
    return folder


def export_onnx(embedder: SentenceTransformerEmbedder, index_dir: Path) -> Path:
    """Writes the ONNX export of ``embedder``'s model beside the index (once per model)."""
    existing = read_export(index_dir, embedder.name)
    if existing is not None and _info(existing).precision == PRECISION:
        return existing
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    transformer = embedder.model[0]
    inner = getattr(transformer, "auto_model", None)
    if (
        transformer.__class__.__name__ != "Transformer"
        or len(embedder.model) > 3
        or not isinstance(inner, torch.nn.Module)
    ):
        raise ValueError(f"model {embedder.name!r} is not a plain transformer + pooling; cannot export it")

    class _Encoder(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".{EXPORT_DIR}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        float32 = staging / "float32.onnx"
        example = torch.ones((2, 8), dtype=torch.long)
        axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes about control flow MiniLM does not use
            # The TorchScript exporter: it needs no network and no onnxscript.
            torch.onnx.export(
                _Encoder(inner).eval(),
                (example, example, example * 0),
                str(float32),
                input_names=list(_INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        # Questions only are embedded with the export (passages are embedded at index time in
        # float32). int8 weights, one scale per output channel: a question's embedding CPU time
        # 7.5 -> 3.3 ms, cosine to the float32 vector median 0.994 (min 0.972) over the eval sets'
        # 2,765 questions, and the eval sets' test figures unchanged within a question or two
        # (README, Performance). One scale per tensor was as fast but strayed further (median 0.969).
        with _quiet_quantizer():
            quantize_dynamic(str(float32), str(staging / ONNX_FILE), per_channel=True, weight_type=QuantType.QInt8)
        float32.unlink()
        shutil.copyfile(embedder.path / TOKENIZER_FILE, staging / TOKENIZER_FILE)
        info = ExportInfo(
            embedder.name, source_key(embedder.path), embedder.dimension, embedder.max_tokens + 2, precision=PRECISION
        )
        (staging / META_FILE).write_text(json.dumps(asdict(info), indent=1))
        target = root / EXPORT_DIR
        if target.exists():
            shutil.rmtree(target)
        os.rename(staging, target)
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def _quiet_quantizer() -> Iterator[None]:
    """Drops the quantizer's advice to pre-process the graph, which it logs on the root logger (so
    it would print during `newsbot index`): its symbolic shape inference fails on this export."""

    def keep(record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()

    root = logging.getLogger()
    root.addFilter(keep)
    try:
        yield
    finally:
        root.removeFilter(keep)


class OnnxEmbedder:
    """Mean-pooled, normalised MiniLM vectors from onnxruntime: the sentence-transformers recipe."""

    def __init__(self, folder: Path, batch_size: int = 16, *, spinning: bool = False) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.folder = Path(folder)
        info = _info(self.folder)
        self.name = info.model
        self.dimension = info.dimension
        self.max_tokens = info.max_seq_length - 2
        self.max_seq_length = info.max_seq_length
        self.batch_size = batch_size
        self.spinning = spinning  # onnxruntime's default; off here (see session), on only to measure it

    @cached_property
    def session(self) -> InferenceSession:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        # No arena: activation buffers go back to the OS after each call instead of pinning the
        # largest batch ever seen, which would dominate a serving process's memory.
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
        # No spinning: onnxruntime's threads otherwise busy-wait after every call, which doubled the
        # CPU time of a question's embedding here (14.8 -> 7.8 ms) and takes the cores the
        # answering threads and the bot's event loop need (bench/onnx_spin.py).
        for pool in ("intra_op", "inter_op"):
            options.add_session_config_entry(f"session.{pool}.allow_spinning", "1" if self.spinning else "0")
        session = ort.InferenceSession(str(self.folder / ONNX_FILE), options, providers=["CPUExecutionProvider"])
        release_free_heap()  # the parsed graph, copied into the session's own weights
        return session

    @cached_property
    def _tokenizer(self) -> Tokenizer:
        return counting_tokenizer(self.folder / TOKENIZER_FILE)

    @cached_property
    def _batch_tokenizer(self) -> Tokenizer:
        tok = self._tokenizer.__class__.from_str(self._tokenizer.to_str())
        tok.enable_truncation(self.max_seq_length)
        tok.enable_padding(pad_id=tok.token_to_id("[PAD]") or 0, pad_token="[PAD]", length=None)
        return tok

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    @cached_property
    def _coalescer(self) -> Coalescer:
        return Coalescer(self._embed_sorted)

    def embed_batch(
        self, texts: Sequence[str], *, batch_size: int | None = None, show_progress_bar: bool = False
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if batch_size is None:
            return self._coalescer(texts)  # concurrent callers (the bot's threads) share model calls
        return self._embed_sorted(texts, batch_size)

    def _embed_sorted(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        size = batch_size or self.batch_size
        # Longest first, as sentence-transformers does, so each batch pads to similar lengths.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), size):
            rows = order[start : start + size]
            out[rows] = self._embed([texts[i] for i in rows])
        return out

    def _embed(self, texts: list[str]) -> np.ndarray:
        encoded = self._batch_tokenizer.encode_batch(texts)
        ids = np.asarray([e.ids for e in encoded], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encoded], dtype=np.int64)
        types = np.asarray([e.type_ids for e in encoded], dtype=np.int64)
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.clip(norms, 1e-12, None)


def query_embedder(index_dir: Path, model: str, batch_size: int = 16) -> OnnxEmbedder | None:
    """The ONNX embedder exported beside ``index_dir`` for ``model``, or None when there is none.

    Its batches are small on purpose: at query time it embeds a question and a few dozen
    sentences, and peak memory grows with batch x tokens^2 (attention).
    """
    folder = read_export(Path(index_dir), model)
    return OnnxEmbedder(folder, batch_size) if folder is not None else None


def export_beside_index(embedder: object, index_dir: Path) -> str | None:
    """Exports a sentence-transformers model beside its index; returns why not, when it could not.

    Query time then needs neither torch nor sentence-transformers. Other embedders (the fake one
    in tests) have nothing to export.
    """
    if not isinstance(embedder, SentenceTransformerEmbedder):
        return None
    try:
        export_onnx(embedder, Path(index_dir))
    except Exception as exc:  # noqa: BLE001 - an export failure must not fail the build: queries fall back to torch
        return (
            f"could not export the model to ONNX ({exc.__class__.__name__}: {exc}); "
            "questions will be embedded with sentence-transformers (slower start)"
        )
    return None
