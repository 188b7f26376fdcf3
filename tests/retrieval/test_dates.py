from __future__ import annotations

from datetime import date

import pytest

from newsbot.retrieval.dates import find_date_window
from newsbot.retrieval.retriever import Retriever

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
    hits = retriever.search("troops this week", k=10, mode="hybrid")
    assert {h.article.date for h in hits} == {date(2022, 3, 1)}


def test_answer_reports_the_date_filter(retriever: Retriever) -> None:
    answer = retriever.answer("how many troops were near the border in March 2022?")
    assert answer.date_filter and "2022-03-01" in answer.date_filter
    assert all(c.date == date(2022, 3, 1) for c in answer.citations)


def test_articles_disagreeing_over_time_answer_with_the_newest_as_of(retriever: Retriever) -> None:
    answer = retriever.answer("How many troops has Russia mustered near its borders with Ukraine?")
    assert answer.confident
    assert answer.citations[0].date == date(2022, 3, 1)
    assert answer.as_of == date(2022, 3, 1)
    assert "150,000" in answer.answer
