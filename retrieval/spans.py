"""The short answer inside an excerpt: the date, number, name or place the question asks for.

No extractive reader model installs offline (they all download weights), so these are rules:
find the candidates of the asked-for kind, drop those the question already names, and take the
one nearest the question's own words in the sentence (answers sit beside what the question
restates). When no candidate fits, there is no short answer and the excerpt is the answer.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from newsbot.retrieval.text import STOPWORDS, words

DATE, NUMBER, PERSON, PLACE = "date", "number", "person", "place"

_TYPE_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        DATE,
        re.compile(
            r"^\s*when\b|\b(what|which|in what)\s+(year|date|day|month|decade|century|time)\b|"
            r"\bhow long ago\b|\bsince when\b",
            re.I,
        ),
    ),
    (
        NUMBER,
        re.compile(
            r"\bhow\s+(many|much|long|old|far|big|large|tall|high|often|fast)\b|"
            r"\b(what|which)\s+(number|percentage|percent|amount|proportion|share|rate|price|cost)\b",
            re.I,
        ),
    ),
    (
        PERSON,
        re.compile(
            r"^\s*(who|whom|whose)\b|\bwho\s+(is|was|were|are|did|does|will)\b|"
            r"\b(which|what)\s+(person|president|minister|leader|official|man|woman|player|"
            r"scientist|author|company|organi[sz]ation|team)\b",
            re.I,
        ),
    ),
    (
        PLACE,
        re.compile(
            r"^\s*where\b|\bwhere\s+(is|was|were|are|did|does|will)\b|"
            r"\b(which|what)\s+(country|city|town|place|region|state|location|capital|continent)\b",
            re.I,
        ),
    ),
]

_MONTH_NAMES = [m for m in calendar.month_name if m] + [m for m in calendar.month_abbr if m]
_MONTH = r"(?:" + "|".join(sorted(_MONTH_NAMES, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
# A day, or a range of days ("14-15", "14 to 15", "14 and 15"): a range is one answer, not two.
_DAY = r"\d{1,2}(?:st|nd|rd|th)?(?:\s*(?:[-–]|to|and|until)\s*\d{1,2}(?:st|nd|rd|th)?)?"
_DATE_RE = re.compile(
    rf"\b(?:(?:{_WEEKDAY},?\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?"
    rf"|{_MONTH}\s+{_DAY}(?:,?\s+\d{{4}})?"
    rf"|{_MONTH}\s+\d{{4}}"
    rf"|\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|(?:the\s+)?(?:1[0-9]|20)\d0s"
    rf"|(?:1[0-9]|20)\d\d(?:\s*[-–]\s*(?:1[0-9]|20)?\d\d)?"
    rf"|{_WEEKDAY}|{_MONTH}"
    rf"|(?:yesterday|today|tomorrow|tonight)"
    rf"|(?:the\s+)?(?:\d{{1,2}}(?:st|nd|rd|th)|\w+teenth|first|second|third)\s+century)\b"
)
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
    "hundred|dozen|dozens|hundreds|thousands|millions|half"
)
_SCALE = r"(?:\s+(?:hundred|thousand|million|billion|trillion|bn|m))?"
_UNIT = (
    r"(?:\s*(?:%|percent|per\s+cent|per\s+cent\.|years?|months?|weeks?|days?|hours?|minutes?|seconds?|"
    r"km|kilometres|kilometers|miles|metres|meters|feet|kg|tonnes|tons|people|points|times))?"
)
_NUMBER_RE = re.compile(
    rf"(?:[$€£¥]\s?)?\b(?:\d[\d,]*(?:\.\d+)?|(?:{_NUMBER_WORDS})(?:[-\s](?:{_NUMBER_WORDS}))*){_SCALE}{_UNIT}\b"
    r"(?:\s*%)?",
    re.I,
)
# A name: capitalised words, allowing particles (de, van, bin) and initials inside.
_NAME_RE = re.compile(
    r"\b[A-Z][\w’'\-]*\.?(?:\s+(?:(?:de|da|del|der|van|von|bin|al|la|le|of|the)\s+)?[A-Z][\w’'\-]*\.?)*"
)
_NOT_NAMES = (
    frozenset(w.lower() for w in _MONTH_NAMES)
    | {
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    }
    | STOPWORDS
)


@dataclass(frozen=True, slots=True)
class Span:
    """Offsets of the short answer inside the text it was found in."""

    start: int
    end: int
    kind: str


def answer_type(question: str) -> str | None:
    """date, number, person or place when the question asks for one, else None."""
    for kind, rule in _TYPE_RULES:
        if rule.search(question):
            return kind
    return None


def _candidates(text: str, kind: str) -> list[tuple[int, int]]:
    if kind == DATE:
        return [m.span() for m in _DATE_RE.finditer(text)]
    if kind == NUMBER:
        return [m.span() for m in _NUMBER_RE.finditer(text) if any(ch.isalnum() for ch in m.group(0))]
    spans = []
    for m in _NAME_RE.finditer(text):
        start, end = m.span()
        name = m.group(0).rstrip(".")
        end = start + len(name)
        tokens = [t.lower() for t in words(name)]
        while tokens and tokens[0] in _NOT_NAMES:  # "The", "In" at the start of a sentence
            first = re.match(r"\S+\s*", text[start:end])
            start += first.end() if first else len(name)
            tokens = tokens[1:]
        if tokens and start < end:
            spans.append((start, end))
    return spans


def _after_preposition(text: str, start: int) -> bool:
    return (
        re.search(r"\b(in|at|from|to|near|into|across|outside|inside|of)\s+$", text[max(0, start - 12) : start], re.I)
        is not None
    )


def find_span(question: str, text: str, kind: str | None) -> Span | None:
    """The best candidate of ``kind`` in ``text``, or None when there is none the question lacks."""
    if kind is None:
        return None
    asked = {w for w in words(question) if w not in STOPWORDS}
    anchors = [m.start() for m in re.finditer(r"\w+", text) if m.group(0).lower() in asked]
    fresh = []
    for start, end in _candidates(text, kind):
        tokens = [t for t in words(text[start:end]) if t not in STOPWORDS]
        if tokens and not all(t in asked for t in tokens):  # named in the question: not the answer
            fresh.append((start, end))
    if kind == PLACE:
        # Places mostly follow a preposition; prefer those, but keep any name when none does.
        fresh = [s for s in fresh if _after_preposition(text, s[0])] or fresh
    best: tuple[float, int, int] | None = None
    for start, end in fresh:
        score = -min((abs(a - start) for a in anchors), default=len(text))
        if best is None or score > best[0]:
            best = (score, start, end)
    if best is None:
        return None
    start, end = best[1], best[2]
    while end > start and text[end - 1] in " ,;:.":
        end -= 1
    return Span(start, end, kind)
