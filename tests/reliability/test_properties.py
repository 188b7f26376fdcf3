"""Property-based: chunks cite the article exactly and lose nothing; readers keep paragraphs."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsbot.index.builder import passage_text
from newsbot.index.chunking import Chunker, sentence_spans
from newsbot.index.readers import FolderReader
from newsbot.index.records import Article
from tests.fakes.embedder import FakeEmbedder

count_tokens = FakeEmbedder().count_tokens

# Words that trouble sentence splitters and tokenizers: abbreviations, decimals, quotes, markup,
# scripts other than Latin, emoji, and one very long word with no space to cut at.
WORDS = st.one_of(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzé", min_size=1, max_size=12),
    st.sampled_from(
        [
            "Dr.",
            "U.S.",
            "3.5",
            "e.g.",
            '"quoted"',
            "(aside)",
            "<b>",
            "&amp;",
            "中文",
            "🙂",
            "Kyiv's",
            "—",
            "x" * 300,
            "a.b.c.d",
            "...",
            "?!",
            "Mr.",
        ]
    ),
)
SENTENCE = st.builds(
    lambda words, end: " ".join(words) + end,
    st.lists(WORDS, min_size=1, max_size=40),
    st.sampled_from([".", "!", "?", "", "..."]),
)
PARAGRAPH = st.builds(" ".join, st.lists(SENTENCE, min_size=1, max_size=8))
TITLE = st.builds(" ".join, st.lists(WORDS, min_size=1, max_size=30))
SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW
@given(
    title=TITLE,
    paragraphs=st.lists(PARAGRAPH, min_size=1, max_size=6),
    max_tokens=st.integers(8, 96),
    overlap=st.integers(0, 2),
    window=st.integers(96, 254),
)
def test_chunks_cite_exactly_cover_everything_and_fit_the_model(title, paragraphs, max_tokens, overlap, window) -> None:
    article = Article.from_paragraphs(title, paragraphs, path="a.txt")
    chunker = Chunker(count_tokens, max_tokens, overlap, window=window)
    chunks = chunker.split(article, first_id=7)
    title = chunker.embedded_title(article.title)  # what is embedded with each chunk
    text = article.text
    assert chunks
    covered = bytearray(len(text))
    spans = article.paragraph_spans()
    for n, chunk in enumerate(chunks):
        assert (chunk.id, chunk.ordinal, chunk.article_id) == (7 + n, n, article.id)
        assert chunk.text == text[chunk.start : chunk.end] and chunk.text.strip() == chunk.text
        assert count_tokens(chunk.text) <= max_tokens
        if count_tokens(title) + 1 <= window - 8:  # beyond that the title alone fills the window
            assert count_tokens(passage_text(title, chunk.text)) <= window, "the model would cut the tail"
        assert spans[chunk.paragraph - 1][0] <= chunk.start < spans[chunk.paragraph - 1][1] + 1
        assert spans[chunk.paragraph_end - 1][0] < chunk.end <= spans[chunk.paragraph_end - 1][1]
        covered[chunk.start : chunk.end] = b"\1" * (chunk.end - chunk.start)
    lost = [c for c, seen in zip(text, covered, strict=True) if not seen and not c.isspace()]
    assert not lost, f"characters in no chunk: {''.join(lost)[:80]!r}"
    for p_start, p_end in spans:
        for s_start, s_end in sentence_spans(text, p_start, p_end):
            if count_tokens(text[s_start:s_end]) <= min(max_tokens, window // 2):
                assert any(c.start <= s_start and s_end <= c.end for c in chunks), text[s_start:s_end]


# Paragraph text for the readers: tricky but legal characters, including line separators that
# str.splitlines() (not JSON) treats as line ends.
PARA_CHARS = st.sampled_from([*list("abc xyz.,;:'\"!?-#<>&é中🙂\t"), "\xa0", "\u2028", "\u2029", "\x85"])
READER_PARAGRAPH = st.builds(
    lambda head, rest: head + rest,
    st.text(alphabet="abcdefghij", min_size=1, max_size=8),
    st.text(alphabet=PARA_CHARS, max_size=60),
)
READER_TITLE = st.builds(
    lambda head, rest: head + rest,
    st.text(alphabet="ABCDEFGH", min_size=1, max_size=5),
    st.text(alphabet="abcdefgh é中'", max_size=30),
)


def _read_one(tmp_path: Path, name: str, content: str):
    folder = tmp_path / "seeds"
    if folder.exists():
        for old in folder.iterdir():
            old.unlink()
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(content, encoding="utf-8")
    report = FolderReader(folder).read()
    assert not report.failures, report.failures
    return report.articles


@SLOW
@given(
    title=READER_TITLE,
    paragraphs=st.lists(READER_PARAGRAPH, min_size=1, max_size=6),
    kind=st.sampled_from(["txt", "md", "jsonl", "jsonl-raw", "txt-crlf"]),
)
def test_readers_round_trip_paragraphs(tmp_path_factory, title, paragraphs, kind) -> None:
    tmp_path = tmp_path_factory.mktemp("r")
    want = [p.strip() for p in paragraphs]
    body = "\n\n".join(paragraphs)
    if kind == "txt":
        articles = _read_one(tmp_path, "a.txt", f"{title}\n\n{body}\n")
    elif kind == "txt-crlf":
        articles = _read_one(tmp_path, "a.txt", f"{title}\r\n\r\n{body}\r\n".replace("\n\n", "\r\n\r\n"))
    elif kind == "md":
        articles = _read_one(tmp_path, "a.md", f"# {title}\n\n{body}\n")
    else:
        record = json.dumps({"title": title, "text": body}, ensure_ascii=kind == "jsonl")
        articles = _read_one(tmp_path, "a.jsonl", record + "\n")
    assert len(articles) == 1
    assert articles[0].title == title.strip()
    assert articles[0].text.split("\n\n") == [p for p in want if p]
