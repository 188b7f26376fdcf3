from __future__ import annotations

from datetime import date

import pytest

from newsbot.index.builder import IndexBuilder
from newsbot.index.records import ArticleInfo, Chunk
from newsbot.retrieval.answer import AnswerComposer, Excerpt
from newsbot.retrieval.dates import find_date_window
from newsbot.retrieval.records import Hit
from newsbot.retrieval.retriever import Retriever
from tests.conftest import write_article

REF = date(2022, 3, 20)


@pytest.mark.parametrize(
    "question,start,end",
    [
        ("what happened on 12 February?", date(2022, 2, 12), date(2022, 2, 12)),
        ("talks in March 2022", date(2022, 3, 1), date(2022, 3, 31)),
        ("news of 2022-02-06", date(2022, 2, 6), date(2022, 2, 6)),
        ("what did he say on February 7th, 2021?", date(2021, 2, 7), date(2021, 2, 7)),
        ("what happened in 2021", date(2021, 1, 1), date(2021, 12, 31)),
        ("what did Putin say last week", date(2022, 3, 7), date(2022, 3, 13)),
        ("anything yesterday?", date(2022, 3, 19), date(2022, 3, 19)),
        ("in the past 3 days", date(2022, 3, 17), date(2022, 3, 20)),
        # A day with no year is its latest occurrence up to the newest article.
        ("what happened on 1 April?", date(2021, 4, 1), date(2021, 4, 1)),
        # A day and month followed by more words still reads as a date after "on" or with a year.
        ("what did putin say on february 24 about ukraine", date(2022, 2, 24), date(2022, 2, 24)),
        ("talks on march 10 kyiv", date(2022, 3, 10), date(2022, 3, 10)),
        ("march 3 2022 statement", date(2022, 3, 3), date(2022, 3, 3)),
        ("news from 12 february", date(2022, 2, 12), date(2022, 2, 12)),
    ],
)
def test_date_words_become_a_window(question: str, start: date, end: date) -> None:
    window = find_date_window(question, REF)
    assert window is not None and (window.start, window.end) == (start, end)
    assert question[window.match_start : window.match_end] == window.text


@pytest.mark.parametrize(
    "question",
    [
        "when does Scholz visit Kyiv?",
        "he may go",
        "how many troops?",
        # Words that only look like dates.
        "why did protesters march 10 miles?",
        "what may 3 nations sign?",
        "what changed after the sept 11 attacks?",
        "did the troops march 5 km to the border",
    ],
)
def test_no_date_words_no_window(question: str) -> None:
    assert find_date_window(question, REF) is None


EXPLICIT = [
    # One day named exactly, the way an article's date is named.
    "what happened on 12 February?",
    "troops near the border on the 10th of February",
    "news of 2022-02-06",
    "what did he say on February 7th, 2021?",
    "march 3 2022 statement",
    # The news of a date is what is asked for.
    "articles from last week",
    "what happened yesterday",
    "news from 12 february",
    "which stories in March 2022 mention Kyiv?",
]
MENTIONED = [
    # The date may be the event's, reported by a later article.
    "by how much did trade grow last year",
    "who won the presidential election in march 2022",
    "what did Putin say last week",
    "putin biden call february 12",
    "how many medals had ukraine won by mid march",
    "what will a stamp cost from april 2011",
    "what did putin say after sept 11",
]


@pytest.mark.parametrize("question,explicit", [(q, True) for q in EXPLICIT] + [(q, False) for q in MENTIONED])
def test_only_a_date_the_question_clearly_asks_for_is_explicit(question: str, explicit: bool) -> None:
    window = find_date_window(question, REF)
    assert window is not None and window.explicit is explicit


def test_a_date_in_the_question_keeps_only_articles_of_that_date(retriever: Retriever) -> None:
    unfiltered = retriever.search("troops near the border", k=10, mode="hybrid")
    assert len({h.article.date for h in unfiltered}) > 1
    for mode in ("dense", "bm25", "hybrid"):
        hits = retriever.search("troops near the border on 10 February", k=10, mode=mode)
        assert hits, mode
        assert {h.article.date for h in hits} == {date(2022, 2, 10)}, mode


def test_last_week_is_relative_to_the_newest_article(retriever: Retriever) -> None:
    # The newest article is dated 2022-03-01 (a Tuesday): "last week" is 21-27 February, no article.
    # "this week" is 28 February - 1 March: only the newest article.
    hits = retriever.search("news about troops this week", k=10, mode="hybrid")
    assert {h.article.date for h in hits} == {date(2022, 3, 1)}


def test_answer_reports_the_date_filter_or_preference(retriever: Retriever) -> None:
    explicit = retriever.answer("how many troops were near the border on 1 March 2022?")
    assert explicit.date_filter and "2022-03-01" in explicit.date_filter and explicit.date_preferred is None
    assert all(c.date == date(2022, 3, 1) for c in explicit.citations)
    preferred = retriever.answer("how many troops were near the border in March 2022?")
    assert preferred.date_filter is None
    assert preferred.date_preferred == "March 2022: 2022-03-01 to 2022-03-31"


