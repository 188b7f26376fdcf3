"""Answering several questions at once: the same answers as one by one, from one embedding call."""

from __future__ import annotations

import pytest

from newsbot.retrieval.retriever import Retriever

QUESTIONS = ["when does Scholz visit Kyiv?", "what did the central bank do?", "will rivers flood?"]


def test_answers_are_those_of_answer_and_the_questions_are_embedded_together(retriever: Retriever) -> None:
    one_by_one = [retriever.answer(q) for q in QUESTIONS]
    calls = retriever.embedder.calls
    together = retriever.answer_many(QUESTIONS)
    assert together == one_by_one
    assert retriever.embedder.calls == calls + 1


def test_each_question_is_resolved_against_its_own_history(retriever: Retriever) -> None:
    first = retriever.answer("when does Scholz visit Kyiv?")
    [follow, alone] = retriever.answer_many(["and Moscow?", "and Moscow?"], [[first], []])
    assert follow == retriever.answer("and Moscow?", history=[first])
    assert alone == retriever.answer("and Moscow?")


def test_bad_batches_are_refused(retriever: Retriever) -> None:
    with pytest.raises(ValueError, match="2 questions but 1 histories"):
        retriever.answer_many(["a?", "b?"], [[]])
    with pytest.raises(ValueError, match="the question is empty"):
        retriever.answer_many(["a?", "  "])
    assert retriever.answer_many([]) == []


def test_warm_up_answers_one_full_batch_in_one_embedding_call(retriever: Retriever) -> None:
    calls, texts = retriever.embedder.calls, retriever.embedder.texts_embedded
    retriever.warm_up(16)
    assert retriever.embedder.calls == calls + 1
    assert retriever.embedder.texts_embedded == texts + 16
    with pytest.raises(ValueError, match="batch must be at least 1, got 0"):
        retriever.warm_up(0)
