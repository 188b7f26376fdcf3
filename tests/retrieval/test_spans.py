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


SEED_SENTENCE = "As Macron and Putin meet in Moscow, German Chancellor Olaf Scholz will meet Biden in Washington, DC."


def _entities(text: str, *named: tuple[str, str]):
    from newsbot.index.entities import Entity

    return tuple(Entity(text.index(name), text.index(name) + len(name), label) for name, label in named)


def test_stored_entities_are_the_candidates_and_the_questions_own_names_are_not() -> None:
    entities = _entities(
        SEED_SENTENCE,
        ("Macron", "PERSON"), ("Putin", "PERSON"), ("Moscow", "GPE"), ("German", "NORP"),
        ("Olaf Scholz", "PERSON"), ("Biden", "PERSON"), ("Washington, DC", "GPE"),
    )  # fmt: skip
    span = find_span("who met Biden?", SEED_SENTENCE, answer_type("who met Biden?"), entities)
    assert span is not None and SEED_SENTENCE[span.start : span.end] == "Olaf Scholz"
    span = find_span("where will Scholz meet Biden?", SEED_SENTENCE, "place", entities)
    assert span is not None and SEED_SENTENCE[span.start : span.end] == "Washington, DC"
    # Entities of no fitting label: no short answer rather than a guess.
    assert find_span("how many people met?", SEED_SENTENCE, "number", entities) is None


@pytest.mark.parametrize("question", ["who is Scholz?", "who is Macron?", "what is NATO?", "Who was Olaf Scholz"])
def test_who_is_x_asks_for_a_description_not_a_name(question: str) -> None:
    assert answer_type(question) is None


@pytest.mark.parametrize(
    "question,kind",
    [
        ("which newspaper reported it?", "organisation"),
        ("what agency said that?", "organisation"),
        ("who warned the west?", "person"),
        ("how long did the talks last?", "number"),
    ],
)
def test_question_kinds(question: str, kind: str) -> None:
    assert answer_type(question) == kind
