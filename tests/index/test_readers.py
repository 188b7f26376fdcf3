"""Every format is read into Articles; every bad file is named, never silently dropped."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from newsbot.index.readers import FolderReader
from tests.conftest import SEEDS, write_article


def read(folder: Path, **kw):
    return FolderReader(folder, ignore=["README*"], **kw).read()


def test_seed_article_gets_title_paragraphs_and_sidecar_metadata():
    report = read(SEEDS)
    assert report.failures == []
    [article] = report.articles
    assert article.title.startswith("Macron to meet Putin")
    assert article.source == "Al Jazeera" and article.date == date(2022, 2, 6)
    assert len(article.paragraph_spans()) == 24
    assert article.text.endswith("Scholz will travel to Kyiv and Moscow on February 14-15.")


def test_markdown_front_matter_overrides_inferred_title(tmp_path):
    (tmp_path / "a.md").write_text(
        "---\ntitle: Real title\ndate: 2022-03-01\nsource: Wire\n"
        "url: https://example.org/a\n---\n# Heading\n\nBody one.\n\nBody two.\n"
    )
    [a] = read(tmp_path).articles
    assert (a.title, a.date, a.source, a.url) == ("Real title", date(2022, 3, 1), "Wire", "https://example.org/a")
    assert a.text.split("\n\n") == ["# Heading", "Body one.", "Body two."]


def test_hard_wrapped_paragraphs_are_joined(tmp_path):
    (tmp_path / "w.txt").write_text("Title\n\nline one\nline two\n\nsecond para\n")
    [a] = read(tmp_path).articles
    assert a.text == "line one line two\n\nsecond para"


def test_html_main_text_title_and_date_come_from_trafilatura(tmp_path):
    body = "".join(
        f"<p>Paragraph {i} tells of the harbour bridge opening to traffic in the city.</p>" for i in range(6)
    )
    (tmp_path / "page.html").write_text(
        "<html><head><title>Bridge opens</title><meta property='article:published_time' "
        "content='2021-05-04'><script>var secret='do-not-index';</script></head><body>"
        f"<nav>Home | About</nav><article><h1>Bridge opens</h1>{body}</article></body></html>"
    )
    [a] = read(tmp_path).articles
    assert a.title == "Bridge opens" and a.date == date(2021, 5, 4)
    assert "harbour bridge" in a.text and "do-not-index" not in a.text


def test_jsonl_articles_and_broken_lines_are_reported_per_line(tmp_path):
    lines = [
        json.dumps({"text": "First body.", "title": "One", "date": "2020-01-02"}),
        "{not json",
        json.dumps({"title": "no text"}),
        json.dumps({"text": "Second body."}),
    ]
    (tmp_path / "feed.jsonl").write_text("\n".join(lines) + "\n")
    report = read(tmp_path)
    assert [a.path for a in report.articles] == ["feed.jsonl#L1", "feed.jsonl#L4"]
    assert {f.path for f in report.failures} == {"feed.jsonl#L2", "feed.jsonl#L3"}
    assert "invalid JSON" in next(f.reason for f in report.failures if f.path.endswith("L2"))


def test_sidecar_supplies_metadata_relative_to_its_folder_and_cannot_escape(tmp_path):
    write_article(tmp_path / "sub", "x.txt", "Title X", "Body of x.")
    (tmp_path / "sub" / "meta.jsonl").write_text(
        json.dumps({"file": "x.txt", "date": "2022-02-14", "source": "Wire", "url": "u"})
        + "\n"
        + json.dumps({"file": "../../outside.txt", "title": "evil"})
        + "\n"
    )
    report = read(tmp_path)
    [a] = report.articles
    assert (a.path, a.date, a.source) == ("sub/x.txt", date(2022, 2, 14), "Wire")
    assert any("outside the seeds folder" in f.reason for f in report.failures)


def test_bad_files_are_named_with_their_reason_and_good_ones_still_read(tmp_path):
    write_article(tmp_path, "good.txt", "Good", "Fine text.")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "blank.md").write_text("   \n\n  ")
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 title\n\nna\xefve".encode("latin-1"))
    (tmp_path / "big.txt").write_text("Big\n\n" + "word " * 400)
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / "utf16.txt").write_bytes("Title sixteen\n\nBody in UTF-16.".encode("utf-16"))
    report = read(tmp_path, max_file_bytes=1000)
    assert sorted(a.path for a in report.articles) == ["good.txt", "utf16.txt"]
    reasons = {f.path: f.reason for f in report.failures}
    assert set(reasons) == {"empty.txt", "blank.md", "bin.txt", "latin1.txt", "big.txt"}
    assert "binary" in reasons["bin.txt"] and "UTF-8" in reasons["latin1.txt"]
    assert "limit" in reasons["big.txt"] and "empty" in reasons["empty.txt"]
    assert [s.path for s in report.skipped] == ["image.png"]


def test_news_corpus_reads_whole_with_sidecar_dates():
    root = Path(__file__).resolve().parents[2] / "corpora" / "news"
    report = FolderReader(root, ignore=["README*"]).read()
    assert len(report.articles) == 1657 and report.failures == []
    assert all(a.date and a.source and a.url for a in report.articles)
