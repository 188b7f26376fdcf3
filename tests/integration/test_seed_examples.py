"""Questions a new user asks of the seed article: each is answered right or shows no bold answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsbot.index.builder import IndexBuilder
from newsbot.retrieval.retriever import Retriever

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def seed_retriever(real_embedder, tmp_path_factory) -> Retriever:
    from tests.conftest import SEEDS

    index = tmp_path_factory.mktemp("seed") / "index"
    IndexBuilder(real_embedder).build(Path(SEEDS), index)
    return Retriever.open(index, embedder=real_embedder)


@pytest.mark.parametrize(
    "question,right",
    [
        ("when does Scholz visit Kyiv?", "February 14-15"),
        ("who is Scholz?", None),  # a description: no name answers it
        ("who is Macron?", None),
        ("who met Biden?", "Scholz"),
        ("when does Macron travel to Moscow?", "Monday"),
    ],
)
def test_the_bold_answer_is_right_or_absent(seed_retriever: Retriever, question: str, right: str | None) -> None:
    answer = seed_retriever.answer(question)
    bold = answer.short_answer
    assert bold is None or (right is not None and right in bold), f"{question!r} -> bold {bold!r}"


@pytest.mark.parametrize(
    "question,span",
    [("when does Scholz visit Kyiv?", "February 14-15"), ("who is Scholz?", None), ("who is Macron?", None)],
)
def test_with_every_bold_span_shown_the_entity_is_the_asked_for_kind(
    seed_retriever: Retriever, question: str, span: str | None
) -> None:
    # The shipped bold threshold may hide these; the span logic under it must still be right.
    eager = Retriever(seed_retriever.reader, seed_retriever.embedder, bold_confidence=0.0)
    assert eager.answer(question).short_answer == span


def test_a_follow_up_about_a_thing_is_not_rewritten_to_a_person(seed_retriever: Retriever) -> None:
    first = seed_retriever.answer("when does Scholz visit Kyiv?")
    follow = seed_retriever.answer("how much did it cost?", history=[first])
    assert "Scholz cost" not in (follow.resolved_question or follow.question)


def test_he_after_a_question_about_a_place_is_not_the_place(seed_retriever: Retriever) -> None:
    # The small entity model tags "Kyiv" as a person in the seed article.
    first = seed_retriever.answer("what happened in Kyiv?")
    follow = seed_retriever.answer("what did he say?", history=[first])
    assert "Kyiv say" not in (follow.resolved_question or follow.question)


def test_he_after_a_question_about_a_person_is_that_person(seed_retriever: Retriever) -> None:
    first = seed_retriever.answer("when does Scholz visit Kyiv?")
    follow = seed_retriever.answer("and when does he go to Moscow?", history=[first])
    assert follow.resolved_question == "when does Scholz go to Moscow?"
