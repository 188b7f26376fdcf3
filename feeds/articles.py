"""A feed item as an ordinary article file: seeds/feeds/<feed>/<date>-<slug>.md with front matter."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from newsbot.feeds.feedlist import slugify
from newsbot.feeds.files import atomic_write
from newsbot.index.readers import parse_date
from newsbot.index.records import normalize_text


@dataclass(frozen=True, slots=True)
class PageText:
    """What trafilatura found in an item's page."""

    title: str | None
    date: date | None
    site: str | None
    paragraphs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ItemArticle:
    """One article to write; the index reads title, date, source and url from its front matter."""

    title: str
    date: date
    source: str
    url: str | None
    paragraphs: tuple[str, ...]

    @property
    def text_hash(self) -> str:
        """Equal for the same text, whatever its case and spacing (as the index's duplicate check)."""
        return hashlib.sha256(normalize_text("\n\n".join(self.paragraphs)).encode()).hexdigest()

    def markdown(self) -> bytes:
        import frontmatter

        meta: dict[str, Any] = {"title": self.title, "date": self.date, "source": self.source}
        if self.url:
            meta["url"] = self.url
        post = frontmatter.Post("\n\n".join(self.paragraphs), **meta)
        return (frontmatter.dumps(post, sort_keys=False) + "\n").encode("utf-8")


def extract_page(body: bytes, url: str) -> PageText | None:
    """The main text, title, date and site name of an HTML page (as index/readers.py reads HTML)."""
    import trafilatura

    extracted = trafilatura.extract(
        body, url=url, output_format="json", with_metadata=True, include_comments=False, include_tables=False
    )
    if not extracted:
        return None
    doc = json.loads(extracted)
    title = " ".join((doc.get("title") or "").split()) or None
    paragraphs = [" ".join(p.split()) for p in (doc.get("text") or "").split("\n") if p.strip()]
    if paragraphs and title and normalize_text(paragraphs[0]) == normalize_text(title):
        paragraphs = paragraphs[1:]  # the headline, which the front matter already holds
    if not paragraphs:
        return None
    try:
        when = parse_date(doc.get("date"))
    except ValueError:
        when = None
    site = doc.get("sitename") or doc.get("source-hostname") or None
    return PageText(title, when, site, tuple(paragraphs))


def write_article(seeds: Path, folder: str, article: ItemArticle) -> str:
    """Writes the article under seeds/<folder>/ and returns its path relative to the seeds folder.

    Two different items of one day with the same title get -2, -3, ...; the same file written
    again (a lost state file) keeps its name.
    """
    data = article.markdown()
    stem = f"{article.date.isoformat()}-{slugify(article.title, 60) or 'item-' + article.text_hash[:8]}"
    target = Path(seeds) / folder
    for number in range(1, 1000):
        path = target / (f"{stem}.md" if number == 1 else f"{stem}-{number}.md")
        if not path.exists() or path.read_bytes() == data:
            atomic_write(path, data)
            return path.relative_to(seeds).as_posix()
    raise OSError(f"more than 999 articles named {stem} in {target}")
