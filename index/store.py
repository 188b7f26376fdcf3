"""Vector stores: a small protocol, and FAISS behind it, with the search index chosen by size.

Every generation keeps the exact vectors (``vectors.faiss``, a flat index with stable 64-bit chunk
ids): builds edit that one. Above ``flat_index_max`` vectors, saving also writes an approximate
search index (``vectors.ann.faiss``); a reader then loads only that one, so a serving process holds
one copy of the vectors (or a compressed one), never both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, Self, get_args

import numpy as np

if TYPE_CHECKING:
    import faiss

    from newsbot.config.settings import Settings

VECTORS = "vectors.faiss"
ANN_VECTORS = "vectors.ann.faiss"

# ivf-flat: exact vectors in inverted lists (same memory as flat, a fraction of the work);
# ivf-sq8: the same with one byte per dimension (a quarter of the memory, a little recall);
# hnsw: a graph over exact vectors (fast, but ~20 % more memory and slow to build).
AnnKind = Literal["ivf-flat", "ivf-sq8", "hnsw"]
ANN_KINDS: tuple[AnnKind, ...] = get_args(AnnKind)
# Up to this many vectors search is exact. Kept at 50k from real figures (`newsbot bench --only
# recall`: 18,160 real chunk vectors, 2,807 real questions, one thread, a shared machine at load ~8):
# flat p50 1.3 ms there, so ~3.6 ms at 50k, while an IVF index that keeps recall@10 >= 0.98 on real
# vectors must probe a quarter of its lists (below) and saves ~1 ms of that at 50k for 1-2 % of
# recall. Above 50k flat grows linearly with the index and the saving is worth the recall.
DEFAULT_FLAT_MAX = 50_000
# Share of IVF lists a search probes, and HNSW's efSearch: the smallest settings with recall@10 >=
# 0.98 on the real vectors above (ivf-flat of 454 lists: nprobe 64 -> 0.976, 96 -> 0.985, 128 ->
# 0.991; ivf-sq8 96 -> 0.980, 128 -> 0.985; hnsw efSearch 128 -> 0.976, 256 -> 0.990). The old
# lists // 32 and efSearch 128 were fitted on synthetic vectors, where they gave 0.99-1.00; on real
# ones they give 0.89 and 0.976.
IVF_PROBE_SHARE = 4  # nprobe = lists // 4
DEFAULT_EF_SEARCH = 256


@dataclass(frozen=True, slots=True)
class StoreOptions:
    """How a build lays out vectors: exact up to ``flat_index_max``, then an ``ann_kind`` index."""

    flat_index_max: int = DEFAULT_FLAT_MAX
    ann_kind: AnnKind = "ivf-sq8"  # the settings' default too (config/settings.py says why)

    def __post_init__(self) -> None:
        if self.flat_index_max < 1:
            raise ValueError(f"flat_index_max must be at least 1, got {self.flat_index_max}")
        if self.ann_kind not in ANN_KINDS:
            raise ValueError(f"ann_kind must be one of {', '.join(ANN_KINDS)}, got {self.ann_kind!r}")

    @classmethod
    def from_settings(cls, settings: Settings) -> StoreOptions:
        return cls(settings.flat_index_max, settings.ann_index)


class VectorStore(Protocol):
    """What the index needs from a vector backend; FAISS is one, another can replace it."""

    dimension: int

    def __len__(self) -> int: ...

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def remove(self, ids: np.ndarray) -> int: ...

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each (len(queries), k); missing slots have id -1. ``allowed`` (ids)
        restricts the search to those vectors, inside the index, so none of them is missed."""
        ...

    def save(self, folder: Path) -> list[str]:
        """Writes the store's files into ``folder``; returns their names."""
        ...

    @classmethod
    def load(cls, folder: Path, dimension: int) -> Self: ...


