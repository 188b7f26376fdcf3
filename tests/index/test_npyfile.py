from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from newsbot.index.npyfile import NpyFile


def test_a_slice_is_the_saved_arrays_slice(tmp_path: Path) -> None:
    values = np.arange(10_000, dtype=np.float32) / 7
    np.save(tmp_path / "v.npy", values)
    saved = NpyFile(tmp_path / "v.npy")
    assert len(saved) == 10_000 and saved.dtype == np.float32
    for start, end in ((0, 0), (0, 1), (123, 4567), (9_999, 10_000), (0, 10_000)):
        np.testing.assert_array_equal(saved.slice(start, end), values[start:end])


def test_a_version_2_header_is_read_too(tmp_path: Path) -> None:
    values = np.arange(50, dtype=np.int32)
    with open(tmp_path / "v.npy", "wb") as fh:
        np.lib.format.write_array(fh, values, version=(2, 0))
    np.testing.assert_array_equal(NpyFile(tmp_path / "v.npy").slice(10, 20), values[10:20])


def test_out_of_range_and_closed_reads_are_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "v.npy", np.zeros(5, dtype=np.int64))
    saved = NpyFile(tmp_path / "v.npy")
    with pytest.raises(IndexError, match="3:6 is outside 0:5"):
        saved.slice(3, 6)
    saved.close()
    with pytest.raises(ValueError, match="closed"):
        saved.slice(0, 1)


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_a_truncated_or_two_dimensional_file_is_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "v.npy", np.zeros(100, dtype=np.float64))
    data = (tmp_path / "v.npy").read_bytes()
    (tmp_path / "short.npy").write_bytes(data[:-8])
    with pytest.raises(ValueError, match="truncated"):
        NpyFile(tmp_path / "short.npy")
    np.save(tmp_path / "m.npy", np.zeros((3, 4)))
    with pytest.raises(ValueError, match="one-dimensional"):
        NpyFile(tmp_path / "m.npy")