def test_articles_disagreeing_over_time_answer_with_the_newest_as_of(retriever: Retriever) -> None:
    answer = retriever.answer("How many troops has Russia mustered near its borders with Ukraine?")
    assert answer.confident
    assert answer.citations[0].date == date(2022, 3, 1)
    assert answer.as_of == date(2022, 3, 1)
    assert "150,000" in answer.answer


def test_a_date_only_mentioned_puts_its_articles_first_without_dropping_a_better_answer(
    news_index, fake_embedder
) -> None:
    question = "how much did gas prices in Europe rise in February?"  # the article is of 20 January
    gentle = Retriever.open(news_index, embedder=fake_embedder, mode="hybrid")  # the shipped date_boost
    strong = Retriever.open(news_index, embedder=fake_embedder, mode="hybrid", date_boost=1.0)
    try:
        february = {date(2022, 2, d) for d in range(1, 29)}
        for r in (gentle, strong):
            hits = r.search(question, k=10)
            assert any(h.article.date in february for h in hits)
            assert any(h.article.title == "Gas prices in Europe" for h in hits)  # not filtered out
        # The out-of-window passage answers far better: a gentle boost keeps it first.
        assert gentle.search(question, k=10)[0].article.title == "Gas prices in Europe"
        # A full boost puts every in-window passage ahead of every other.
        hits = strong.search(question, k=10)
        inside = [h.score for h in hits if h.article.date in february]
        outside = [h.score for h in hits if h.article.date not in february]
        assert outside and min(inside) >= max(outside)
        answer = gentle.answer(question)
        assert (
            answer.date_filter is None and answer.date_preferred and "2022-02-01 to 2022-02-28" in answer.date_preferred
        )
    finally:
        gentle.close()
        strong.close()


def test_a_date_the_question_asks_for_keeps_only_its_articles(retriever: Retriever) -> None:
    for question in ("gas prices in Europe on 10 February", "news about gas prices in Europe in February"):
        for mode in ("dense", "bm25", "hybrid"):
            hits = retriever.search(question, k=10, mode=mode)
            assert hits or mode == "bm25", (question, mode)  # BM25 finds no shared word in them
            assert all(h.article.date.month == 2 for h in hits), (question, mode)
            assert all(h.article.title != "Gas prices in Europe" for h in hits), (question, mode)


def test_sept_11_attacks_is_not_a_date(tmp_path, fake_embedder) -> None:
    # An article of 11 September 2021 exists, so reading "sept 11" as a date would show.
    seeds = tmp_path / "seeds"
    write_article(seeds, "memorial.txt", "Memorial service", "A memorial service was held in a small town hall.")
    write_article(seeds, "security.txt", "Airport security", "The sept 11 attacks changed airport security for good.")
    write_article(seeds, "later.txt", "Later news", "Markets were calm on Friday.")
    sidecar = [("memorial.txt", "2021-09-11"), ("security.txt", "2022-01-05"), ("later.txt", "2022-02-01")]
    (seeds / "articles.jsonl").write_text(
        "".join(f'{{"file": "{f}", "date": "{d}"}}\n' for f, d in sidecar), encoding="utf-8"
    )
    IndexBuilder(fake_embedder, chunk_tokens=64).build(seeds, tmp_path / "index")
    r = Retriever.open(tmp_path / "index", embedder=fake_embedder, mode="hybrid", date_boost=1.0)
    try:
        for question in ("how did the sept 11 attacks change airport security?", "security after the sept 11 attacks"):
            answer = r.answer(question)
            assert answer.date_filter is None and answer.date_preferred is None, question
            assert r.search(question, k=3)[0].article.title == "Airport security", question
        # The same words read as a date do put that day's article first.
        assert r.search("what was held on sept 11?", k=3)[0].article.title == "Memorial service"
    finally:
        r.close()


def _dated(text: str, day: date, score: float) -> Excerpt:
    article = ArticleInfo(id=str(day), title="Troops", path=f"{day}.txt", date=day)
    hit = Hit(Chunk(day.toordinal(), article.id, 0, text, 0, len(text), 1, 1), article, score, 1)
    return Excerpt(hit, text, 0, len(text), score, score)


def test_a_newer_article_goes_first_only_when_it_restates_the_best_excerpt() -> None:
    best = _dated("Russia has mustered some 100,000 troops near its borders, officials said.", date(2022, 2, 10), 0.80)
    restated = _dated(
        "Russia has mustered some 150,000 troops near its borders, officials said.", date(2022, 3, 1), 0.75
    )
    other = _dated("Talks between the delegations are planned in Belarus next week.", date(2022, 3, 1), 0.75)
    ranked, as_of = AnswerComposer._newest_first([best, restated])
    assert ranked[0] is restated and as_of == date(2022, 3, 1)
    # A different statement scoring nearly as well is another answer, not a newer version of this one.
    ranked, as_of = AnswerComposer._newest_first([best, other])
    assert ranked == [best, other] and as_of is None
