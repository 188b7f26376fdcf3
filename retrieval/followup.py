"""Follow-up questions resolved against the last turn: "what about Germany?", "and when does he go?".

Rules rather than a model: a follow-up either names a replacement ("what about X?") for the last
question's final entity, or leans on a pronoun. A pronoun is replaced only by a name of its kind,
as the index's entities label the last answer's excerpts: "he" by a person, "it" or "they" by an
organisation, country or group, never by a person ("how much did it cost?" is not about Scholz).
When no name fits, the last question's names go along in brackets to keep the search on topic.
A question that names its own entities stands alone and is left as asked.
"""

from __future__ import annotations

import re

from newsbot.retrieval.records import Answer
from newsbot.retrieval.spans import PERSON, PLACE

_ABOUT = re.compile(r"^\s*(?:and|but|so)?\s*(?:what|how)\s+about\s+(?P<x>.+?)\s*[?.!]*\s*$", re.I)
_AND = re.compile(r"^\s*(?:and|also|but|so)\s+(?P<rest>.+)$", re.I)
_ENTITY = re.compile(r"\b[A-Z][\w’'\-]*(?:\s+(?:of\s+|de\s+|van\s+|von\s+)?[A-Z][\w’'\-]*)*")
_PERSONAL = re.compile(r"\b(he|she|him|his|her|hers)\b", re.I)
_THING = re.compile(r"\b(they|them|their|it|its)\b", re.I)
_THERE = re.compile(r"\bthere\b", re.I)
# A name right after one of these is a place, whatever the entity model says: the small model
# tags "Kyiv" as a person now and then, and "what happened in Kyiv?" must not make "he" Kyiv.
_AT_PLACE = re.compile(r"\b(?:in|at|near|inside|outside|across)\s+$", re.I)
_QUESTION_WORDS = frozenset(
    [
        "what",
        "when",
        "where",
        "who",
        "whom",
        "whose",
        "which",
        "why",
        "how",
        "is",
        "are",
        "was",
        "were",
        "do",
        "does",
        "did",
        "can",
        "could",
        "will",
        "would",
        "should",
        "and",
        "but",
        "so",
        "also",
        "the",
        "a",
        "an",
        "in",
        "on",
        "at",
        "i",
    ]
)


def entities(text: str) -> list[tuple[int, int]]:
    """Capitalised names in ``text`` (offsets), not counting a capitalised first question word."""
    found = []
    for m in _ENTITY.finditer(text):
        start, end = m.span()
        first = m.group(0).split()[0]
        if first.lower() in _QUESTION_WORDS:
            rest = m.group(0)[len(first) :].lstrip()
            if not rest:
                continue
            start = end - len(rest)
        found.append((start, end))
    return found


_PEOPLE = frozenset({"PERSON"})
_PLACES = frozenset({"GPE", "LOC", "FAC"})
# "it" and "they" stand for organisations, groups and named things; countries are left out, since
# the small model often tags a surname as one.
_THINGS = frozenset({"ORG", "NORP", "EVENT", "PRODUCT", "LAW", "WORK_OF_ART"})


def _of_kind(names: list[str], last: Answer, labels: frozenset[str]) -> str | None:
    """The first name whose label in the last answer's excerpts is one of ``labels``."""
    for name in names:
        words = name.lower().split()
        for m in last.mentions:
            if m.label in labels and all(w in m.text.lower().split() for w in words):
                return name
    return None


def _names(answer: Answer) -> str:
    return answer.resolved_question or answer.question


def resolve_followup(question: str, history: list[Answer]) -> str:
    """The question as it would be asked alone, given the turns before it (oldest first)."""
    if not history:
        return question
    last = history[-1]
    before = _names(last)
    previous = entities(before)
    about = _ABOUT.match(question)
    if about:
        replacement = about.group("x")
        if not previous:
            return f"{before.rstrip(' ?')} {replacement}?"
        start, end = previous[-1]
        return before[:start] + replacement + before[end:]
    m = _AND.match(question)
    rest = m.group("rest") if m else question
    if not previous:
        return question
    names = [before[s:e] for s, e in previous]
    # A "who" or "where" answer names what the next question's "he" or "there" means.
    # The bold short answer (a bare answer when the turn carries no citations, as in a test).
    short = last.short_answer if last.citations else last.answer
    # "he" is a person: when the last answer's entities say what its names are, only a name they
    # call a person will do; without them (no entities stored) the first name is the best guess.
    people = [before[s:e] for s, e in previous if not _AT_PLACE.search(before[:s])]
    guess = None if last.mentions else names[0]
    person = short if short and last.answer_type == PERSON else _of_kind(people, last, _PEOPLE) or guess
    place = short if short and last.answer_type == PLACE else _of_kind(names[::-1], last, _PLACES) or names[-1]
    thing = _of_kind(names, last, _THINGS)
    if thing is not None and _of_kind([thing], last, _PEOPLE):
        thing = None  # a name also tagged as a person is never "it"
    resolved = rest
    if person is not None:
        resolved = _PERSONAL.sub(lambda p: f"{person}'s" if p.group(1).lower() in ("his", "hers") else person, resolved)
    if place is not None:
        resolved = _THERE.sub(f"in {place}", resolved)
    if thing is not None and not entities(rest):
        resolved = _THING.sub(lambda p: f"{thing}'s" if p.group(1).lower() in ("their", "its") else thing, resolved)
    if resolved != rest or entities(rest):
        return resolved
    if _THING.search(rest) or _PERSONAL.search(rest):
        # A pronoun no name of its kind fits: the last question's names keep the search on topic.
        return f"{rest.rstrip(' ?')} ({', '.join(names)})?"
    if m or len(rest.split()) <= 3:
        # No pronoun to replace: a bare "and when?" borrows the last question's names.
        borrowed = ", ".join(before[s:e] for s, e in previous)
        return f"{rest.rstrip(' ?')} ({borrowed})?"
    return question
