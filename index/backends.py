"""Which backend holds the index, chosen by the ``backend`` setting: open it, build it, ask if it exists.

``faiss`` (the default) is a folder of generations (FAISS vectors, a SQLite chunk store, bm25s);
``postgres`` is a PostgreSQL database with pgvector. psycopg is imported only for ``postgres``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from newsbot.index.folder import IndexReader, current_generation

if TYPE_CHECKING:
    from newsbot.config.settings import Settings
    from newsbot.index.builder import BuildReport, IndexBuilder
    from newsbot.index.reading import IndexSource


def open_index(settings: Settings, *, model: str | None = None, dimension: int | None = None) -> IndexSource:
    """The configured index, opened for reading; IndexProblem says why it cannot be (also when it
    was built with another ``model`` or ``dimension`` than given)."""
    if settings.backend == "postgres":
        from newsbot.index.pg.reader import PgReader

        return PgReader.open(settings, model=model, dimension=dimension)
    return IndexReader.open(Path(settings.index_dir), model=model, dimension=dimension)


def index_exists(settings: Settings) -> bool:
    """Whether a build has finished into the configured index (False: the first build is due)."""
    if settings.backend == "postgres":
        from newsbot.index.pg.reader import has_index

        return has_index(settings)
    return current_generation(Path(settings.index_dir)) is not None


def build(
    builder: IndexBuilder, settings: Settings, *, full: bool = False, show_progress_bar: bool = False
) -> BuildReport:
    """Builds or updates the configured index from the configured seeds folder."""
    if settings.backend == "postgres":
        from newsbot.index.pg.writer import PgWriter

        writer = PgWriter.from_settings(settings, full=full, lock_timeout=builder.lock_timeout)
        return builder.build_into(Path(settings.seeds_dir), writer, full=full, show_progress_bar=show_progress_bar)
    return builder.build(settings.seeds_dir, settings.index_dir, full=full, show_progress_bar=show_progress_bar)


def describe(settings: Settings) -> str:
    """Where the index is, for messages (a database URL without its password)."""
    if settings.backend == "postgres":
        from newsbot.index.pg.connect import redacted_url

        return redacted_url(settings)
    return str(settings.index_dir)
