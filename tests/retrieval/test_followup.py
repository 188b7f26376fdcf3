from __future__ import annotations

from newsbot.retrieval.followup import resolve_followup
from newsbot.retrieval.records import Answer, Mention
from newsbot.retrieval.retriever import Retriever


def turn(question: str, answer: str | None = None, kind: str | None = None, **labels: str) -> Answer:
    """A past turn; ``labels`` name its excerpts' entities (``Kyiv="GPE"``), as the index tags them."""
    mentions = [Mention(text=name.replace("_", " "), label=label) for name, label in labels.items()]
    return Answer(
        question=question,
        answer=answer,
        confident=answer is not None,
        citations=[],
        answer_type=kind,
        mentions=mentions,
    )


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


def test_it_after_a_turn_about_a_person_stays_on_that_turn_not_the_person() -> None:
    history = [turn("when does Scholz visit Kyiv?", "February 14-15", "date", Scholz="PERSON", Kyiv="GPE")]
    resolved = resolve_followup("how much did it cost?", history)
    assert "Scholz cost" not in resolved
    assert resolved == "how much did it cost (Scholz, Kyiv)?"


def test_he_is_only_ever_a_person() -> None:
    history = [turn("what did the White House say about Ukraine?", White_House="ORG", Ukraine="GPE")]
    assert resolve_followup("what did he say next?", history) == "what did he say next (White House, Ukraine)?"
    history = [turn("what did the White House tell Macron?", White_House="ORG", Macron="PERSON")]
    assert resolve_followup("what did he answer?", history) == "what did Macron answer?"


def test_a_name_after_in_is_a_place_even_when_tagged_a_person() -> None:
    # The small entity model tags "Kyiv" as a person now and then.
    history = [turn("what happened in Kyiv?", Kyiv="PERSON")]
    assert "Kyiv say" not in resolve_followup("what did he say?", history)


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
