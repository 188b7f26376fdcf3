"""Answer -> Telegram HTML: escaping, the bold span, and splitting at 4096 UTF-16 units."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsbot.bot.render import (
    MAX_MESSAGE,
    TELEGRAM_TAGS,
    answer_span,
    render_answer,
    render_sources,
    split_html,
    utf16_len,
)
from newsbot.retrieval.records import AlsoIn, Answer, Citation
from newsbot.testing.telegram_html import ALLOWED, parse, tags_used, visible_text

NASTY = 'Tom & Jerry <script>alert("x")</script> say "hi" > 3 <b>not bold</b> 😀'


def citation(
    n: int = 1, excerpt: str = "Scholz will visit Kyiv on February 14-15.", start: int = 100, **extra: object
) -> Citation:
    fields = dict(
        n=n,
        title=f"Title {n} <i>&</i>",
        source="Wire & Co",
        date=date(2022, 2, 11),
        url=f'https://example.org/a?x={n}&y="q"',
        path=f"a{n}.txt",
        paragraph=2,
        excerpt=excerpt,
        score=0.8,
        start=start,
        end=start + len(excerpt),
        article_id=f"id{n}",
        chunk_id=n,
    )
    return Citation(**(fields | extra))


def answer(**extra: object) -> Answer:
    c = citation()
    fields = dict(
        question="when?", answer=c.excerpt, confident=True, citations=[c, citation(2, NASTY)], answer_citation=1
    )
    return Answer(**(fields | extra))


def test_answer_span_is_bold_in_answer_and_excerpt() -> None:
    c = citation()
    at = c.excerpt.index("February 14-15")
    html = render_answer(answer(answer_start=c.start + at, answer_end=c.start + at + len("February 14-15")))
    assert html.count("<b>February 14-15</b>") == 2
    assert visible_text(html).startswith(c.excerpt)


@pytest.mark.parametrize("start,end", [(None, None), (5, None), (0, 10), (100, 10_000), (120, 110)])
def test_missing_or_inconsistent_span_is_not_bolded(start: int | None, end: int | None) -> None:
    a = answer(answer_start=start, answer_end=end)
    assert answer_span(a) is None
    assert "<b>February" not in render_answer(a)


def test_article_text_is_escaped_and_only_telegram_tags_are_used() -> None:
    for html in (render_answer(answer()), render_answer(answer(), full=True), render_sources(answer())):
        assert tags_used(html) <= set(ALLOWED) and tags_used(html) <= TELEGRAM_TAGS
        shown = visible_text(html)
        assert NASTY in shown and "Title 1 <i>&</i>" in shown
        assert "<script>" not in html


def test_title_is_linked_only_when_the_url_is_known() -> None:
    linked = render_answer(answer())
    assert '<a href="https://example.org/a?x=1&amp;y=&quot;q&quot;">' in linked
    bare = render_answer(answer(citations=[citation(url=None)]))
    assert "<a " not in bare and "<b>Title 1 &lt;i&gt;&amp;&lt;/i&gt;</b>" in bare


def test_also_in_names_and_links_each_other_article_in_the_full_citation() -> None:
    others = (
        AlsoIn(
            title="Other <x>", source="Wire", date=date(2022, 2, 12), url="https://example.org/o?a=1&b=2", path="o.txt"
        ),
        AlsoIn(title="Plain", source=None, date=None, url=None, path="p.txt"),
    )
    html = render_sources(answer(citations=[citation(also_in=others)]))
    parse(html)
    assert (
        '; also in <a href="https://example.org/o?a=1&amp;b=2">Other &lt;x&gt;</a> (Wire, 12 Feb 2022), <b>Plain</b>'
        in html
    )
    assert "Other" not in render_answer(answer(citations=[citation(also_in=others)]))  # short form: no also-in


def test_decline_says_so_and_lists_the_nearest_articles() -> None:
    html = render_answer(answer(answer=None, confident=False, answer_citation=None))
    assert "could not find" in html and "Title 1" in html and "<blockquote>" in html
    assert "could not find" in render_answer(Answer(question="q", answer=None, confident=False, citations=[]))


def test_long_answer_is_split_into_valid_messages_on_paragraph_boundaries() -> None:
    paragraph = "A sentence about Kyiv 😀 and <Moscow> & more. " * 30
    cites = [citation(n, paragraph.strip(), start=0) for n in range(1, 13)]
    html = render_answer(answer(citations=cites))
    assert utf16_len(html) > MAX_MESSAGE
    pieces = split_html(html)
    assert len(pieces) > 1
    for piece in pieces:
        assert utf16_len(piece) <= MAX_MESSAGE
        parse(piece)  # balanced, allowed tags only
        assert piece.rstrip().endswith(("</blockquote>", "</a>", "</b>", ".")), piece[-40:]
    assert "".join(visible_text(p) for p in pieces).replace("\n", "") == visible_text(html).replace("\n", "")


def test_one_huge_excerpt_is_cut_between_sentences_and_the_blockquote_reopened() -> None:
    excerpt = "".join(f"Sentence {i} has an emoji 🎉 in it. " for i in range(400))
    pieces = split_html(render_answer(answer(citations=[citation(1, excerpt, start=0)], answer="x")))
    assert len(pieces) >= 3
    for piece in pieces[1:]:
        assert piece.startswith("<blockquote>Sentence ")
    for piece in pieces[:-1]:
        assert piece.endswith("in it.</blockquote>")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["", "b", "i", "blockquote", "code"]),
            st.text(alphabet=st.sampled_from(list("ab .\n&<>😀é")), max_size=60),
        ),
        max_size=40,
    ),
    st.integers(min_value=40, max_value=300),
)
def test_split_never_breaks_a_tag_an_entity_or_a_surrogate_pair(parts: list[tuple[str, str]], limit: int) -> None:
    from html import escape

    html = "".join(f"<{t}>{escape(s)}</{t}>" if t else escape(s) for t, s in parts)
    pieces = split_html(html, limit)
    for piece in pieces:
        assert utf16_len(piece) <= limit
        parse(piece)
        piece.encode("utf-8")  # a lone surrogate would fail here
    assert "".join(visible_text(p) for p in pieces).replace(" ", "").replace("\n", "") == visible_text(html).replace(
        " ", ""
    ).replace("\n", "")
