"""Word-level helpers shared by lexical scoring and answer extraction."""

from __future__ import annotations

import re

from bm25s.stopwords import STOPWORDS_EN

_WORD = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)

# Lucene's English stop words, plus the words every question has and no answer needs.
STOPWORDS = frozenset(STOPWORDS_EN) | {
    "what",
    "when",
    "where",
    "who",
    "whom",
    "whose",
    "which",
    "why",
    "how",
    "many",
    "much",
    "does",
    "did",
    "do",
    "is",
    "are",
    "was",
    "were",
    "has",
    "have",
    "had",
    "been",
    "being",
    "can",
    "could",
    "would",
    "should",
    "will",
    "shall",
    "may",
    "might",
    "about",
    "from",
    "he",
    "she",
    "his",
    "her",
    "its",
    "their",
    "they",
    "them",
    "we",
    "you",
    "i",
    "me",
    "my",
    "our",
    "your",
    "than",
    "so",
    "also",
    "any",
    "some",
    "one",
    "tell",
    "say",
    "said",
    "says",
}


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS]


def overlap(question_terms: set[str], text: str) -> float:
    """Share of the question's content words that ``text`` contains (prefix match for inflections)."""
    if not question_terms:
        return 0.0
    present = set(words(text))
    stems = {w[:5] for w in present if len(w) > 4}
    found = sum(1 for term in question_terms if term in present or (len(term) > 4 and term[:5] in stems))
    return found / len(question_terms)


_NOT_WORD = re.compile(r"[^\w\s]", re.UNICODE)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize(text: str) -> str:
    """SQuAD-style answer normalisation: lower case, no punctuation or articles, single spaces."""
    text = _NOT_WORD.sub(" ", text.lower().replace("’", "'"))
    return " ".join(_ARTICLES.sub(" ", text).split())
