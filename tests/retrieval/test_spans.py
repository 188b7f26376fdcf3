from __future__ import annotations

import pytest

from newsbot.index.entities import Entity
from newsbot.retrieval.spans import SpanCandidate, answer_type, find_span, span_candidates


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


def _tagged(text: str, *named: tuple[str, str]) -> list[Entity]:
    return [Entity(text.index(name), text.index(name) + len(name), label) for name, label in named]


def _by_text(question: str, text: str, kind: str, entities: list[Entity]) -> dict[str, SpanCandidate]:
    return {text[c.start : c.end]: c for c in span_candidates(question, text, kind, entities)}


def test_an_amount_keeps_the_unit_the_question_asks_in() -> None:
    text = "Between 30,000 and 40,000 people died of plague in Paris in 1466."
    found = _by_text("how many people died?", text, "number", _tagged(text, ("40,000", "CARDINAL"), ("1466", "DATE")))
    assert "40,000 people" in found  # not the bare number, and not "people died" either
    assert found["40,000 people"].unit_beside == 1


def test_the_label_the_questions_words_call_for() -> None:
    text = "According to the 1901 census, out of 711,988 inhabitants 56.2% were Catholics."
    entities = _tagged(text, ("1901", "DATE"), ("711,988", "CARDINAL"), ("56.2%", "PERCENT"))
    found = _by_text("what percentage of the inhabitants were Catholic?", text, "number", entities)
    assert found["56.2%"].label_asked == 1 and found["711,988"].label_asked == -1
    plain = _by_text("how many inhabitants were there?", text, "number", entities)
    assert plain["711,988 inhabitants"].label_asked == 0  # the question names no kind of amount


def test_one_name_of_a_list_is_marked_listed() -> None:
    text = "The paper was by Michael E. Mann, Raymond S. Bradley and Malcolm K. Hughes, with help from Tom."
    entities = _tagged(
        text, ("Michael E. Mann", "PERSON"), ("Raymond S. Bradley", "PERSON"), ("Malcolm K. Hughes", "PERSON"),
        ("Tom", "PERSON"),
    )  # fmt: skip
    found = _by_text("who wrote the paper?", text, "person", entities)
    assert found["Michael E. Mann"].listed and found["Malcolm K. Hughes"].listed
    assert not found["Tom"].listed


def test_the_name_beside_the_questions_words_has_more_of_them_beside_it() -> None:
    text = "Kawann Short led the team in sacks with 11. Fellow lineman Mario Addison added 6 sacks. The Panthers line …"
    entities = _tagged(text, ("Kawann Short", "PERSON"), ("Mario Addison", "PERSON"), ("Panthers", "ORG"))
    found = _by_text("who led the Panthers in sacks?", text, "person", entities)
    assert found["Kawann Short"].beside > found["Mario Addison"].beside


def test_thousands_after_a_thin_space_stay_with_their_number() -> None:
    text = "An estimated 35\u202f000 to 60\u202f000 ventilators would be needed."
    found = _by_text(
        "how many ventilators would be needed?", text, "number", _tagged(text, ("000 to 60\u202f000", "CARDINAL"))
    )
    assert list(found) == ["35\u202f000 to 60\u202f000 ventilators"]


def test_an_age_is_not_a_day_on_the_calendar() -> None:
    text = "On March 2, Mikhail Gorbachev turned 91."
    found = _by_text(
        "how old did gorbachev turn?", text, "number", _tagged(text, ("March 2", "DATE"), ("91", "CARDINAL"))
    )
    assert list(found) == ["91"]
