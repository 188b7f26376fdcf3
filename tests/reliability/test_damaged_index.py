"""A damaged or foreign index is refused with one clear line that says how to rebuild; rebuilding works."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from newsbot.index.builder import IndexBuilder
from newsbot.index.chunkstore import CHUNKS
from newsbot.index.folder import CURRENT, IndexReader
from newsbot.index.manifest import MANIFEST, IndexProblem
from newsbot.index.store import VECTORS
from newsbot.retrieval.retriever import Retriever
from tests.fakes.embedder import FakeEmbedder
from tests.reliability.helpers import CHUNK_TOKENS, KNOWN_ANSWER, KNOWN_QUESTION, run_cli


def _live(index_dir: Path) -> Path:
    return index_dir / (index_dir / CURRENT).read_text().strip()


def truncate_vectors(index_dir: Path) -> None:
    path = _live(index_dir) / VECTORS
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def garble_vectors_same_size(index_dir: Path) -> None:
    path = _live(index_dir) / VECTORS
    path.write_bytes(b"\xff" * path.stat().st_size)


def damage_manifest(index_dir: Path) -> None:
    path = _live(index_dir) / MANIFEST
    path.write_bytes(path.read_bytes()[:200])


def delete_manifest(index_dir: Path) -> None:
    (_live(index_dir) / MANIFEST).unlink()


def delete_chunks(index_dir: Path) -> None:
    (_live(index_dir) / CHUNKS).unlink()


def garble_chunks_same_size(index_dir: Path) -> None:
    path = _live(index_dir) / CHUNKS
    path.write_bytes(b"\0" * path.stat().st_size)


def point_at_missing_generation(index_dir: Path) -> None:
    (index_dir / CURRENT).write_text("gen-000099\n")


def point_at_garbage(index_dir: Path) -> None:
    (index_dir / CURRENT).write_text("../../etc\n")


def delete_generation(index_dir: Path) -> None:
    shutil.rmtree(_live(index_dir))


def newer_format(index_dir: Path) -> None:
    path = _live(index_dir) / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["format_version"] = 99
    path.write_text(json.dumps(manifest))


DAMAGE: dict[str, Callable[[Path], None]] = {
    f.__name__: f
    for f in (
        truncate_vectors,
        damage_manifest,
        delete_manifest,
        delete_chunks,
        point_at_missing_generation,
        point_at_garbage,
        delete_generation,
        newer_format,
        garble_vectors_same_size,
        garble_chunks_same_size,
    )
}
# Same-size damage is only seen by a checksum, which a verifying open reads.
NEEDS_VERIFY = {"garble_vectors_same_size", "garble_chunks_same_size"}


@pytest.fixture
def built(seeds_copy: Path, tmp_path: Path) -> tuple[Path, Path]:
    index_dir = tmp_path / "index"
    IndexBuilder(FakeEmbedder(), chunk_tokens=CHUNK_TOKENS).build(seeds_copy, index_dir)
    return seeds_copy, index_dir


def _one_error_line(result) -> str:
    assert result.exit_code not in (0, None), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_index_gives_a_clear_error_and_rebuilds(built, damage, monkeypatch) -> None:
    seeds, index_dir = built
    DAMAGE[damage](index_dir)
    verify = damage in NEEDS_VERIFY
    with pytest.raises(IndexProblem, match="newsbot index") as caught:
        IndexReader.open(index_dir, verify=verify)
    assert str(index_dir) in str(caught.value) or "index format" in str(caught.value)

    if not verify:
        line = _one_error_line(
            run_cli(monkeypatch, "ask", KNOWN_QUESTION, "--index", str(index_dir), "--seeds", str(seeds))
        )
        assert "newsbot index" in line

    rebuilt = run_cli(monkeypatch, "index", "--full", "--seeds", str(seeds), "--index", str(index_dir))
    assert rebuilt.exit_code == 0, rebuilt.output
    IndexReader.open(index_dir, verify=True).close()
    answer = run_cli(monkeypatch, "ask", KNOWN_QUESTION, "--json", "--index", str(index_dir))
    assert answer.exit_code == 0, answer.output
    assert KNOWN_ANSWER in json.loads(answer.stdout)["citations"][0]["excerpt"]


def test_index_from_another_model_is_refused(built, monkeypatch) -> None:
    seeds, index_dir = built
    other = FakeEmbedder(name="another-model")
    with pytest.raises(IndexProblem, match=r"built with model 'fake-hash-64'.*newsbot index --full"):
        Retriever.open(index_dir, embedder=other)
    line = _one_error_line(run_cli(monkeypatch, "ask", KNOWN_QUESTION, "--index", str(index_dir), embedder=other))
    assert "another-model" in line and "newsbot index --full" in line
    assert (
        run_cli(monkeypatch, "index", "--seeds", str(seeds), "--index", str(index_dir), embedder=other).exit_code == 0
    )  # a model change rebuilds everything
    Retriever.open(index_dir, embedder=other).close()
