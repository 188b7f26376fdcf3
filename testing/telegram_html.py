"""Telegram's HTML parse mode, checked the way the Bot API does: allowed tags only, balanced."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# https://core.telegram.org/bots/api#html-style
ALLOWED = {
    "b": set(),
    "strong": set(),
    "i": set(),
    "em": set(),
    "u": set(),
    "ins": set(),
    "s": set(),
    "strike": set(),
    "del": set(),
    "tg-spoiler": set(),
    "span": {"class"},
    "a": {"href"},
    "tg-emoji": {"emoji-id"},
    "code": {"class"},
    "pre": set(),
    "blockquote": {"expandable"},
}

# Telegram knows only these named entities; "<" must start a tag.
_STRAY = re.compile(r"<(?!/?[a-zA-Z-]+(\s[^<>]*)?>)|&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")


class TelegramHtmlError(ValueError):
    """HTML the Bot API would refuse ("can't parse entities")."""


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED:
            raise TelegramHtmlError(f"unsupported start tag {tag!r}")
        for name, _ in attrs:
            if name not in ALLOWED[tag]:
                raise TelegramHtmlError(f"unsupported attribute {name!r} on {tag!r}")
        self.stack.append(tag)
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise TelegramHtmlError(f"unexpected end tag {tag!r} (open: {self.stack})")
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise TelegramHtmlError(f"self-closing tag {tag!r}")

    def unknown_decl(self, data: str) -> None:
        raise TelegramHtmlError(f"declaration {data!r}")

    def handle_comment(self, data: str) -> None:
        raise TelegramHtmlError("comment")


def parse(html: str) -> _Checker:
    """Parses ``html``; raises TelegramHtmlError on anything Telegram would refuse."""
    if bad := _STRAY.search(html):
        raise TelegramHtmlError(f"unescaped {bad.group(0)!r} at offset {bad.start()}")
    checker = _Checker()
    checker.feed(html)
    checker.close()
    if checker.stack:
        raise TelegramHtmlError(f"unclosed tags {checker.stack}")
    return checker


def visible_text(html: str) -> str:
    """The text a reader sees, after Telegram has turned the tags into entities."""
    return "".join(parse(html).text)


def tags_used(html: str) -> set[str]:
    return set(parse(html).tags)
