"""Which new articles match a followed topic: the topic answered from each article alone.

A topic ("scholz kyiv visit") is put to the retriever like a question, restricted to one
article's passages; the answer's confidence (the answerability model every answer is judged by)
is the article's score for the topic. Above the threshold calibrated on news_qa's dev half
(``threshold.json`` beside this module, written by scripts/calibrate_follow.py) the article is
an alert, with the answer's best excerpt as its citation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from newsbot.retrieval.records import Answer, Citation
    from newsbot.retrieval.retriever import Retriever

THRESHOLD_FILE = Path(__file__).with_name("threshold.json")


def calibrated_threshold(path: Path = THRESHOLD_FILE) -> float:
    """The alert threshold scripts/calibrate_follow.py fitted (see the file for how)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))["threshold"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"cannot read the follow threshold from {path}: {exc}") from None
    if not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{path}: threshold must be a number from 0 to 1, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class TopicMatch:
    """An article that matches a topic: its score and the excerpt an alert cites."""

    words: str
    article_id: str
    score: float
    citation: Citation


def topic_answer(retriever: Retriever, words: str, article_id: str) -> Answer:
    """The topic answered from one article alone; ``confidence`` is the article's score."""
    return retriever.answer_within(words, [article_id])


def candidates(retriever: Retriever, words: str, article_ids: Collection[str]) -> list[str]:
    """The new articles worth scoring for a topic: those with a passage among the topic's best
    within the new articles (one search, instead of one answer per new article)."""
    if len(article_ids) <= retriever.top_k:
        return sorted(article_ids)
    ranking = retriever.rank(words, retriever.mode, retriever.top_k, within=retriever.chunks_of(article_ids))
    return list(dict.fromkeys(h.article.id for h in ranking.hits))


def match_topic(retriever: Retriever, words: str, article_ids: Collection[str], threshold: float) -> list[TopicMatch]:
    """The new articles matching ``words`` at ``threshold`` or above, best first."""
    found = []
    for article_id in candidates(retriever, words, article_ids):
        answer = topic_answer(retriever, words, article_id)
        if answer.confidence >= threshold and answer.citations:
            found.append(TopicMatch(words, article_id, answer.confidence, answer.citations[0]))
    return sorted(found, key=lambda m: -m.score)


def match_topics(
    retriever: Retriever, topics: Sequence[str], article_ids: Collection[str], threshold: float
) -> dict[str, list[TopicMatch]]:
    """Each distinct topic's matches (topics followed by several chats are scored once)."""
    if not article_ids:
        return {}
    return {words: match_topic(retriever, words, article_ids, threshold) for words in dict.fromkeys(topics)}
