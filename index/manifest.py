"""The manifest that makes an index folder self-describing, and the errors loading can raise."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
REBUILD_HINT = "rebuild it with `newsbot index --full`"


class IndexProblem(Exception):
    """An index that cannot be used as it is; the message says how to fix it."""


class IndexNotFound(IndexProblem):
    pass


class IndexCorrupt(IndexProblem):
    pass


class IndexMismatch(IndexProblem):
    pass


class IndexLocked(IndexProblem):
    pass


class DatabaseProblem(IndexProblem):
    """The configured database cannot serve as an index (unreachable, wrong password, no pgvector,
    a newer schema, another model): bad configuration, which the CLI reports with exit code 2."""


class ArticleEntry(BaseModel):
    id: str
    hash: str
    chunks: int
    title: str


class FileEntry(BaseModel):
    bytes: int
    sha256: str


class Manifest(BaseModel):
    """Format version, model, dimension, what is inside, and a checksum of every file."""

    format_version: int = FORMAT_VERSION
    model: str
    dimension: int = Field(gt=0)
    store: str = "faiss"
    # How text was cut and tagged: chunk sizes, and the entity model's name and version.
    chunking: dict[str, int | str] = Field(default_factory=dict)
    created: datetime = Field(default_factory=lambda: datetime.now(UTC))
    updated: datetime = Field(default_factory=lambda: datetime.now(UTC))
    next_chunk_id: int = 0
    articles: dict[str, ArticleEntry] = Field(default_factory=dict)
    files: dict[str, FileEntry] = Field(default_factory=dict)

    @property
    def chunk_count(self) -> int:
        return sum(a.chunks for a in self.articles.values())

    def check_compatible(self, model: str | None, dimension: int | None) -> None:
        if self.format_version > FORMAT_VERSION:
            raise IndexMismatch(
                f"index format {self.format_version} is newer than this newsbot reads "
                f"({FORMAT_VERSION}); upgrade newsbot or {REBUILD_HINT}"
            )
        if model is not None and self.model != model:
            raise IndexMismatch(
                f"index was built with model {self.model!r} but settings ask for {model!r}; "
                f"set model_name back or {REBUILD_HINT}"
            )
        if dimension is not None and self.dimension != dimension:
            raise IndexMismatch(
                f"index vectors have dimension {self.dimension}, the model gives {dimension}; {REBUILD_HINT}"
            )
