from __future__ import annotations

from newsbot.retrieval.retriever import Retriever


def test_question_the_articles_do_not_answer_is_declined(retriever: Retriever) -> None:
    answer = retriever.answer("What is the boiling point of liquid nitrogen in kelvin?")
    assert answer.answer is None
    assert not answer.confident
    assert answer.answer_start is None and answer.answer_citation is None
    assert answer.citations, "a decline still points at the nearest articles"


def test_question_the_articles_answer_is_not_declined(retriever: Retriever) -> None:
    answer = retriever.answer("Gas prices in Europe rose by how much in January?")
    assert answer.confident and answer.answer


def test_declining_follows_min_confidence(news_index, fake_embedder) -> None:
    question = "Gas prices in Europe rose by how much in January?"
    lenient = Retriever.open(news_index, embedder=fake_embedder, min_confidence=0.0).answer(question)
    strict = Retriever.open(news_index, embedder=fake_embedder, min_confidence=1.0).answer(question)
    assert lenient.confident and lenient.confidence < 1.0
    assert not strict.confident and strict.answer is None
    assert strict.confidence == lenient.confidence
