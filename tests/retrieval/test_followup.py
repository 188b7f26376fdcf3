from __future__ import annotations

from newsbot.retrieval.followup import resolve_followup
from newsbot.retrieval.records import Answer
from newsbot.retrieval.retriever import Retriever


def turn(question: str, answer: str | None = None, kind: str | None = None) -> Answer:
    return Answer(question=question, answer=answer, confident=answer is not None, citations=[], answer_type=kind)


def test_what_about_replaces_the_last_entity() -> None:
    assert (
        resolve_followup("what about Germany?", [turn("what did Scholz say about Russia?")])
        == "what did Scholz say about Germany?"
    )


def test_pronoun_takes_the_person_of_the_last_question() -> None:
    history = [turn("when does Macron visit Moscow?", "Monday", "date")]
    assert resolve_followup("and when does he go to Kyiv?", history) == "when does Macron go to Kyiv?"


def test_pronoun_after_a_who_answer_takes_the_answer() -> None:
    history = [turn("Who is the German chancellor?", "Olaf Scholz", "person")]
    assert resolve_followup("when does he visit Kyiv?", history) == "when does Olaf Scholz visit Kyiv?"


def test_only_the_last_turn_counts() -> None:
    history = [turn("when does Macron visit Moscow?"), turn("what did Scholz say about Russia?")]
    assert "Scholz" in resolve_followup("and when does he go to Kyiv?", history)


def test_standalone_questions_are_left_alone() -> None:
    history = [turn("when does Macron visit Moscow?")]
    for q in ("Who is Olaf Scholz?", "what is the price of gas in Europe?"):
        assert resolve_followup(q, history) == q
    assert resolve_followup("and when?", []) == "and when?"


def test_answer_with_history_resolves_and_reports_it(retriever: Retriever) -> None:
    first = retriever.answer("when does Scholz visit Kyiv?")
    second = retriever.answer("and when does he go to Moscow?", history=[first])
    assert second.question == "and when does he go to Moscow?"
    assert second.resolved_question == "when does Scholz go to Moscow?"
    assert second.citations[0].title == "Scholz to visit Kyiv and Moscow"
    assert retriever.answer("when does Scholz visit Kyiv?", history=[]).resolved_question is None
