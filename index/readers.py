"""Reading a seeds folder into Articles: one reader per format, sidecar metadata, named failures."""

from __future__ import annotations

import codecs
import fnmatch
import json
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from newsbot.index.records import Article, Failure

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".jsonl")
META_FIELDS = ("title", "date", "source", "url")


class ReadError(Exception):
    """Why one file (or one line) cannot become an article."""


@dataclass
class ReadReport:
    """What a folder held: good articles, and every file that did not make it, with the reason."""

    articles: list[Article] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    skipped: list[Failure] = field(default_factory=list)
    warnings: list[Failure] = field(default_factory=list)


def parse_date(value: Any) -> date | None:
    """ISO dates and timestamps (as YAML, JSON and trafilatura give them); anything else is None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return date.fromisoformat(text[:10])  # raises ValueError with the bad value in it


def decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ReadError(f"broken UTF-16 at byte {exc.start}; re-save the file as UTF-8") from None
    if b"\x00" in data[:8192]:
        raise ReadError("binary file (contains NUL bytes); newsbot reads text, Markdown, HTML and JSONL")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(f"not valid UTF-8 at byte {exc.start}; re-save the file as UTF-8") from None


def split_paragraphs(body: str) -> list[str]:
    """Blank lines separate paragraphs; a body with none has one paragraph per line (as the seed)."""
    body = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    blocks = [b for b in body.split("\n\n") if b.strip()]
    if len(blocks) <= 1:
        return [line.strip() for line in body.split("\n") if line.strip()]
    # Inside a blank-line block, single newlines are hard wrapping.
    return [" ".join(line.strip() for line in b.split("\n") if line.strip()) for b in blocks]


def read_plain(text: str, rel: str, markdown: bool) -> list[Article]:
    import frontmatter  # imported here: only text files need it

    meta: dict[str, Any] = {}
    if text.lstrip().startswith("---"):
        try:
            post = frontmatter.loads(text)
        except Exception as exc:  # noqa: BLE001 - YAML errors come in several types
            # YAML messages span lines; a report line must stay one line.
            raise ReadError(f"front matter is not valid YAML ({' '.join(str(exc).split())})") from None
        meta, text = dict(post.metadata), post.content
    lines = text.replace("\r\n", "\n").split("\n")
    title = str(meta.get("title") or "").strip()
    if not title:
        first = next((i for i, line in enumerate(lines) if line.strip()), None)
        if first is None:
            raise ReadError("empty file: no title and no text")
        title = lines[first].strip().lstrip("#").strip() if markdown else lines[first].strip()
        lines = lines[first + 1 :]
    paragraphs = split_paragraphs("\n".join(lines))
    if not paragraphs:
        raise ReadError("no text after the title line")
    return [_article(title, paragraphs, rel, meta)]


def read_html(text: str, rel: str) -> list[Article]:
    import trafilatura

    extracted = trafilatura.extract(
        text, output_format="json", with_metadata=True, include_comments=False, include_tables=False
    )
    if not extracted:
        raise ReadError("no article text found in the HTML")
    doc = json.loads(extracted)
    paragraphs = [p for p in (doc.get("text") or "").split("\n") if p.strip()]
    title = (doc.get("title") or "").strip() or Path(rel).stem
    if not paragraphs:
        raise ReadError("no article text found in the HTML")
    meta = {"date": doc.get("date"), "source": doc.get("sitename") or doc.get("hostname"), "url": doc.get("url")}
    return [_article(title, paragraphs, rel, meta)]


def _article(title: str, paragraphs: list[str], path: str, meta: dict[str, Any]) -> Article:
    try:
        when = parse_date(meta.get("date"))
    except ValueError:
        raise ReadError(f"date {meta.get('date')!r} is not an ISO date (YYYY-MM-DD)") from None
    try:
        return Article.from_paragraphs(
            title,
            paragraphs,
            path=path,
            date=when,
            source=_opt(meta.get("source")),
            url=_opt(meta.get("url")),
        )
    except UnicodeError:  # lone surrogates, as JSON "\ud800" escapes can carry
        raise ReadError("holds characters that are not valid Unicode (lone surrogates)") from None


def _opt(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


@dataclass
class _Sidecar:
    meta: dict[Path, dict[str, Any]] = field(default_factory=dict)


class FolderReader:
    """Walks a seeds folder; never follows a link or a sidecar outside it."""

    def __init__(
        self, root: Path, *, max_file_bytes: int = 20_000_000, ignore: tuple[str, ...] | list[str] = ()
    ) -> None:
        if max_file_bytes <= 0:
            raise ValueError(f"max_file_bytes must be positive, got {max_file_bytes}")
        self.root = Path(root)
        self.max_file_bytes = max_file_bytes
        self.ignore = tuple(ignore)

    def read(self, progress: Callable[[int], None] | None = None) -> ReadReport:
        if not self.root.is_dir():
            raise FileNotFoundError(f"seeds folder {str(self.root)!r} does not exist or is not a folder")
        report = ReadReport()
        root = self.root.resolve()
        files = list(self._walk(root, report))
        sidecar = _Sidecar()
        texts: list[tuple[Path, str, str]] = []
        for path, rel in files:
            try:
                text = self._load(path, root)
            except (ReadError, OSError) as exc:
                report.failures.append(Failure(rel, _reason(exc)))
                continue
            if path.suffix.lower() == ".jsonl" and _is_sidecar(text):
                self._read_sidecar(text, path, rel, root, sidecar, report)
            else:
                texts.append((path, rel, text))
        for path, rel, text in texts:
            extra = sidecar.meta.pop(path, None)
            try:
                articles = self._parse(path, rel, text, report)
            except ReadError as exc:
                report.failures.append(Failure(rel, str(exc)))
                articles = []
            if extra and articles:
                # Bad metadata in a sidecar must not cost a good article its place in the index.
                try:
                    articles = [_with_meta(a, extra) for a in articles]
                except ReadError as exc:
                    report.warnings.append(Failure(rel, f"sidecar metadata ignored: {exc}"))
            report.articles.extend(articles)
            if progress:
                progress(1)
        for missing in sidecar.meta:
            report.warnings.append(Failure(_rel(missing, root), "named in a sidecar, but no such article file"))
        return report

    def _walk(self, root: Path, report: ReadReport) -> Iterator[tuple[Path, str]]:
        for folder, dirs, names in os.walk(
            root,
            followlinks=False,
            onerror=lambda e: report.failures.append(
                Failure(_rel(Path(e.filename), root), f"cannot list folder: {e.strerror}")
            ),
        ):
            here = Path(folder)
            for d in sorted(dirs):
                if (here / d).is_symlink():
                    report.skipped.append(Failure(_rel(here / d, root), "linked folder not followed"))
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (here / d).is_symlink())
            for name in sorted(names):
                path = here / name
                rel = _rel(path, root)
                if name.startswith("."):
                    continue  # hidden files (.DS_Store, .gitkeep) are never articles
                if not _is_utf8(rel):
                    report.failures.append(Failure(_printable(rel), "file name is not valid UTF-8; rename it"))
                    continue
                if any(fnmatch.fnmatch(name, pat) for pat in self.ignore):
                    report.skipped.append(Failure(rel, "matches an ignore pattern (setting 'ignore')"))
                    continue
                if path.suffix.lower() not in SUPPORTED:
                    report.skipped.append(
                        Failure(
                            rel, f"unsupported format {path.suffix or '(none)'!r}; supported: {' '.join(SUPPORTED)}"
                        )
                    )
                    continue
                yield path, rel

    def _load(self, path: Path, root: Path) -> str:
        if path.is_symlink():
            target = _resolve(path)
            if not target.is_relative_to(root):
                raise ReadError("link points outside the seeds folder; copy the file in instead")
            if not target.exists():
                raise ReadError("broken link")
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # reading a pipe or device could block the build forever
            raise ReadError("not a regular file (a pipe, socket or device)")
        size = info.st_size
        if size > self.max_file_bytes:
            raise ReadError(
                f"file is {size:,} bytes, over the {self.max_file_bytes:,}-byte limit; "
                "split it or raise the max_file_bytes setting"
            )
        if size == 0:
            raise ReadError("empty file")
        with path.open("rb") as fh:
            data = fh.read(self.max_file_bytes + 1)  # the file may have grown since stat
        if len(data) > self.max_file_bytes:
            raise ReadError(
                f"file is over the {self.max_file_bytes:,}-byte limit; split it or raise the max_file_bytes setting"
            )
        return decode(data)

    def _parse(self, path: Path, rel: str, text: str, report: ReadReport) -> list[Article]:
        suffix = path.suffix.lower()
        if suffix in (".html", ".htm"):
            return read_html(text, rel)
        if suffix == ".jsonl":
            return self._read_jsonl_articles(text, rel, report)
        if not text.strip():
            raise ReadError("empty file: only white space")
        return read_plain(text, rel, markdown=suffix in (".md", ".markdown"))

    @staticmethod
    def _read_jsonl_articles(text: str, rel: str, report: ReadReport) -> list[Article]:
        articles = []
        for lineno, record in _jsonl(text, rel, report):
            where = f"{rel}#L{lineno}"
            body = record.get("text")
            if not isinstance(body, str) or not body.strip():
                report.failures.append(Failure(where, "record has no 'text' (or 'file', for a sidecar)"))
                continue
            try:
                title = str(record.get("title") or body.strip().split("\n", 1)[0][:120])
                articles.append(_article(title, split_paragraphs(body), where, record))
            except (ReadError, ValueError) as exc:
                report.failures.append(Failure(where, str(exc)))
        if not articles and not report.failures:
            raise ReadError("no records")
        return articles

    @staticmethod
    def _read_sidecar(text: str, path: Path, rel: str, root: Path, sidecar: _Sidecar, report: ReadReport) -> None:
        for lineno, record in _jsonl(text, rel, report):
            name = record.get("file")
            if not isinstance(name, str) or not name:
                report.failures.append(Failure(f"{rel}#L{lineno}", "sidecar record has no 'file'"))
                continue
            try:
                target = _resolve(path.parent / name)
            except ReadError as exc:
                report.failures.append(Failure(f"{rel}#L{lineno}", f"'file' {name!r}: {exc}"))
                continue
            if not target.is_relative_to(root):
                report.failures.append(Failure(f"{rel}#L{lineno}", f"'file' {name!r} points outside the seeds folder"))
                continue
            sidecar.meta[target] = {k: record[k] for k in META_FIELDS if record.get(k) not in (None, "")}


def _lines(text: str) -> list[str]:
    # JSON Lines ends a record at "\n" only; str.splitlines() would also cut at U+2028, U+0085 and
    # others that JSON allows raw inside a string.
    return [line.removesuffix("\r") for line in text.split("\n")]


def _jsonl(text: str, rel: str, report: ReadReport) -> Iterator[tuple[int, dict[str, Any]]]:
    for lineno, line in enumerate(_lines(text), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            report.failures.append(Failure(f"{rel}#L{lineno}", f"invalid JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(record, dict):
            report.failures.append(Failure(f"{rel}#L{lineno}", "a line must be a JSON object"))
            continue
        yield lineno, record


def _is_sidecar(text: str) -> bool:
    # The first valid record decides, so one broken line does not turn a sidecar into articles.
    for line in _lines(text):
        if line.strip():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            return isinstance(record, dict) and "file" in record and "text" not in record
    return False


def _with_meta(article: Article, meta: dict[str, Any]) -> Article:
    merged = {"title": article.title, "date": article.date, "source": article.source, "url": article.url}
    merged.update(meta)
    return _article(str(merged["title"]), article.text.split("\n\n"), article.path, merged)


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # os.walk hands undecodable bytes over as lone surrogates
        return False
    return True


def _printable(name: str) -> str:
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _resolve(path: Path) -> Path:
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # a link loop: RuntimeError up to Python 3.12, OSError after
        raise ReadError("symbolic link loop; remove the link") from None


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _reason(exc: Exception) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied; make the file readable"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)
