"""MinHash signatures of passages: near-duplicates (the same statement carried by several
articles) are found by comparing a few dozen numbers instead of whole word sets.

Two passages' signatures agree in a share of slots that estimates the Jaccard similarity of
their word sets (Broder, 1997). Computed once per chunk at index time and stored in the chunk
store, they make collapsing a question's 50 candidate passages a single array comparison.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

SLOTS = 64
_WORD = re.compile(r"\w+", re.UNICODE)
_PRIME = np.uint64((1 << 61) - 1)
# Fixed seed: signatures are stored, so every process and every build must draw the same hashes.
_rng = np.random.default_rng(1997)
_A = _rng.integers(1, 1 << 32, SLOTS, dtype=np.uint64)
_B = _rng.integers(0, 1 << 32, SLOTS, dtype=np.uint64)
_EMPTY = np.full(SLOTS, 0xFFFFFFFF, dtype=np.uint32)


def signature(text: str) -> np.ndarray:
    """The MinHash signature (``SLOTS`` uint32) of the set of lower-cased words in ``text``."""
    words = {w for w in _WORD.findall(text.lower())}
    if not words:
        return _EMPTY.copy()
    hashes = np.fromiter((zlib.crc32(w.encode()) for w in words), dtype=np.uint64, count=len(words))
    # (a * x + b) mod p stays below 2**64: a and x are under 2**32.
    permuted = (hashes[:, None] * _A[None, :] + _B[None, :]) % _PRIME
    return (permuted & np.uint64(0xFFFFFFFF)).min(axis=0).astype(np.uint32)


def similarity(signatures: np.ndarray) -> np.ndarray:
    """Pairwise estimated Jaccard similarity of the rows of ``signatures`` (n x SLOTS)."""
    return (signatures[:, None, :] == signatures[None, :, :]).mean(axis=2)
