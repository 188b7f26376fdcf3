"""Word-level helpers shared by lexical scoring and answer extraction."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

from newsbot.index.bm25 import STOPWORDS_EN, TOKEN

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


_stemmer = Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """The words BM25 indexes (its token pattern), lower case: a stem here is a stem there."""
    return TOKEN.findall(text.lower())


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """The English Snowball stem BM25 uses too: one notion of a word across the code base."""
    return _stemmer.stemWord(word)


def stems(text: str) -> set[str]:
    """The stems of a text's content words."""
    return {stem(w) for w in words(text) if w not in STOPWORDS}


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS]


def overlap(question_terms: set[str], text: str) -> float:
    """Share of the question's content words whose stem ``text`` contains."""
    if not question_terms:
        return 0.0
    present = stems(text)
    return sum(1 for term in question_terms if stem(term) in present) / len(question_terms)


_NOT_WORD = re.compile(r"[^\w\s]", re.UNICODE)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize(text: str) -> str:
    """SQuAD-style answer normalisation: lower case, no punctuation or articles, single spaces."""
    text = _NOT_WORD.sub(" ", text.lower().replace("’", "'"))
    return " ".join(_ARTICLES.sub(" ", text).split())
