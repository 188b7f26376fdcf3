"""`newsbot feeds`: follow RSS and Atom feeds; `feeds update` saves new items as articles and indexes them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from newsbot.cli import common
from newsbot.cli.common import IndexOpt, SeedsOpt, app, err, fail, out, settings_from

feeds_app = typer.Typer(
    name="feeds",
    help="Follow RSS and Atom feeds: their new items are saved as articles in the seeds folder and indexed.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(feeds_app, name="feeds")


@feeds_app.command("add")
def add(
    url: Annotated[
        str, typer.Argument(metavar="URL", help="The feed's own address (RSS 2.0 or Atom), http:// or https://.")
    ],
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help="Short name: lowercase letters, digits, '-' and '_'; also the folder seeds/feeds/NAME/ "
            "(default: from the address's host).",
            show_default=False,
        ),
    ] = None,
    seeds: SeedsOpt = None,
) -> None:
    """Follow a feed (added to seeds/feeds.toml; nothing is fetched until `newsbot feeds update`)."""
    from newsbot.feeds.feedlist import FeedListError, add_feed, feeds_file

    settings = settings_from(seeds_dir=seeds)
    try:
        feed = add_feed(Path(settings.seeds_dir), url, name)
    except FeedListError as exc:
        fail(str(exc))
    out.print(f"following {feed.name}: {feed.url} (in {feeds_file(Path(settings.seeds_dir))})", markup=False)
    out.print("run `newsbot feeds update` to fetch it", markup=False)


@feeds_app.command("list")
def list_feeds(seeds: SeedsOpt = None) -> None:
    """Show the followed feeds, when each was last updated and how many of its articles are saved."""
    from newsbot.feeds.feedlist import FeedListError, feeds_file, load_feeds
    from newsbot.feeds.state import FeedState, FeedStateError

    settings = settings_from(seeds_dir=seeds)
    root = Path(settings.seeds_dir)
    try:
        feeds = load_feeds(root)
        state = FeedState.load(root)
    except (FeedListError, FeedStateError) as exc:
        fail(str(exc))
    if not feeds:
        out.print(f"no feeds in {feeds_file(root)}; add one with: newsbot feeds add URL", markup=False)
        return
    for feed in feeds:
        checked = state.last_checked(feed.name) or "never"
        out.print(
            f"{feed.name}  {feed.url}  (last update: {checked}; {state.saved_count(feed.name)} articles saved)",
            markup=False,
        )


@feeds_app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The feed's name, as `newsbot feeds list` shows it.")],
    purge: Annotated[
        bool,
        typer.Option(
            "--purge",
            help="Also delete the articles it saved (seeds/feeds/NAME/); the next `newsbot index` drops them.",
        ),
    ] = False,
    seeds: SeedsOpt = None,
) -> None:
    """Stop following a feed; its saved articles stay in the index unless --purge."""
    from newsbot.feeds.feedlist import FEEDS_FOLDER, FeedListError, remove_feed
    from newsbot.feeds.state import FeedState, FeedStateError, update_lock

    settings = settings_from(seeds_dir=seeds)
    root = Path(settings.seeds_dir)
    if not purge:
        try:
            feed = remove_feed(root, name)
        except FeedListError as exc:
            fail(str(exc))
        out.print(f"no longer following {feed.name} ({feed.url})", markup=False)
        return
    try:
        lock = update_lock(root, timeout=30.0)  # an update must not write into a folder being deleted
    except FeedStateError as exc:
        fail(str(exc), 1)
    try:
        feed = remove_feed(root, name)
        state = FeedState.load(root)
        state.forget(feed.name)
        state.save()
        shutil.rmtree(root / FEEDS_FOLDER / feed.name, ignore_errors=True)
    except FeedListError as exc:
        fail(str(exc))
    except FeedStateError as exc:
        fail(str(exc), 1)
    finally:
        lock.release()
    out.print(f"no longer following {feed.name} ({feed.url})", markup=False)
    out.print(
        f"deleted its articles in {root / FEEDS_FOLDER / feed.name}; run `newsbot index` to drop them", markup=False
    )


@feeds_app.command("update")
def update(seeds: SeedsOpt = None, index_dir: IndexOpt = None) -> None:
    """Fetch every feed once, save its new items as articles, and index them (incrementally).

    Prints one line per feed with its counts, or the reason it failed.

    Exit code: 0 when every feed was fine, 1 when any feed failed (the others are still saved and indexed), 2 on bad usage.
    """
    from newsbot.feeds import update_feeds
    from newsbot.feeds.feedlist import FeedListError, feeds_file, load_feeds
    from newsbot.feeds.state import FeedStateError

    settings = settings_from(seeds_dir=seeds, index_dir=index_dir)
    root = Path(settings.seeds_dir)
    try:
        if not load_feeds(root):
            fail(f"no feeds in {feeds_file(root)}; add one with: newsbot feeds add URL")
        report = update_feeds(settings)
    except FeedListError as exc:
        fail(str(exc))
    except FeedStateError as exc:
        fail(str(exc), 1)
    for result in report.results:
        (err if result.failed else out).print(result.summary(), markup=False)
        head = f"feed {result.feed.name}:"
        for saved in result.saved:
            if saved.fallback:
                err.print(f"{head} summary only: {saved.url}: {saved.fallback}", markup=False)
        for passed in result.duplicates:
            out.print(f"{head} duplicate: {passed.item}: {passed.reason}", markup=False)
        for passed in result.failures:
            err.print(f"{head} item failed: {passed.item}: {passed.reason}", markup=False)
    feeds = len(report.results)
    out.print(
        f"{report.saved} new article{'' if report.saved == 1 else 's'} from {feeds} feed{'' if feeds == 1 else 's'}, "
        f"{report.failed} failed",
        markup=False,
    )
    if report.saved:
        common.run_build(settings, common.make_embedder(settings), quiet=True)
    if report.failed:
        raise typer.Exit(1)