def ivf_lists(n: int) -> int:
    """Inverted lists for ``n`` vectors: about 4·sqrt(n), the usual FAISS rule of thumb."""
    return max(1, min(65_536, int(4 * math.sqrt(n)), n // 40))


def single_thread_search() -> None:
    """Search on one thread in this process. One question at a time gains nothing from FAISS's
    OpenMP threads, and their spin-waiting fights onnxruntime's threads for the two cores
    (measured: flat search at 10k chunks 11.6 ms -> 2.0 ms). Builds in a serving process (the
    bot's /reindex) then train IVF lists on one thread too; they are rare and incremental."""
    import faiss

    faiss.omp_set_num_threads(1)


def build_ann(
    kind: AnnKind,
    vectors: np.ndarray,
    ids: np.ndarray,
    *,
    nprobe: int | None = None,
    ef_search: int = DEFAULT_EF_SEARCH,
    seed: int = 0,
) -> faiss.Index:
    """An approximate inner-product index over ``vectors`` (unit rows), answering with ``ids``."""
    import faiss

    if kind not in ANN_KINDS:
        raise ValueError(f"index kind must be one of {', '.join(ANN_KINDS)}, got {kind!r}")
    n, d = vectors.shape
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    ids = np.asarray(ids, dtype=np.int64)
    if kind == "hnsw":
        graph = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = 80
        graph.hnsw.efSearch = ef_search
        mapped = faiss.IndexIDMap2(graph)
        mapped.add_with_ids(vectors, ids)
        return mapped
    lists = ivf_lists(n)
    quantizer = faiss.IndexFlatIP(d)
    index: faiss.IndexIVF
    if kind == "ivf-flat":
        index = faiss.IndexIVFFlat(quantizer, d, lists, faiss.METRIC_INNER_PRODUCT)
    else:
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, d, lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
    # k-means on a sample, few iterations: coarse lists need no more, and training 1M vectors into
    # 4,000 lists with the defaults (256 points a list, 25 rounds) takes many minutes on 2 cores.
    rng = np.random.default_rng(seed)
    sample = vectors[rng.choice(n, size=min(n, 40 * lists), replace=False)]
    index.cp.niter = 10
    index.cp.min_points_per_centroid = 1  # a sample of 40 a list is on purpose; no warning
    index.train(sample)
    index.add_with_ids(vectors, ids)
    index.nprobe = nprobe or max(8, lists // IVF_PROBE_SHARE)
    return index


class FaissStore:
    """Inner-product search over unit vectors (cosine), with stable 64-bit chunk ids.

    ``flat_index_max`` and ``ann_kind`` only matter when saving: up to that many vectors search is
    exact; above it the saved generation also carries an ``ann_kind`` index, which readers use.
    """

    def __init__(
        self,
        dimension: int,
        index: faiss.IndexIDMap2 | None = None,
        *,
        flat_index_max: int = DEFAULT_FLAT_MAX,
        ann_kind: AnnKind = "ivf-sq8",
        folder: Path | None = None,
    ) -> None:
        import faiss

        if dimension <= 0:
            raise ValueError(f"dimension must be positive, got {dimension}")
        if flat_index_max < 1:
            raise ValueError(f"flat_index_max must be at least 1, got {flat_index_max}")
        if ann_kind not in ANN_KINDS:
            raise ValueError(f"ann_kind must be one of {', '.join(ANN_KINDS)}, got {ann_kind!r}")
        self.dimension = dimension
        self.flat_index_max = flat_index_max
        self.ann_kind = ann_kind
        self._folder = folder
        self._flat: faiss.IndexIDMap2 | None = (
            index if index is not None or folder is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        )
        self._ann: faiss.Index | None = None
        self._mapped: faiss.IndexIDMap2 | None = None  # the saved flat index, searched in place

    @property
    def index(self) -> faiss.Index:
        """What searches run on: the approximate index when the generation has one, else the flat
        one. Read from the folder memory-mapped (FAISS's IO_FLAG_MMAP_IFC): the vectors are the
        file's pages, shared by every process serving this generation and never copied; builds
        edit their own copy (``flat``)."""
        if self._ann is None and self._flat is None and self._mapped is None and self._folder is not None:
            ann = self._folder / ANN_VECTORS
            if ann.is_file():
                self._ann = _read(ann, mapped=True)
            else:
                self._mapped = read_flat(self._folder / VECTORS, mapped=True)
        if self._ann is not None:
            return self._ann
        if self._flat is not None or self._mapped is None:
            return self.flat
        return self._mapped

    @property
    def flat(self) -> faiss.IndexIDMap2:
        """The exact vectors, which builds edit (read from the folder on first use)."""
        if self._flat is None:
            if self._folder is None:  # unreachable: __init__ sets one or the other
                raise RuntimeError("FaissStore has neither an index nor a folder to read one from")
            self._flat = read_flat(self._folder / VECTORS)
        return self._flat

    @property
    def kind(self) -> str:
        """What searches run on: 'flat' or one of ANN_KINDS."""
        return _kind_of(self.index)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dimension:
            raise ValueError(f"vectors must have shape (n, {self.dimension}), got {vectors.shape}")
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
        if len(ids):
            self.flat.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))
            self._ann = None  # stale now; rebuilt on save

    def remove(self, ids: np.ndarray) -> int:
        if not len(ids):
            return 0
        import faiss

        removed = int(self.flat.remove_ids(faiss.IDSelectorBatch(np.asarray(ids, dtype=np.int64))))
        self._ann = None
        return removed

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        k = max(1, min(k, len(self) or 1))
        if allowed is None:
            return self.index.search(queries, k)
        return _restricted_search(self.index, queries, k, allowed)

    def save(self, folder: Path) -> list[str]:
        import faiss

        flat = self.flat
        faiss.write_index(flat, str(folder / VECTORS))
        if flat.ntotal <= self.flat_index_max:
            return [VECTORS]
        if self._ann is None:
            vectors = faiss.downcast_index(flat.index).reconstruct_n(0, flat.ntotal)
            ids = faiss.vector_to_array(flat.id_map)
            self._ann = build_ann(self.ann_kind, vectors, ids)
        faiss.write_index(self._ann, str(folder / ANN_VECTORS))
        return [VECTORS, ANN_VECTORS]

    @classmethod
    def load(cls, folder: Path, dimension: int, **options: Any) -> FaissStore:
        """Opens the store in ``folder``; files are read on first use (search reads only one)."""
        store = cls(dimension, folder=Path(folder), **options)
        found = store.index.d
        if found != dimension:
            raise ValueError(f"{folder} holds vectors of dimension {found}, manifest says {dimension}")
        return store


def _restricted_search(
    index: faiss.Index, queries: np.ndarray, k: int, allowed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Search among ``allowed`` ids only, exhaustively: a date window must not lose a chunk because
    an approximate index did not visit it."""
    import faiss

    allowed = np.ascontiguousarray(allowed, dtype=np.int64)
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap2) else faiss.downcast_index(index)
    if isinstance(inner, faiss.IndexHNSW):
        # A graph walk that may only step on allowed nodes can strand; the allowed vectors are few
        # enough to score exactly.
        vectors = index.reconstruct_batch(allowed)
        scores = vectors @ queries.T
        top = np.argsort(-scores, axis=0, kind="stable")[:k].T
        ids = allowed[top]
        out = np.take_along_axis(scores.T, top, axis=1)
        if ids.shape[1] < k:  # fewer allowed than asked for: pad as FAISS does
            pad = k - ids.shape[1]
            ids = np.pad(ids, ((0, 0), (0, pad)), constant_values=-1)
            out = np.pad(out, ((0, 0), (0, pad)), constant_values=-np.inf)
        return out.astype(np.float32), ids
    # Parameters set one by one (FAISS's stubs know no keyword form); `selector` stays referenced
    # here for as long as the search uses it.
    selector = faiss.IDSelectorBatch(allowed)
    if isinstance(inner, faiss.IndexIVF):
        ivf = faiss.SearchParametersIVF()
        # Every list probed: the selector skips the rest, so this costs about one flat scan.
        ivf.sel, ivf.nprobe = selector, inner.nlist
        return index.search(queries, k, params=ivf)
    params = faiss.SearchParameters()
    params.sel = selector
    return index.search(queries, k, params=params)


def _read(path: Path, *, mapped: bool = False) -> faiss.Index:
    import faiss

    # IO_FLAG_MMAP_IFC maps the vectors of flat, IVF and HNSW indexes alike (IO_FLAG_MMAP alone
    # still copies flat ones); a mapped index is read-only, so only searches use it.
    return faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC if mapped else 0)


def read_flat(path: Path, *, mapped: bool = False) -> faiss.IndexIDMap2:
    """The exact vectors saved in ``path`` (a FAISS IndexIDMap2 over a flat index)."""
    import faiss

    index = _read(path, mapped=mapped)
    if not isinstance(index, faiss.IndexIDMap2):
        raise ValueError(f"{path} holds a FAISS {type(index).__name__}, not the IndexIDMap2 newsbot writes")
    return index


def _kind_of(index: faiss.Index) -> str:
    import faiss

    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap2) else index
    if isinstance(inner, faiss.IndexHNSW):
        return "hnsw"
    if isinstance(inner, faiss.IndexIVFScalarQuantizer):
        return "ivf-sq8"
    if isinstance(inner, faiss.IndexIVF):
        return "ivf-flat"
    return "flat"
