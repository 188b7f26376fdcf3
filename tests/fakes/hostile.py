"""A hostile seeds folder, generated: every kind of bad file next to good ones, with what to expect.

``make_hostile_corpus(base)`` writes ``base/seeds`` and ``base/outside`` (a folder next to the
seeds holding a secret nothing may read) and returns a ``HostileCorpus`` that names each good
article with a phrase only it holds, and each bad file with a phrase of the reason it must get.
"""

from __future__ import annotations

import codecs
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

SECRET = "outsidesecretphrase"
SIZE_LIMIT = 50_000  # the max_file_bytes the hostile build runs with

_HTML = """<!DOCTYPE html>
<html><head><title>Harbour reopens after storm</title>
<script>var stolen = "scriptsecretvalue"; document.cookie = "x";</script>
<style>p { color: red; } .stylesecretrule { }</style>
</head><body onload="bodyhandlerpayload()">
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article>
<h1>Harbour reopens after storm</h1>
<p onclick="clickhandlerpayload()">The harbour at Westport reopened on Monday after a storm closed it
for three days, port officials said, and the first ferry left at dawn.</p>
<p onmouseover="hoverhandlerpayload()">Fishermen said the damage to the harbourwall was lighter
than feared, though two piers will stay shut while engineers inspect them.</p>
<img src="x.png" onerror="imgerrorpayload()">
<script>alert("inlinescriptpayload")</script>
<p>Local shops expect trade to return to normal by the weekend, the chamber of commerce said.</p>
</article>
<footer>Copyright Westport Gazette</footer>
</body></html>
"""


@dataclass
class HostileCorpus:
    seeds: Path
    outside: Path
    good: dict[str, str] = field(default_factory=dict)  # path -> phrase only that article holds
    bad: dict[str, str] = field(default_factory=dict)  # path -> phrase its reason must hold
    skipped: dict[str, str] = field(default_factory=dict)  # path -> phrase of the skip reason
    never_in_text: tuple[str, ...] = ()  # script, style and event-handler content


def _article(title: str, word: str) -> str:
    return f"{title}\n\nThe {word} report opened the day. It said little else.\n\nA second paragraph about {word}.\n"


def make_hostile_corpus(base: Path) -> HostileCorpus:
    seeds, outside = base / "seeds", base / "outside"
    seeds.mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text(f"Secret\n\nThe {SECRET} must never be indexed.\n")
    c = HostileCorpus(seeds, outside)

    def good(rel: str, content: str | bytes, phrase: str) -> None:
        path = seeds / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        c.good[rel] = phrase

    def bad(rel: str, content: str | bytes, reason: str) -> None:
        path = seeds / rel
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        c.bad[rel] = reason

    good("plain.txt", _article("Plain article", "goodplainword"), "goodplainword")
    good("deep/nested/more.md", "# Nested article\n\n" + _article("x", "nestedmarkdownword"), "nestedmarkdownword")
    good(
        "utf16.txt",
        codecs.BOM_UTF16_LE + _article("Zürich café news", "utfsixteenword").encode("utf-16-le"),
        "utfsixteenword",
    )
    good("page.html", _HTML, "harbourwall")
    c.never_in_text = (
        "scriptsecretvalue",
        "stylesecretrule",
        "bodyhandlerpayload",
        "clickhandlerpayload",
        "hoverhandlerpayload",
        "imgerrorpayload",
        "inlinescriptpayload",
        "document.cookie",
    )
    lines = [
        json.dumps({"text": "First line article\n\nAbout jsonlinegoodone things.", "title": "JSONL one"}),
        '{"text": "broken line, no closing brace"',
        "[1, 2, 3]",
        json.dumps({"title": "no text here"}),
        json.dumps({"text": "bad surrogate \ud800 inside", "title": "Surrogate"}),
        json.dumps({"text": "Second good\n\nAbout jsonlinegoodtwo things.", "date": "2022-02-30"}),
        json.dumps({"text": "Third good\n\nAbout jsonlinegoodthree things.", "date": "2022-03-01"}),
    ]
    (seeds / "mixed.jsonl").write_text("\n".join(lines) + "\n")
    c.good["mixed.jsonl#L1"] = "jsonlinegoodone"
    c.good["mixed.jsonl#L7"] = "jsonlinegoodthree"
    c.bad.update(
        {
            "mixed.jsonl#L2": "invalid JSON",
            "mixed.jsonl#L3": "JSON object",
            "mixed.jsonl#L4": "no 'text'",
            "mixed.jsonl#L5": "not valid Unicode",
            "mixed.jsonl#L6": "not an ISO date",
        }
    )
    sidecar = [
        "{not json",
        json.dumps({"file": "plain.txt", "source": "Hostile Gazette", "date": "2022-02-01"}),
        json.dumps({"file": "../outside/secret.txt", "title": "stolen"}),
        json.dumps({"file": "/etc/hostname", "title": "absolute"}),
    ]
    (seeds / "meta.jsonl").write_text("\n".join(sidecar) + "\n")
    c.bad.update(
        {
            "meta.jsonl#L1": "invalid JSON",
            "meta.jsonl#L3": "outside the seeds folder",
            "meta.jsonl#L4": "outside the seeds folder",
        }
    )

    bad("binary.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "binary file")
    bad("empty.txt", b"", "empty file")
    bad("blank.md", "   \n\n\t\n", "white space")
    bad("latin1.txt", "Café au lait\n\nPrix élevé.\n".encode("latin-1"), "not valid UTF-8")
    bad("broken-utf16.txt", codecs.BOM_UTF16_LE + b"A\x00\x00\xd8", "broken UTF-16")
    bad("big.txt", _article("Big", "oversizeword") + "filler " * (SIZE_LIMIT // 7 + 10), "byte limit")
    bad("front.md", "---\ntitle: [unclosed\n---\nBody text\n", "front matter")
    bad("title-only.txt", "Just a title\n", "no text after the title")
    bad("script-only.html", "<html><script>onlyscriptpayload()</script></html>", "no article text")
    os.symlink("loop.txt", seeds / "loop.txt")
    c.bad["loop.txt"] = "link loop"
    os.symlink("missing-target.txt", seeds / "dangling.txt")
    c.bad["dangling.txt"] = "broken link"
    os.symlink(outside / "secret.txt", seeds / "escape.txt")
    c.bad["escape.txt"] = "outside the seeds folder"
    os.symlink("..", seeds / "deep" / "up")
    c.skipped["deep/up"] = "linked folder not followed"
    os.symlink(outside, seeds / "outside-link")
    c.skipped["outside-link"] = "linked folder not followed"
    os.mkfifo(seeds / "pipe.txt")  # reading a FIFO would block the build forever
    c.bad["pipe.txt"] = "not a regular file"
    (seeds / os.fsdecode(b"name-\xff.txt")).write_text(_article("Bad name", "badnameword"))
    c.bad["name-\\xff.txt"] = "file name is not valid UTF-8"
    (seeds / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(64))
    c.skipped["photo.jpg"] = "unsupported format"
    return c
