"""`newsbot index`: build or update the index from the seeds folder."""

from __future__ import annotations

from typing import Annotated

import typer

from newsbot.cli import common
from newsbot.cli.common import IndexOpt, SeedsOpt, app, settings_from


@app.command()
def index(
    seeds: SeedsOpt = None,
    index_dir: IndexOpt = None,
    full: Annotated[bool, typer.Option("--full", help="Rebuild everything instead of only what changed.")] = False,
    wait: Annotated[
        float, typer.Option("--wait", min=0, help="Seconds to wait for another running build before giving up.")
    ] = 0.0,
) -> None:
    """Build or update the index from the seeds folder (only new or changed articles are embedded)."""
    settings = settings_from(seeds_dir=seeds, index_dir=index_dir)
    report = common.run_build(settings, common.make_embedder(settings), full=full, wait=wait)
    if report.failed:
        raise typer.Exit(1)
