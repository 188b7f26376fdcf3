"""The index folder on disk: generations written aside, swapped in atomically, read whole.

Layout of ``index_dir``::

    CURRENT          names the live generation; replaced atomically (write, fsync, rename)
    gen-000007/      manifest.json, vectors.faiss, chunks.sqlite (and any extra named files)
    .build-*/        a build in progress; never read, removed by the next build if left over
    .lock            held by the one build allowed at a time (an OS lock: it dies with its process)

A reader opens the generation CURRENT names, so a build killed at any moment leaves the previous
generation untouched and live.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from newsbot.index.bm25 import BM25Index
from newsbot.index.chunkstore import CHUNKS, ChunkStore, ChunkStoreWriter
from newsbot.index.heap import release_free_heap
from newsbot.index.manifest import (
    MANIFEST,
    REBUILD_HINT,
    ArticleEntry,
    FileEntry,
    IndexCorrupt,
    IndexLocked,
    IndexNotFound,
    IndexProblem,
    Manifest,
)
from newsbot.index.reading import Searched, one_after_other
from newsbot.index.records import Article, Chunk, ChunkSentences
from newsbot.index.store import FaissStore, StoreOptions, VectorStore

CURRENT = "CURRENT"
LOCK = ".lock"
BUILD_PREFIX = ".build-"
_GEN = re.compile(r"^gen-(\d{6,})$")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def current_generation(root: Path) -> Path | None:
    pointer = root / CURRENT
    if not pointer.is_file():
        return None
    name = pointer.read_text().strip()
    if not _GEN.match(name):
        raise IndexCorrupt(f"{pointer} names {name!r}, not a generation folder; {REBUILD_HINT}")
    return root / name


def read_manifest(
    root: Path, *, model: str | None = None, dimension: int | None = None, verify: bool = False
) -> tuple[Path, Manifest]:
    """The live generation and its manifest, with every file it lists present at its recorded
    size (and checksum, with ``verify``); loads no vectors."""
    root = Path(root)
    folder = current_generation(root)
    if folder is None:
        raise IndexNotFound(f"no index at {str(root)!r}; build one with `newsbot index`")
    if not folder.is_dir():
        raise IndexCorrupt(f"{root / CURRENT} names {folder.name}, which is missing; {REBUILD_HINT}")
    try:
        manifest = Manifest.model_validate_json((folder / MANIFEST).read_bytes())
    except FileNotFoundError:
        raise IndexCorrupt(f"{folder / MANIFEST} is missing; {REBUILD_HINT}") from None
    except ValueError as exc:
        raise IndexCorrupt(f"{folder / MANIFEST} is damaged ({exc.__class__.__name__}); {REBUILD_HINT}") from None
    manifest.check_compatible(model, dimension)
    for name, entry in manifest.files.items():
        path = folder / name
        if not path.is_file():
            raise IndexCorrupt(f"{path} is missing; {REBUILD_HINT}")
        if path.stat().st_size != entry.bytes or (verify and _sha256(path) != entry.sha256):
            raise IndexCorrupt(f"{path} does not match its checksum in the manifest; {REBUILD_HINT}")
    return folder, manifest


class IndexReader:
    """One generation of an index, loaded and checked against its manifest (an ``IndexSource``)."""

    def __init__(self, folder: Path, manifest: Manifest, vectors: VectorStore, chunks: ChunkStore) -> None:
        self.folder = folder
        # Serving needs the model, dimension and counts; the per-article entries repeat the chunk
        # store's articles table (~20 MB of objects at 100k chunks) and are read back on request.
        self.summary = manifest.model_copy(update={"articles": {}})
        self._article_count = len(manifest.articles)
        self._chunk_count = manifest.chunk_count  # a sum over the articles the summary drops
        self.vectors = vectors
        self.chunks = chunks
        self._lexical: BM25Index | None = None

    @property
    def model(self) -> str:
        return self.summary.model

    @property
    def dimension(self) -> int:
        return self.summary.dimension

    @property
    def article_count(self) -> int:
        return self._article_count

    @property
    def chunk_count(self) -> int:
        return self._chunk_count

    @property
    def lexical(self) -> BM25Index:
        """BM25 of this generation, loaded on first use; an index written before BM25 was part of a
        generation gets one built in memory."""
        if self._lexical is None:
            self._lexical = BM25Index.load(self.folder) or BM25Index.from_chunk_db(self.chunks.db)
        return self._lexical

    def search(
        self, query_vector: np.ndarray | None, question: str | None, k: int, allowed: np.ndarray | None = None
    ) -> Searched:
        # Both in memory, microseconds to a few milliseconds each: nothing to overlap.
        return one_after_other(self, query_vector, question, k, allowed)

    def generation(self) -> str:
        return self.folder.name

    def stored_generation(self) -> str:
        live = current_generation(self.folder.parent)
        return live.name if live is not None else ""

    @property
    def manifest(self) -> Manifest:
        """The whole manifest, per-article entries included, read from disk on each call."""
        return Manifest.model_validate_json((self.folder / MANIFEST).read_bytes())

    @classmethod
    def open(
        cls, root: Path, *, model: str | None = None, dimension: int | None = None, verify: bool = False
    ) -> IndexReader:
        folder, manifest = read_manifest(root, model=model, dimension=dimension, verify=verify)
        try:
            vectors = FaissStore.load(folder, manifest.dimension)
            chunks = ChunkStore(folder / CHUNKS)
        except Exception as exc:  # noqa: BLE001 - FAISS and SQLite raise their own types for damaged files
            raise IndexCorrupt(f"cannot read the index in {folder}: {exc}; {REBUILD_HINT}") from None
        if len(vectors) != manifest.chunk_count:
            raise IndexCorrupt(
                f"{folder} holds {len(vectors)} vectors but its manifest lists "
                f"{manifest.chunk_count} chunks; {REBUILD_HINT}"
            )
        reader = cls(folder, manifest, vectors, chunks)
        del manifest  # its per-article entries, which serving does not keep
        release_free_heap()
        return reader

    def close(self) -> None:
        self.chunks.close()
        if self._lexical is not None:
            self._lexical.close()


class IndexWriter:
    """One build at a time: edits a private copy, then swaps it in with ``commit``.

    Use as a context manager; leaving it without ``commit`` (an error, a kill) discards the copy
    and the live index is as it was.
    """

    def __init__(self, root: Path, *, lock_timeout: float = 0.0, store: StoreOptions | None = None) -> None:
        if lock_timeout < 0:
            raise ValueError(f"lock_timeout must be 0 or more seconds, got {lock_timeout}")
        self.root = Path(root)
        self.lock_timeout = lock_timeout
        self.store = store or StoreOptions()
        self._lock: FileLock | None = None
        self.folder: Path | None = None
        self.manifest: Manifest | None = None
        self.previous: Manifest | None = None
        self._vectors: FaissStore | None = None
        self._chunks: ChunkStoreWriter | None = None

    def __enter__(self) -> IndexWriter:
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(self.root / LOCK, timeout=self.lock_timeout)
        try:
            self._lock.acquire()
        except Timeout:
            raise IndexLocked(
                f"another `newsbot index` is building {str(self.root)!r} right now; wait for it to finish and run again"
            ) from None
        for stale in self.root.glob(BUILD_PREFIX + "*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a build that was killed
        try:
            # Checksums, not a full load: a damaged live index means a full rebuild, and the
            # vectors are read once, by begin(), only when the build is incremental.
            self.previous = read_manifest(self.root, verify=True)[1]
        except IndexProblem:
            self.previous = None  # missing, damaged, or another model or format: rebuild all
        return self

    def __exit__(self, *exc: object) -> None:
        if self._chunks is not None:
            self._chunks.db.close()
        if self.folder is not None and self.folder.exists():
            shutil.rmtree(self.folder, ignore_errors=True)
        if self._lock is not None:
            self._lock.release()

    def begin(self, model: str, dimension: int, chunking: dict[str, int | str], *, incremental: bool) -> Manifest:
        """Starts the new generation: a copy of the live one when incremental, else empty."""
        self.folder = self.root / f"{BUILD_PREFIX}{uuid.uuid4().hex[:12]}"
        self.folder.mkdir()
        base = self.previous if incremental else None
        live = current_generation(self.root) if base else None
        if base is not None and live is not None:
            shutil.copyfile(live / CHUNKS, self.folder / CHUNKS)
            self._vectors = FaissStore.load(
                live, base.dimension, flat_index_max=self.store.flat_index_max, ann_kind=self.store.ann_kind
            )
            self.manifest = base.model_copy(deep=True)
        else:
            self._vectors = FaissStore(
                dimension, flat_index_max=self.store.flat_index_max, ann_kind=self.store.ann_kind
            )
            self.manifest = Manifest(model=model, dimension=dimension, chunking=chunking)
        self._chunks = ChunkStoreWriter(self.folder / CHUNKS)
        return self.manifest

    def _begun(self) -> tuple[Path, Manifest, FaissStore, ChunkStoreWriter]:
        if self.folder is None or self.manifest is None or self._vectors is None or self._chunks is None:
            raise RuntimeError("IndexWriter: call begin() first (and edit nothing after commit())")
        return self.folder, self.manifest, self._vectors, self._chunks

    def remove_article(self, path: str) -> None:
        _, manifest, vectors, chunks = self._begun()
        entry = manifest.articles.pop(path)
        vectors.remove(np.asarray(chunks.remove(entry.id), dtype=np.int64))

    def add_article(
        self, article: Article, chunks: list[Chunk], vectors: np.ndarray, sentences: Sequence[ChunkSentences] = ()
    ) -> None:
        _, manifest, store, chunk_store = self._begun()
        chunk_store.add(article, chunks, sentences)
        store.add(np.asarray([c.id for c in chunks], dtype=np.int64), vectors)
        manifest.articles[article.path] = ArticleEntry(
            id=article.id, hash=article.hash, chunks=len(chunks), title=article.title
        )
        if chunks:
            manifest.next_chunk_id = max(manifest.next_chunk_id, chunks[-1].id + 1)

    def write_bm25(self) -> None:
        """Builds BM25 over every chunk of the new generation, as written so far, and saves it there.

        bm25s has no incremental update, so each generation gets its own from the chunk store.
        """
        folder, _, _, chunks = self._begun()
        BM25Index.from_chunk_db(chunks.db).save(folder)

    def commit(self) -> str:
        """Writes everything, flushes it to disk, and makes it the live generation; returns its name."""
        folder, manifest, vectors, chunks = self._begun()
        vectors.save(folder)
        chunks.close()
        self._chunks = None
        manifest.updated = datetime.now(UTC)
        manifest.files = {
            p.relative_to(folder).as_posix(): FileEntry(bytes=p.stat().st_size, sha256=_sha256(p))
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }
        (folder / MANIFEST).write_text(manifest.model_dump_json(indent=1))
        for p in folder.rglob("*"):
            _fsync(p)
        _fsync(folder)
        try:
            live = current_generation(self.root)
        except IndexCorrupt:
            live = None  # a damaged pointer: this build replaces it
        # Numbered past every folder on disk, so a damaged pointer or a generation written but
        # never made live (killed before the swap) cannot collide with this one.
        numbers = [int(m.group(1)) for p in self.root.iterdir() if (m := _GEN.match(p.name))]
        target = self.root / f"gen-{max(numbers, default=0) + 1:06d}"
        os.rename(folder, target)
        self.folder = None
        pointer = self.root / f"{CURRENT}.tmp"
        pointer.write_text(target.name + "\n")
        _fsync(pointer)
        os.replace(pointer, self.root / CURRENT)
        _fsync(self.root)
        self._prune(keep={target.name, live.name if live else ""})
        return target.name

    def _prune(self, keep: set[str]) -> None:
        # The previous generation stays one more round for readers that opened it a moment ago.
        for old in self.root.iterdir():
            if _GEN.match(old.name) and old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)
