"""A saved ``.npy`` array read a slice at a time.

BM25's postings are read this way when serving. A memory mapping would do the same work, but the
kernel maps a file's pages in large folios (up to 2 MB on Linux 6.x), so reading a few kilobytes
of postings left whole megabytes resident: at 100k chunks, 50 questions made 40 MB of the 42 MB
postings resident where their words' postings are 7 MB. ``os.pread`` copies exactly the slice
asked for; the file stays in the page cache, shared by every process serving it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


class NpyFile:
    """A one-dimensional ``.npy`` file: its length, dtype, and ``slice(start, end)`` read from disk."""

    def __init__(self, path: Path) -> None:
        self._fd: int | None = None  # set last: a refused file leaves nothing to close
        self.path = Path(path)
        with open(self.path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            read_header = (
                np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read_header(fh)
            self._offset = fh.tell()
        if len(shape) != 1 or dtype.hasobject:
            raise ValueError(f"{self.path} holds a {shape} array of {dtype}; a one-dimensional numeric array is needed")
        self.dtype: np.dtype = dtype
        self._length = int(shape[0])
        size = os.path.getsize(self.path)
        if size < self._offset + self._length * dtype.itemsize:
            raise ValueError(f"{self.path} is truncated: {size} bytes for {self._length} values of {dtype}")
        # Positioned reads share no file offset, so threads and forked workers may read at once.
        self._fd = os.open(self.path, os.O_RDONLY)

    def __len__(self) -> int:
        return self._length

    def slice(self, start: int, end: int) -> np.ndarray:
        """Values ``start`` to ``end`` (exclusive), read from the file."""
        if not 0 <= start <= end <= self._length:
            raise IndexError(f"slice {start}:{end} is outside 0:{self._length} of {self.path}")
        if self._fd is None:
            raise ValueError(f"{self.path} is closed")
        count = end - start
        data = os.pread(self._fd, count * self.dtype.itemsize, self._offset + start * self.dtype.itemsize)
        return np.frombuffer(data, dtype=self.dtype, count=count)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self.close()
