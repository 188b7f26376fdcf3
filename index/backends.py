"""Which backend holds the index, chosen by settings: open it, build it, ask whether it exists.

``faiss`` (the default) is a folder of generations (FAISS vectors, a SQLite chunk store, bm25s).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from newsbot.index.folder import IndexReader, current_generation

if TYPE_CHECKING:
    from newsbot.config.settings import Settings
    from newsbot.index.builder import BuildReport, IndexBuilder
    from newsbot.index.reading import IndexSource


def open_index(settings: Settings) -> IndexSource:
    """The configured index, opened for reading; IndexProblem says why it cannot be."""
    return IndexReader.open(Path(settings.index_dir))


def index_exists(settings: Settings) -> bool:
    """Whether a build has finished into the configured index (False: the first build is due)."""
    return current_generation(Path(settings.index_dir)) is not None


def build(
    builder: IndexBuilder, settings: Settings, *, full: bool = False, show_progress_bar: bool = False
) -> BuildReport:
    """Builds or updates the configured index from the configured seeds folder."""
    return builder.build(settings.seeds_dir, settings.index_dir, full=full, show_progress_bar=show_progress_bar)


def describe(settings: Settings) -> str:
    """Where the index is, for messages."""
    return str(settings.index_dir)
