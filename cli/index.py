"""`newsbot index`: build or update the index from the seeds folder, once or on every change."""

from __future__ import annotations

import contextlib
import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from newsbot.cli import common
from newsbot.cli.common import IndexOpt, SeedsOpt, app, err, settings_from

if TYPE_CHECKING:
    import threading

    import watchfiles

    from newsbot.config.settings import Settings
    from newsbot.index.embedder import Embedder


@app.command()
def index(
    seeds: SeedsOpt = None,
    index_dir: IndexOpt = None,
    full: Annotated[bool, typer.Option("--full", help="Rebuild everything instead of only what changed.")] = False,
    wait: Annotated[
        float, typer.Option("--wait", min=0, help="Seconds to wait for another running build before giving up.")
    ] = 0.0,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="After building, keep watching the seeds folder and update the index (incrementally) "
            "whenever a file is added, changed or deleted; Ctrl+C stops.",
        ),
    ] = False,
) -> None:
    """Build or update the index from the seeds folder (only new or changed articles are embedded)."""
    settings = settings_from(seeds_dir=seeds, index_dir=index_dir)
    embedder = common.make_embedder(settings)
    if not watch:
        report = common.run_build(settings, embedder, full=full, wait=wait)
        if report.failed:
            raise typer.Exit(1)
        return
    common.check_seeds(Path(settings.seeds_dir))
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C while a build runs; the build is crash-safe
        watch_seeds(settings, embedder, full=full, wait=wait)
    err.print("stopped watching")


def watch_seeds(
    settings: Settings,
    embedder: Embedder,
    *,
    full: bool = False,
    wait: float = 0.0,
    stop_event: threading.Event | None = None,
) -> None:
    """Builds once, then again after every change in the seeds folder, until ``stop_event`` or Ctrl+C.

    A build that fails (a locked index, an emptied folder) is reported and watching goes on.
    """
    import watchfiles

    seeds = Path(settings.seeds_dir)
    _build(settings, embedder, full=full, wait=wait, quiet=False)
    err.print(f"watching {seeds} for changes (Ctrl+C stops)")
    changes_seen = watchfiles.watch(
        seeds.resolve(),
        watch_filter=SeedsFilter(seeds, settings.index_dir, settings.ignore),
        stop_event=stop_event,
        raise_interrupt=False,
    )
    for changes in changes_seen:
        names = sorted({_rel(Path(p), seeds) for _, p in changes})
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        err.print(f"changed: {shown}; updating the index", markup=False)
        _build(settings, embedder, full=False, wait=wait, quiet=True)


def _build(settings: Settings, embedder: Embedder, *, full: bool, wait: float, quiet: bool) -> None:
    with contextlib.suppress(typer.Exit):  # run_build has printed why; the next change tries again
        common.run_build(settings, embedder, full=full, wait=wait, quiet=quiet)


class SeedsFilter:
    """The changes worth a rebuild: not hidden files (temporary files of feed updates and editors),
    not ignored names (feeds.toml, READMEs), not editor backups, nothing inside the index folder."""

    def __init__(self, seeds: Path, index_dir: Path, ignore: list[str]) -> None:
        import watchfiles

        self.seeds = Path(seeds).resolve()
        self.index_dir = Path(index_dir).resolve()
        self.ignore = list(ignore)
        self.default = watchfiles.DefaultFilter()

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        if not self.default(change, path):
            return False
        where = Path(path)
        if where.is_relative_to(self.index_dir):
            return False
        try:
            parts = where.relative_to(self.seeds).parts
        except ValueError:
            parts = where.parts
        if any(part.startswith(".") for part in parts):
            return False
        return not any(fnmatch.fnmatch(where.name, pattern) for pattern in self.ignore)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return str(path)
