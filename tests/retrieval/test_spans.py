from __future__ import annotations

import pytest

from newsbot.retrieval.spans import answer_type, find_span


@pytest.mark.parametrize(
    "question,kind",
    [
        ("When does Scholz visit Kyiv?", "date"),
        ("In what year was it founded?", "date"),
        ("How many troops are there?", "number"),
        ("how much did gas cost?", "number"),
        ("Who leads the talks?", "person"),
        ("Which president spoke?", "person"),
        ("Where are the talks?", "place"),
        ("Which city hosts them?", "place"),
        ("Why did prices rise?", None),
        ("What did Scholz say?", None),
    ],
)
def test_answer_type(question: str, kind: str | None) -> None:
    assert answer_type(question) == kind


@pytest.mark.parametrize(
    "question,text,expected",
    [
        (
            "How many points did the Panthers defense surrender?",
            "The Panthers defense gave up just 308 points, ranking sixth in the league.",
            "308 points",
        ),
        (
            "In what year was the university founded?",
            "The University of Chicago was founded in 1890 by John D. Rockefeller.",
            "1890",
        ),
        (
            "Who founded the University of Chicago?",
            "The University of Chicago was founded in 1890 by John D. Rockefeller.",
            "John D. Rockefeller",
        ),
        ("How much did the stadium cost?", "The stadium cost $1.2 billion to build.", "$1.2 billion"),
        ("When does Macron travel to Kyiv?", "Macron will travel to Kyiv on Tuesday for talks.", "Tuesday"),
        ("Where were the talks held?", "The talks were held in Geneva last week.", "Geneva"),
        ("When does Scholz visit Kyiv?", "Scholz will travel to Kyiv and Moscow on February 14-15.", "February 14-15"),
        ("When is the summit?", "The summit runs from 3 to 4 March 2022 in Paris.", "3 to 4 March 2022"),
    ],
)
def test_span_is_found_and_excludes_what_the_question_names(question: str, text: str, expected: str) -> None:
    span = find_span(question, text, answer_type(question))
    assert span is not None and text[span.start : span.end] == expected


def test_no_candidate_no_span() -> None:
    assert find_span("When did it happen?", "It happened after the talks.", "date") is None
    assert find_span("Why?", "Because.", None) is None
