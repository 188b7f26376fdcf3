"""The feed list, feeds.toml in the seeds folder: which feeds the operator follows, by name."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

from newsbot.feeds.files import atomic_write
from newsbot.feeds.records import Feed

FEEDS_FILE = "feeds.toml"
FEEDS_FOLDER = "feeds"  # seeds/feeds/<name>/ holds each feed's articles
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_HEADER = (
    "# Feeds newsbot follows; each feed's items are saved as articles in feeds/<name>/ beside this file.\n"
    "# Edit with `newsbot feeds add URL [--name NAME]` and `newsbot feeds remove NAME`.\n"
)


class FeedListError(ValueError):
    """A bad feed list, name or address; the message names the value and what is allowed."""


def feeds_file(seeds: Path) -> Path:
    return Path(seeds) / FEEDS_FILE


def slugify(text: str, limit: int = 63) -> str:
    """Lowercase ASCII letters and digits joined by '-', as file and folder names use them."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-")


def check_url(url: str) -> str:
    """A feed address newsbot may fetch: http or https with a host."""
    url = url.strip()
    if any(ord(c) < 0x21 or ord(c) == 0x7F or 0xD800 <= ord(c) < 0xE000 for c in url):
        raise FeedListError(f"feed address {url!r} holds spaces or control characters; percent-encode them")
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number raises here
    except ValueError as exc:
        raise FeedListError(f"feed address {url!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FeedListError(f"feed address {url!r} is not an http:// or https:// URL with a host")
    return url


def check_name(name: str) -> str:
    if not _NAME.match(name):
        hint = slugify(name)
        raise FeedListError(
            f"feed name {name!r} is not allowed: use lowercase letters, digits, '-' and '_' (up to 63 characters)"
            + (f", e.g. {hint!r}" if hint else "")
        )
    return name


def load_feeds(seeds: Path) -> list[Feed]:
    """The feeds in seeds/feeds.toml, in the order they were added; none when the file is absent."""
    path = feeds_file(seeds)
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FeedListError(f"{path} is not valid TOML ({exc}); fix or delete it") from None
    entries = data.get("feed", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise FeedListError(f"{path}: expected [[feed]] tables with name and url")
    feeds: list[Feed] = []
    for number, entry in enumerate(entries, 1):
        name, url = entry.get("name"), entry.get("url")
        if not isinstance(name, str) or not isinstance(url, str):
            raise FeedListError(f"{path}: feed {number} needs a string name and url, got {entry!r}")
        try:
            feeds.append(Feed(check_name(name), check_url(url)))
        except FeedListError as exc:
            raise FeedListError(f"{path}: feed {number}: {exc}") from None
    names = [f.name for f in feeds]
    if len(set(names)) != len(names):
        raise FeedListError(f"{path}: a feed name appears twice ({sorted(n for n in names if names.count(n) > 1)})")
    return feeds


def save_feeds(seeds: Path, feeds: list[Feed]) -> None:
    # A JSON string is a valid TOML basic string (the same escapes; check_url keeps control
    # characters and lone surrogates out), so no TOML writer is needed.
    body = "".join(
        f"\n[[feed]]\nname = {json.dumps(f.name)}\nurl = {json.dumps(f.url, ensure_ascii=False)}\n" for f in feeds
    )
    atomic_write(feeds_file(seeds), (_HEADER + body).encode("utf-8"))


def add_feed(seeds: Path, url: str, name: str | None = None) -> Feed:
    """Adds a feed to the list (nothing is fetched yet) and returns it with its name."""
    feeds = load_feeds(seeds)
    url = check_url(url)
    for f in feeds:
        if f.url == url:
            raise FeedListError(f"{url} is already followed, as {f.name!r}")
    taken = {f.name for f in feeds}
    name = check_name(name) if name is not None else default_name(url, taken)
    if name in taken:
        raise FeedListError(f"a feed named {name!r} already exists; choose another with --name")
    feed = Feed(name, url)
    save_feeds(seeds, [*feeds, feed])
    return feed


def remove_feed(seeds: Path, name: str) -> Feed:
    feeds = load_feeds(seeds)
    for f in feeds:
        if f.name == name:
            save_feeds(seeds, [g for g in feeds if g.name != name])
            return f
    known = ", ".join(f.name for f in feeds) or "none yet"
    raise FeedListError(f"no feed named {name!r}; followed feeds: {known}")


def default_name(url: str, taken: set[str]) -> str:
    """The host without 'www.', then host and path, then a number, whichever is free first."""
    parts = urlsplit(url)
    host = slugify((parts.hostname or "feed").removeprefix("www."), 40) or "feed"
    path = slugify(re.sub(r"\.(xml|rss|atom)$", "", parts.path), 22)
    for candidate in (host, f"{host}-{path}" if path else host):
        if candidate not in taken:
            return candidate
    number = 2
    while f"{host}-{number}" in taken:
        number += 1
    return f"{host}-{number}"
