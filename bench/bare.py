"""The same-work baseline for query latency: the ONNX model newsbot exported, the FAISS index file
and the bm25s index newsbot wrote, driven with onnxruntime, tokenizers, faiss and bm25s directly;
no newsbot code.

What newsbot adds on top (settings, date filters, fusion with BM25, composing the answer) is then
the ratio between its figure and this one. onnxruntime runs with its default session options and
the tokenizer is the export's own tokenizer.json, truncated at the model's sequence length.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import faiss


class BareSearch:
    """Embeds a question with onnxruntime (mean pooling, unit length) and searches a generation's
    FAISS file (its approximate index when it has one, as newsbot's reader picks); ``hybrid`` also
    asks its bm25s index, with the same stemmer and stop words."""

    def __init__(self, export: Path, generation: Path, k: int = 10) -> None:
        import bm25s
        import faiss
        import onnxruntime as ort
        import Stemmer
        from tokenizers import Tokenizer

        meta = json.loads((export / "export.json").read_text())
        self.tokenizer = Tokenizer.from_file(str(export / "tokenizer.json"))
        self.tokenizer.enable_truncation(int(meta["max_seq_length"]))
        self.tokenizer.no_padding()
        self.session = ort.InferenceSession(str(export / "model.onnx"), providers=["CPUExecutionProvider"])
        ann, flat = generation / "vectors.ann.faiss", generation / "vectors.faiss"
        self.index: faiss.Index = faiss.read_index(str(ann if ann.is_file() else flat))
        self.bm25 = bm25s.BM25.load(str(generation / "bm25"), mmap=True)
        self.stem = Stemmer.Stemmer("english").stemWords
        self.k = k

    def embed(self, question: str) -> np.ndarray:
        encoded = self.tokenizer.encode(question)
        ids = np.asarray([encoded.ids], dtype=np.int64)
        mask = np.asarray([encoded.attention_mask], dtype=np.int64)
        types = np.asarray([encoded.type_ids], dtype=np.int64)
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
        pooled = hidden.mean(axis=1)  # one question, no padding: every token counts
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)

    def search(self, question: str) -> tuple[np.ndarray, np.ndarray]:
        return self.index.search(self.embed(question), self.k)

    def hybrid(self, question: str) -> tuple[tuple[np.ndarray, np.ndarray], object]:
        import bm25s
        from bm25s.stopwords import STOPWORDS_EN

        tokens = bm25s.tokenize([question], stopwords=STOPWORDS_EN, stemmer=self.stem, show_progress=False)
        sparse = self.bm25.retrieve(tokens, k=self.k, show_progress=False) if tokens.ids[0] else None
        return self.search(question), sparse
